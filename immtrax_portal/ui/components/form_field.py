"""Form controls that meet WCAG 2.1 AA by construction, for the wizard and every later form.

Each control has a visible ``<label for>``, an optional hint, and an error shown right next to it
that screen readers hear with the control (``aria-describedby``, ``aria-invalid``). Text inputs
are debounced: the server hears a pause in typing, a blur or Enter, not every keystroke.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import theme

FIELD_STYLE = {"display": "grid", "gap": "0.3rem", "margin": "0 0 1.25rem", "max_width": "36rem"}
LABEL_STYLE = {"font_weight": "700", "font_size": "1.05rem"}
HINT_STYLE = {"color": theme.MUTED, "margin": "0", "font_size": "0.98rem"}
ERROR_STYLE = {"color": theme.ERROR, "font_weight": "700", "margin": "0"}
INPUT_STYLE = {
    "min_height": "44px", "padding": "0.5rem 0.65rem", "font_size": "1.05rem", "width": "100%",
    "max_width": "100%", "box_sizing": "border-box", "border": f"2px solid {theme.INK}",
    "border_radius": "0.2rem", "background": "white", "color": theme.INK, "font_family": "inherit",
}
CHOICE_STYLE = {
    "display": "flex", "gap": "0.7rem", "align_items": "flex-start", "min_height": "44px",
    "padding": "0.55rem 0.75rem", "border": f"1px solid {theme.BORDER}", "border_radius": "0.3rem",
    "background": "white", "cursor": "pointer", "box_sizing": "border-box",
}
RADIO_STYLE = {"width": "1.4rem", "height": "1.4rem", "margin": "0.1rem 0 0", "flex_shrink": "0",
               "accent_color": theme.BLUE, "cursor": "pointer"}


def field_id(name: str) -> str:
    """The DOM id of a field's control; error summaries link to it."""
    return f"field-{name.replace('_', '-')}"


def _described_by(name: str, hint: str, error: Var) -> Var | str:
    hint_id = f"{field_id(name)}-hint" if hint else ""
    error_id = f"{field_id(name)}-error"
    return rx.cond(error != "", f"{hint_id} {error_id}".strip(), hint_id)


def _field_style(error: Var) -> dict:
    """A red bar beside a field in error (a second cue besides the message's colour)."""
    return {**FIELD_STYLE,
            "border_left": rx.cond(error != "", f"5px solid {theme.ERROR}", "5px solid transparent"),
            "padding_left": "0.75rem", "margin_left": "calc(-0.75rem - 5px)"}


def _input_style(error: Var, width: str = "100%") -> dict:
    return {**INPUT_STYLE, "max_width": width,
            "border": rx.cond(error != "", f"3px solid {theme.ERROR}", f"2px solid {theme.INK}")}


def field_error(name: str, error: Var) -> rx.Component:
    """The message next to a field; "Error:" is spoken, the colour is not the only cue."""
    return rx.cond(
        error != "",
        rx.el.p(rx.el.span("Error: ", class_name="visually-hidden"), error,
                id=f"{field_id(name)}-error", style=ERROR_STYLE),
    )


def text_field(name: str, label: str, value: Var, on_change, error: Var, *, hint: str = "",
               input_type: str = "text", autocomplete: str = "off", width: str = "100%",
               required: bool = True, input_mode: str = "", revision: Var | None = None) -> rx.Component:
    """Label, hint, error and a debounced text input bound to ``value``. ``revision``: when it
    changes the input starts afresh from ``value`` (a form replaced from the server, e.g. by a newer
    draft), instead of keeping what was typed into it."""
    control = rx.el.input(
        id=field_id(name), name=name, type=input_type, value=value, on_change=on_change,
        auto_complete=autocomplete, required=required,
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=_described_by(name, hint, error),
        style=_input_style(error, width),
        **({"input_mode": input_mode} if input_mode else {}),
    )
    return rx.el.div(
        rx.el.label(label, html_for=field_id(name), style=LABEL_STYLE),
        rx.el.p(hint, id=f"{field_id(name)}-hint", style=HINT_STYLE) if hint else rx.fragment(),
        field_error(name, error),
        rx.debounce_input(control, debounce_timeout=300, force_notify_on_blur=True,
                          force_notify_by_enter=True, **_keyed(name, revision)),
        style=_field_style(error),
    )


def _keyed(name: str, revision: Var | None) -> dict:
    return {"key": f"{name}-" + revision.to_string()} if revision is not None else {}


def text_area(name: str, label: str, value: Var, on_change, error: Var, *, hint: str = "",
              required: bool = False, rows: int = 4, revision: Var | None = None) -> rx.Component:
    control = rx.el.textarea(
        id=field_id(name), name=name, value=value, on_change=on_change, rows=rows,
        required=required, aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=_described_by(name, hint, error),
        style={**_input_style(error), "min_height": "6rem", "resize": "vertical"},
    )
    return rx.el.div(
        rx.el.label(label, html_for=field_id(name), style=LABEL_STYLE),
        rx.el.p(hint, id=f"{field_id(name)}-hint", style=HINT_STYLE) if hint else rx.fragment(),
        field_error(name, error),
        rx.debounce_input(control, debounce_timeout=300, force_notify_on_blur=True,
                          **_keyed(name, revision)),
        style=_field_style(error),
    )


