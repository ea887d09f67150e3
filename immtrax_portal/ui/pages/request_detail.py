"""A request's page: its fields, its history, and the actions the signed-in person may take."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.state.request_detail import RequestDetailState as S

_INPUT = {"min_height": "44px", "padding": "0.4rem 0.6rem", "width": "min(34rem, 100%)",
          "border": f"2px solid {theme.INK}", "border_radius": "0.25rem", "display": "block",
          "margin": "0.25rem 0 0.75rem"}


def _fields() -> rx.Component:
    return rx.el.dl(
        rx.foreach(S.fields, lambda f: rx.el.div(
            rx.el.dt(f["label"], style={"font_weight": "700"}),
            rx.el.dd(f["value"], style={"margin": "0 0 0.5rem"}),
        )),
        style={"display": "grid", "grid_template_columns": "repeat(auto-fit, minmax(min(14rem, 100%), 1fr))",
               "gap": "0.25rem 1.5rem"},
    )


def _action_form() -> rx.Component:
    chosen = rx.foreach(S.actions, lambda a: rx.cond(a["action"] == S.chosen, rx.el.form(
        rx.el.input(type="hidden", name="action", value=a["action"]),
        rx.cond(a["text_label"] != "", rx.fragment(
            rx.el.label(a["text_label"], html_for="action-text", style={"font_weight": "700"}),
            rx.el.textarea(id="action-text", name="text", rows=3, style=_INPUT),
        )),
        rx.cond(a["needs_username"] != "", rx.fragment(
            rx.el.label("imMTrax username", html_for="action-username", style={"font_weight": "700"}),
            rx.el.input(id="action-username", name="username", auto_complete="off", required=True,
                        style=_INPUT),
            rx.el.div(
                rx.el.input(type="checkbox", id="action-credentials-sent", name="credentials_sent",
                            required=True, aria_describedby="action-credentials-hint",
                            style={"width": "1.4rem", "height": "1.4rem", "margin": "0.1rem 0 0"}),
                rx.el.label(rx.el.strong("Login credentials sent"),
                            rx.el.span(" to the user, outside the portal", id="action-credentials-hint"),
                            html_for="action-credentials-sent"),
                style={"display": "flex", "gap": "0.6rem", "align_items": "flex-start",
                       "margin": "0 0 0.9rem", "min_height": "44px"},
            ),
        )),
        rx.el.button(a["label"], type="submit", class_name="portal-button"),
        on_submit=S.submit_action,
        reset_on_submit=True,
        aria_label=a["label"],
    )))
    return rx.el.div(
        rx.el.div(
            rx.foreach(S.actions, lambda a: rx.el.button(
                a["label"], type="button", on_click=S.choose(a["action"]),
                class_name=rx.cond(S.chosen == a["action"], "portal-button", "portal-button secondary"),
                aria_pressed=rx.cond(S.chosen == a["action"], "true", "false"),
            )),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap", "margin_bottom": "1rem"},
        ),
        chosen,
    )


def _timeline() -> rx.Component:
    return rx.el.ol(
        rx.foreach(S.timeline, lambda e: rx.el.li(
            rx.el.strong(e["what"]), " · ", e["who"], " · ", e["when"],
            rx.cond(e["move"] != "", rx.el.span(" · ", e["move"])),
            rx.cond(e["reason"] != "", rx.el.p(e["reason"], style={"margin": "0.2rem 0 0",
                                                                   "color": theme.MUTED})),
            style={"margin_bottom": "0.6rem"},
        )),
        style={"padding_left": "1.25rem"},
    )


def _notes() -> rx.Component:
    """Internal notes: rendered only for program staff, and filled only for them by the server."""
    return section(
        "Internal notes (program staff only)",
        rx.el.p("Supervisors and applicants never see these notes.", style={"color": theme.MUTED}),
        rx.cond(S.notes.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(S.notes, lambda n: rx.el.li(
                    rx.el.p(rx.el.strong(n["author"]), " · ", n["when"], style={"margin": "0"}),
                    rx.el.p(n["body"], style={"margin": "0.2rem 0 0", "white_space": "pre-wrap"}),
                    style={"margin_bottom": "0.75rem"},
                )), style={"list_style": "none", "padding": "0"}),
                rx.el.p("No notes yet.")),
        rx.cond(S.note_problem != "", notice(rx.el.p(S.note_problem, style={"margin": "0"}), role="alert")),
        rx.cond(S.note_message != "", rx.el.p(S.note_message, role="status", style={"font_weight": "700"})),
        rx.el.form(
            rx.el.label("Add an internal note", html_for="staff-note", style={"font_weight": "700"}),
            rx.el.textarea(id="staff-note", name="note", rows=3, max_length=2000, required=True,
                           style=_INPUT),
            rx.el.button("Save note", type="submit", class_name="portal-button"),
            on_submit=S.save_note,
            reset_on_submit=True,
            key=S.note_form_key,
            aria_label="Add an internal note",
        ),
        id="notes",
    )


def request_detail_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Request ", S.number, style={"font_size": "2rem", "color": theme.NAVY}),
        live_status(S),
        rx.cond(S.is_staff, rx.el.p(rx.el.a("Back to the request queue", href=routes.STAFF_QUEUE))),
        rx.cond(S.problem != "", notice(rx.el.p(S.problem, style={"margin": "0"}), role="alert")),
        rx.cond(S.done_message != "", notice(rx.el.p(S.done_message, style={"margin": "0"}),
                                             tone="info", role="status")),
        rx.cond(S.fields.length() > 0, rx.fragment(  # type: ignore[attr-defined]
            _fields(),
            rx.cond(S.actions.length() > 0, section("What you can do", _action_form(),  # type: ignore[attr-defined]
                                                    id="actions")),
            rx.cond(S.withheld != "", notice(rx.el.p(S.withheld, style={"margin": "0"}), tone="info",
                                             id="decisions-withheld")),
            section("History", _timeline(), id="history"),
            rx.cond(S.emails.length() > 0, section("Emails", rx.el.ul(  # type: ignore[attr-defined]
                rx.foreach(S.emails, lambda m: rx.el.li(m["when"], " · ", m["to"], " · ", m["subject"],
                                                        " · ", rx.el.strong(m["status"]),
                                                        rx.cond(m["detail"] != "",
                                                                rx.el.span(" (", m["detail"], ")"))))),
                id="emails")),
            rx.cond(S.is_staff, _notes()),
        )),
        header_actions=(account_actions(),),
    )
