"""The "Needs you" list: one card per typed entry (``services.needs_you``).

Every card shows its title, detail, since when and a link; a kind with controls of its own adds
them here by ``kind`` (the program's question: the question and the answer box on the card, so
answering takes one action; an expired invitation: "Send a new invitation"; time-limited access
ending soon: "Extend access"; an idle person: "Still needed" and "Remove access of …"; a roster
review: the link to it). A kind this module does not know still shows as the plain card.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.services.needs_you import NeedsYouKind
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.form_field import ERROR_STYLE, INPUT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.tracker import ANSWER_PREFIX

_CARD = {"border": f"1px solid {theme.BORDER}", "border_left": f"6px solid {theme.ERROR}",
         "border_radius": "0.3rem", "padding": "0.8rem 1rem", "margin_bottom": "0.9rem",
         "background": "white", "list_style": "none"}


def _answer_form(entry: rx.Var, *, on_answer, problem: rx.Var, problem_number: rx.Var,
                 form_key: rx.Var) -> rx.Component:
    number = entry["number"].to(str)
    field = ANSWER_PREFIX + number
    error_id = field + "-error"
    has_problem = (problem_number == number) & (problem != "")
    return rx.el.form(
        rx.cond(has_problem, rx.el.div(
            rx.el.h4("There is a problem", style={"margin": "0 0 0.25rem", "font_size": "1.05rem"}),
            rx.el.a(problem, href="#" + field, style={"color": theme.ERROR, "font_weight": "700"},
                    # The single-page router would swallow the "#id" jump: move focus ourselves.
                    on_click=[rx.prevent_default,
                              rx.call_script("document.getElementById('" + field + "').focus()")]),
            role="alert",
            style={"border": f"3px solid {theme.ERROR}", "padding": "0.5rem 0.75rem",
                   "margin": "0 0 0.6rem"},
        )),
        rx.el.input(type="hidden", name="number", value=number),
        rx.el.label("Your answer to the program", html_for=field, style=LABEL_STYLE),
        rx.cond(has_problem, rx.el.p(rx.el.span("Error: ", class_name="visually-hidden"), problem,
                                     id=error_id, style=ERROR_STYLE)),
        rx.el.textarea(
            id=field, name="answer", rows=3, max_length=2000,
            aria_invalid=rx.cond(has_problem, "true", "false"),
            aria_describedby=rx.cond(has_problem, error_id, ""),
            style={**INPUT_STYLE, "border": rx.cond(has_problem, f"3px solid {theme.ERROR}",
                                                     f"2px solid {theme.INK}")},
        ),
        rx.el.div(
            rx.el.button("Send answer", type="submit", class_name="portal-button",
                         aria_label="Send answer on request " + number),
            style={"margin_top": "0.5rem"},
        ),
        on_submit=on_answer,
        reset_on_submit=False,
        key=form_key.to(str) + number,
        style={"display": "grid", "gap": "0.3rem", "margin_top": "0.6rem", "max_width": "40rem"},
    )


def needs_you_card(entry: rx.Var, *, on_answer, on_resend, problem: rx.Var, problem_number: rx.Var,
                   form_key: rx.Var, on_extend=None, on_confirm_idle=None) -> rx.Component:
    kind = entry["kind"].to(str)
    number = entry["number"].to(str)
    return rx.el.li(
        rx.el.h3(entry["title"], style={"font_size": "1.15rem", "margin": "0 0 0.3rem"}),
        rx.el.p(entry["detail"], style={"margin": "0 0 0.3rem"}),
        rx.el.p("Waiting on you since ", entry["since"], style={"color": theme.MUTED, "margin": "0"}),
        rx.cond(kind == NeedsYouKind.QUESTION.value, rx.fragment(
            rx.el.div(
                rx.el.p(rx.el.strong(entry["asked_by"], " asked:"), style={"margin": "0"}),
                rx.el.p(entry["question"], style={"margin": "0.2rem 0 0", "white_space": "pre-wrap"}),
                style={"margin": "0.6rem 0 0", "padding": "0.5rem 0.75rem",
                       "background": theme.WARNING_BG},
            ),
            rx.cond(entry["can_answer"].to(bool), _answer_form(
                entry, on_answer=on_answer, problem=problem, problem_number=problem_number,
                form_key=form_key)),
        )),
        rx.el.div(
            rx.cond(entry["can_resend"].to(bool), rx.el.button(
                "Send a new invitation", type="button", on_click=on_resend(number),
                class_name="portal-button", aria_label="Send a new invitation for request " + number)),
            *([rx.cond(entry["can_extend"].to(bool), rx.el.button(
                "Extend access", type="button", on_click=on_extend(entry["key"].to(str)),
                class_name="portal-button", aria_label="Extend access of " + entry["person"].to(str)))]
              if on_extend is not None else []),
            *([rx.cond(entry["can_confirm"].to(bool), rx.el.button(
                "Still needed", type="button", on_click=on_confirm_idle(entry["key"].to(str)),
                class_name="portal-button",
                aria_label="Still needed: " + entry["person"].to(str) + " still needs imMTrax access"))]
              if on_confirm_idle is not None else []),
            rx.cond(entry["remove_href"] != "", rx.el.a(entry["remove_text"], href=entry["remove_href"])),
            rx.cond(entry["href"] != "", rx.el.a(entry["link_text"], href=entry["href"])),
            style={"display": "flex", "gap": "0.6rem 1rem", "flex_wrap": "wrap", "align_items": "center",
                   "margin_top": "0.6rem"},
        ),
        data_kind=kind,
        data_number=number,
        key=entry["key"].to(str),
        style=_CARD,
    )


def needs_you_list(rows: rx.Var, **card) -> rx.Component:
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.ul(rx.foreach(rows, lambda entry: needs_you_card(entry, **card)),
                 aria_label="Things waiting on you", style={"padding": "0", "margin": "0"}),
        rx.el.p("Nothing is waiting on you right now.", style={"color": theme.MUTED}),
    )