def error_of(errors: Var, name: str) -> Var:
    """The message for ``name`` in a ``{field: message}`` dict var, or ""."""
    return errors.get(name, "").to(str)


def _plain_control(tag, name: str, hint: str, default: Var, error: Var, revision: Var, style: dict,
                   field_width: str = "", **props) -> rx.Component:
    """Label, hint and error around an uncontrolled control, read from the submitted form;
    ``revision`` redraws it from ``default`` after a load or a failed submit."""
    return rx.el.div(
        rx.el.label(props.pop("label"), html_for=field_id(name), style=LABEL_STYLE),
        rx.el.p(hint, id=f"{field_id(name)}-hint", style=HINT_STYLE) if hint else rx.fragment(),
        field_error(name, error),
        tag(id=field_id(name), name=name, default_value=default, key=revision,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=_described_by(name, hint, error), style=style, **props),
        style={**_field_style(error), **({"max_width": field_width} if field_width else {})},
    )


def plain_field(name: str, label: str, default: Var | str, errors: Var, revision: Var, *, hint: str = "",
                input_type: str = "text", width: str = "100%", autocomplete: str = "off",
                input_mode: str = "") -> rx.Component:
    """``input_mode="numeric"`` with a text input: a phone's number keypad, without a number
    input's browser checks and spinner (the server checks, and says what is wrong in words)."""
    error = error_of(errors, name)
    return _plain_control(rx.el.input, name, hint, default, error, revision, _input_style(error, width),
                          label=label, type=input_type, auto_complete=autocomplete,
                          **({"input_mode": input_mode} if input_mode else {}))


def plain_text_area(name: str, label: str, default: Var | str, errors: Var, revision: Var, *,
                    hint: str = "", rows: int = 6, field_width: str = "") -> rx.Component:
    error = error_of(errors, name)
    return _plain_control(rx.el.textarea, name, hint, default, error, revision,
                          {**_input_style(error), "resize": "vertical", "line_height": "1.45"},
                          field_width, label=label, rows=rows)


def radio(radio_id: Var | str, group: str, value: Var | str, checked: Var, on_pick, revision: Var | int
          ) -> rx.Component:
    """A native radio button that shows a click at once (it is not held by the server's value).

    It starts from ``checked``; when the server changes the answer itself (a loaded draft, a
    recommended level), it bumps ``revision``, which redraws the button from the new value.
    """
    return rx.el.input(type="radio", id=radio_id, name=group, value=value, default_checked=checked,
                       key=revision, on_change=lambda _value: on_pick, style=RADIO_STYLE)


def choice(group: str, value: str, label: rx.Component | str, checked: Var, on_pick, *,
           revision: Var | int = 0, detail: rx.Component | str = "", style: dict | None = None
           ) -> rx.Component:
    """One radio button with its whole row as the click target (44px and up)."""
    radio_id = f"{field_id(group)}-{value.replace('_', '-')}"
    return rx.el.label(
        radio(radio_id, group, value, checked, on_pick, revision),
        rx.el.span(
            rx.el.span(label, style={"font_weight": "700", "display": "block"}),
            rx.el.span(detail, style={"display": "block", "color": theme.INK}) if detail else rx.fragment(),
        ),
        html_for=radio_id,
        style={**CHOICE_STYLE, **(style or {})},
    )


def choice_group(group: str, legend: str, choices: list[rx.Component], error: Var, *,
                 hint: str = "", columns: str = "", legend_size: str = "1.15rem") -> rx.Component:
    """A radio group in a fieldset whose legend asks the question; the error sits under it."""
    layout = ({"display": "grid", "gap": "0.75rem",
               "grid_template_columns": f"repeat(auto-fit, minmax(min({columns}, 100%), 1fr))"}
              if columns else {"display": "grid", "gap": "0.5rem", "max_width": "48rem"})
    return rx.el.fieldset(
        rx.el.legend(legend, style={"font_weight": "700", "font_size": legend_size,
                                    "padding": "0", "margin_bottom": "0.4rem"}),
        rx.el.p(hint, id=f"{field_id(group)}-hint", style=HINT_STYLE) if hint else rx.fragment(),
        field_error(group, error),
        rx.el.div(*choices, style=layout),
        aria_describedby=_described_by(group, hint, error),
        style={"border": "0", "padding": "0", "margin": "0 0 1.5rem", "min_width": "0"},
    )


def first_choice_id(group: str, first_value: str) -> str:
    """Where an error summary link for a radio group lands: its first radio button."""
    return f"{field_id(group)}-{first_value.replace('_', '-')}"
