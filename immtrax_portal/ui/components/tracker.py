"""A tracked request: its stages, whom it waits on and since when, and the viewer's actions.

Every state is said in words (a visually hidden "done" / "current stage" and the "Waiting on …"
sentence); the symbols and colours only repeat it.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.request_table import status_badge

_MARKS = {"done": ("✓", theme.SUCCESS), "current": ("●", theme.BLUE), "stopped": ("✕", theme.ERROR),
          "todo": ("○", theme.MUTED)}


def _stage(stage: rx.Var) -> rx.Component:
    mark = rx.match(stage["state"], *[(k, v[0]) for k, v in _MARKS.items()], "○")
    colour = rx.match(stage["state"], *[(k, v[1]) for k, v in _MARKS.items()], theme.MUTED)
    return rx.el.li(
        rx.el.span(mark, aria_hidden="true", style={"color": colour, "font_weight": "700",
                                                     "margin_right": "0.3rem"}),
        rx.el.span(stage["label"], style={"font_weight": rx.cond(stage["state"] == "current", "700", "400")}),
        rx.el.span(" (", stage["state_text"], ")", class_name="visually-hidden"),
        aria_current=rx.cond(stage["state"] == "current", "step", None),
        style={"display": "flex", "align_items": "center", "padding": "0.2rem 0.5rem",
               "border_bottom": rx.cond(stage["state"] == "current", f"3px solid {theme.BLUE}",
                                        "3px solid transparent")},
    )


def stage_tracker(row: rx.Var) -> rx.Component:
    return rx.el.ol(
        rx.foreach(row["stages"].to(list[dict[str, str]]), _stage),
        aria_label="Stages of request " + row["number"].to(str),
        style={"list_style": "none", "padding": "0", "margin": "0.5rem 0", "display": "flex",
               "flex_wrap": "wrap", "gap": "0.25rem 0.75rem"},
    )


ANSWER_PREFIX = "answer-"


def answer_field_id(number: str) -> str:
    """The id of the answer box on a "Needs you" card (the handler moves focus there)."""
    return ANSWER_PREFIX + number


def _button(text, on_click, label) -> rx.Component:
    return rx.el.button(text, type="button", on_click=on_click, aria_label=label,
                        class_name="portal-button secondary")


def tracked_request(row: rx.Var, *, on_resend=None, on_cancel=None) -> rx.Component:
    """One request as a list item. ``on_resend``/``on_cancel`` take the request number; without
    them (the applicant's view) no actions are shown."""
    number = row["number"].to(str)
    actions = []
    if on_resend is not None:
        actions.append(rx.cond(row["can_resend"].to(bool), _button(
            "Resend invitation", on_resend(number), "Resend invitation for request " + number)))
    if on_cancel is not None:
        actions.append(rx.cond(row["can_cancel"].to(bool), _button(
            "Cancel request", on_cancel(number), "Cancel request " + number)))
        actions.append(rx.cond(row["can_answer"].to(bool), rx.el.a(
            "Answer the question", href=f"{routes.REQUEST}?number=" + number + "#actions",
            class_name="portal-button", aria_label="Answer the question on request " + number)))
    return rx.el.li(
        rx.el.h3(
            rx.el.a(number, href=f"{routes.REQUEST}?number=" + number),
            " · ", row["type_label"], " for ", row["person"],
            style={"font_size": "1.1rem", "margin": "0 0 0.3rem"},
        ),
        rx.el.p(row["organization"], " · ", status_badge(row["status"], row["status_label"]),
                style={"margin": "0"}),
        stage_tracker(row),
        rx.el.p(
            rx.el.strong(row["waiting_text"]),
            rx.el.span(" · since ", row["since"], style={"color": theme.MUTED}),
            style={"margin": "0.25rem 0"},
            data_waiting_on=row["waiting_on"],
        ),
        rx.cond(row["typical"] != "", rx.el.p(row["typical"], class_name="tracker-typical",
                                              style={"margin": "0 0 0.25rem", "color": theme.MUTED})),
        rx.cond(row["question"] != "", rx.el.p(
            rx.el.strong("The program asks: "), row["question"],
            style={"margin": "0.4rem 0", "padding": "0.5rem 0.75rem", "background": theme.WARNING_BG}),
        ),
        rx.cond(row["rejection_reason"] != "", rx.el.p(
            rx.el.strong("Reason given: "), row["rejection_reason"], style={"margin": "0.4rem 0"})),
        rx.cond(row["invitation_note"] != "", rx.el.p(
            row["invitation_note"],
            style={"margin": "0.4rem 0", "padding": "0.5rem 0.75rem", "background": "#e7f6f8"})),
        *([rx.el.div(*actions, style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap",
                                       "margin_top": "0.5rem"})] if actions else []),
        data_number=number,
        data_status=row["status"],
        style={"border": f"1px solid {theme.BORDER}", "border_left": f"6px solid {theme.BLUE}",
               "border_radius": "0.3rem", "padding": "0.8rem 1rem", "margin_bottom": "0.9rem",
               "background": "white", "list_style": "none"},
    )


def tracked_list(label: str, rows: rx.Var, *, empty_text: str, **actions) -> rx.Component:
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.ul(rx.foreach(rows, lambda row: tracked_request(row, **actions)),
                 aria_label=label, style={"padding": "0", "margin": "0"}),
        rx.el.p(empty_text, style={"color": theme.MUTED}),
    )
