"""A request's page: its fields, its history, and the actions the signed-in person may take."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.confirm import confirm_panel
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import (
    error_of,
    field_error,
    field_id,
    plain_field,
    plain_text_area,
)
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.state.request_detail import (
    CONFIRM_ID,
    DONE_ID,
    NOTE_SUMMARY_ID,
    PROBLEM_ID,
    SUBMIT_ID,
    WHOLE_SHEET,
)
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


_ACTION_FIELDS = [("text", field_id("text")), ("username", field_id("username")),
                  ("credentials_sent", field_id("credentials_sent"))]


def _credentials_box() -> rx.Component:
    error = error_of(S.action_errors, "credentials_sent")
    box_id = field_id("credentials_sent")
    return rx.el.div(
        field_error("credentials_sent", error),
        rx.el.div(
            rx.el.input(type="checkbox", id=box_id, name="credentials_sent", key=S.action_revision,
                        aria_invalid=rx.cond(error != "", "true", "false"),
                        aria_describedby=rx.cond(error != "", f"{box_id}-hint {box_id}-error",
                                                 f"{box_id}-hint"),
                        style={"width": "1.4rem", "height": "1.4rem", "margin": "0.1rem 0 0"}),
            rx.el.label(rx.el.strong("Login credentials sent"),
                        rx.el.span(" to the user, outside the portal", id=f"{box_id}-hint"),
                        html_for=box_id),
            style={"display": "flex", "gap": "0.6rem", "align_items": "flex-start", "min_height": "44px"},
        ),
        style={"margin": "0 0 0.9rem", "padding_left": "0.75rem", "margin_left": "calc(-0.75rem - 5px)",
               "border_left": rx.cond(error != "", f"5px solid {theme.ERROR}", "5px solid transparent")},
    )


def _confirmation() -> rx.Component:
    return rx.cond(S.confirm_title != "", confirm_panel(
        CONFIRM_ID, S.confirm_title, S.confirm_body, S.confirm_yes, S.confirm_action,
        S.confirm_no, S.keep_editing))


def _action_form() -> rx.Component:
    chosen = rx.foreach(S.actions, lambda a: rx.cond(a["action"] == S.chosen, rx.fragment(rx.el.form(
        error_summary(_ACTION_FIELDS, S.action_errors, title="The action was not taken yet"),
        rx.el.input(type="hidden", name="action", value=a["action"]),
        rx.cond(a["text_label"] != "", plain_text_area(
            "text", a["text_label"], S.action_text, S.action_errors, S.action_revision, rows=3,
            field_width="36rem")),
        rx.cond(a["needs_username"] != "", rx.fragment(
            plain_field("username", "imMTrax username", S.action_username, S.action_errors,
                        S.action_revision, width="20rem"),
            _credentials_box(),
        )),
        rx.cond(S.confirm_title == "",
                rx.el.button(a["label"], type="submit", id=SUBMIT_ID, class_name="portal-button")),
        on_submit=S.submit_action,
        reset_on_submit=False,
        no_validate=True,
        aria_label=a["label"],
        id="action-form-" + a["action"].to(str),
    ), _confirmation())))
    return rx.el.div(
        rx.el.div(
            rx.foreach(S.actions, lambda a: rx.el.button(
                a["label"], type="button", on_click=S.choose(a["action"]),
                class_name=rx.cond(S.chosen == a["action"], "portal-button", "portal-button secondary"),
                # It opens the action's form below: say whether it is open, and which form.
                aria_expanded=rx.cond(S.chosen == a["action"], "true", "false"),
                aria_controls="action-form-" + a["action"].to(str),
            )),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap", "margin_bottom": "1rem"},
        ),
        chosen,
    )


def _timeline() -> rx.Component:
    return rx.el.ol(
        rx.foreach(S.timeline, lambda e: rx.el.li(
            rx.el.p(e["what"], style={"margin": "0", "white_space": "pre-wrap"}),
            rx.el.p(e["when"], rx.cond(e["status"] != "", rx.el.span(" · ", e["status"])),
                    style={"margin": "0.15rem 0 0", "color": theme.MUTED}),
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
        rx.cond(S.note_message != "", rx.el.p(S.note_message, role="status", style={"font_weight": "700"})),
        rx.el.form(
            error_summary([("note", "staff-note")], S.note_errors, summary_id=NOTE_SUMMARY_ID,
                          title="The note was not saved"),
            rx.el.label("Add an internal note", html_for="staff-note", style={"font_weight": "700"}),
            rx.cond(S.note_problem != "", rx.el.p(
                rx.el.span("Error: ", class_name="visually-hidden"), S.note_problem, id="staff-note-error",
                style={"color": theme.ERROR, "font_weight": "700", "margin": "0.25rem 0 0"})),
            rx.el.textarea(id="staff-note", name="note", rows=3, max_length=2000,
                           aria_invalid=rx.cond(S.note_problem != "", "true", "false"),
                           aria_describedby=rx.cond(S.note_problem != "", "staff-note-error", ""),
                           style={**_INPUT, "border": rx.cond(S.note_problem != "",
                                                              f"3px solid {theme.ERROR}", _INPUT["border"])}),
            rx.el.button("Save note", type="submit", class_name="portal-button"),
            on_submit=S.save_note,
            reset_on_submit=True,
            no_validate=True,
            key=S.note_form_key,
            aria_label="Add an internal note",
        ),
        id="notes",
    )


def _owner() -> rx.Component:
    """Program staff: who works this request, "Assign to me", and reassigning with a note."""
    return section(
        "Who works this request",
        rx.el.p(rx.el.strong("Owner: "), rx.cond(S.owner != "", S.owner, "nobody yet (unassigned)"),
                id="request-owner"),
        rx.cond(S.covering_for != "", rx.el.p(
            "You stand in for ", S.covering_for, " while they are away: you may work this request, and "
            "its history records both your names.", id="request-covering")),
        rx.cond(S.clock != "", rx.el.p(rx.el.strong("Program clock: "), S.clock, id="request-clock")),
        rx.cond(S.assign_problem != "",
                notice(rx.el.p(S.assign_problem, style={"margin": "0"}), role="alert")),
        rx.el.p(S.assign_message, role="status", aria_live="polite", style={"font_weight": "700"}),
        rx.cond(S.may_take, rx.el.button("Assign to me", type="button", on_click=S.assign_to_me,
                                         class_name="portal-button", style={"margin_bottom": "1rem"})),
        rx.cond(S.may_assign, rx.el.form(
            rx.el.label("Assign to", html_for="reassign-to", style={"font_weight": "700"}),
            rx.el.select(rx.foreach(S.staff_choices, lambda o: rx.el.option(o["label"], value=o["value"])),
                         id="reassign-to", name="assignee", style=_INPUT),
            rx.el.label("Note for the new owner (optional, staff only)", html_for="reassign-note",
                        style={"font_weight": "700"}),
            rx.el.textarea(id="reassign-note", name="note", rows=2, max_length=500, style=_INPUT),
            rx.el.button("Reassign", type="submit", class_name="portal-button secondary"),
            on_submit=S.reassign,
            key=S.assign_form_key,
            aria_label="Reassign this request",
        )),
        id="owner",
    )


_MONO = {"font_family": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", "font_size": "1.05rem",
         "overflow_wrap": "anywhere"}


def _worksheet() -> rx.Component:
    """Program staff: what to enter in imMTrax, in the registry screen's order, each with a copy
    button that says what it copies; a polite live message confirms the copy."""
    return section(
        "Provisioning worksheet",
        rx.el.p("Enter these in imMTrax in this order (the order of the registry's user screen).",
                style={"color": theme.MUTED}),
        rx.el.ol(
            rx.foreach(S.worksheet, lambda f: rx.el.li(
                rx.el.div(
                    rx.el.span(f["label"], style={"font_weight": "700", "display": "block"}),
                    rx.el.span(f["value"], style=_MONO, data_field=f["key"]),
                    style={"flex": "1 1 16rem", "min_width": "0"},
                ),
                rx.el.button("Copy ", f["label"], type="button",
                             on_click=[rx.set_clipboard(f["value"]), S.note_copied(f["label"])],
                             class_name="portal-button secondary"),
                style={"display": "flex", "flex_wrap": "wrap", "gap": "0.5rem 1rem", "align_items": "center",
                       "padding": "0.5rem 0", "border_bottom": f"1px solid {theme.BORDER}"},
            )),
            style={"list_style": "decimal", "padding_left": "1.5rem", "margin": "0 0 1rem"},
            id="worksheet-fields",
        ),
        rx.el.button("Copy the whole worksheet", type="button",
                     on_click=[rx.set_clipboard(S.worksheet_text), S.note_copied(WHOLE_SHEET)],
                     class_name="portal-button"),
        rx.el.p(S.copied_message, role="status", aria_live="polite", id="worksheet-copied",
                style={"font_weight": "700", "min_height": "1.5rem", "margin": "0.5rem 0 0"}),
        id="worksheet",
    )


def request_detail_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Request ", S.number, style={"font_size": "2rem", "color": theme.NAVY}),
        live_status(S),
        rx.cond(S.is_staff, rx.el.p(rx.el.a("Back to the request queue", href=routes.STAFF_QUEUE))),
        rx.cond(S.problem != "", notice(rx.el.p(S.problem, style={"margin": "0"}), role="alert",
                                        id=PROBLEM_ID, tab_index=-1)),
        rx.cond(S.done_message != "", notice(rx.el.p(S.done_message, style={"margin": "0"}),
                                             tone="info", role="status", id=DONE_ID, tab_index=-1)),
        rx.cond(S.fields.length() > 0, rx.fragment(  # type: ignore[attr-defined]
            _fields(),
            rx.cond(S.is_staff, _owner()),
            rx.cond(S.worksheet.length() > 0, _worksheet()),  # type: ignore[attr-defined]
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
