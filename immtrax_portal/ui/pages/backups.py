"""Backups while away (/backups): name who stands in for you, and see whom you stand in for."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.permissions import MAX_COVER_DAYS
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import (
    ERROR_STYLE,
    HINT_STYLE,
    INPUT_STYLE,
    LABEL_STYLE,
    field_id,
)
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.pages.staff_queue import staff_nav
from immtrax_portal.ui.state.backups import BackupsState, StaffBackupsState

FIELDS = (("delegate_id", "backup"), ("starts_on", "starts_on"), ("ends_on", "ends_on"))


def _error(S, name: str) -> rx.Var:
    return S.errors.get(name, "").to(str)


def _labelled(S, name: str, label: str, control_id: str, control: rx.Component,
              hint: str = "") -> rx.Component:
    error = _error(S, name)
    return rx.el.div(
        rx.el.label(label, html_for=control_id, style=LABEL_STYLE),
        rx.el.p(hint, id=f"{control_id}-hint", style=HINT_STYLE) if hint else rx.fragment(),
        rx.cond(
            error != "",
            rx.el.p(
                rx.el.span("Error: ", class_name="visually-hidden"),
                error,
                id=f"{control_id}-error",
                style=ERROR_STYLE,
            ),
        ),
        control,
        style={
            "display": "grid",
            "gap": "0.3rem",
            "margin": "0 0 1.1rem",
            "max_width": "28rem",
            "border_left": rx.cond(error != "", f"5px solid {theme.ERROR}", "5px solid transparent"),
            "padding_left": "0.75rem",
        },
    )


def _control_props(S, name: str, control_id: str, hint: bool = False) -> dict:
    error = _error(S, name)
    described = f"{control_id}-hint " if hint else ""
    return dict(
        id=control_id,
        key=S.form_revision.to_string(),
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=rx.cond(error != "", f"{described}{control_id}-error", described.strip()),
        style={
            **INPUT_STYLE,
            "border": rx.cond(error != "", f"3px solid {theme.ERROR}", f"2px solid {theme.INK}"),
        },
    )


def _form(S, staff: bool) -> rx.Component:
    backup_id, start_id, end_id = field_id("backup"), field_id("starts_on"), field_id("ends_on")
    return section(
        "Name a backup",
        rx.el.p(
            "While you are away, your backup sees the requests assigned to you under \"Mine\" in the queue, "
            "works them, and gets your clock notices. Every action shows both your names in the request's "
            "history. It does not pass on further, and it ends by itself after the last day."
            if staff
            else "While you are away, your backup can answer the program's questions, resend invitations and "
            "cancel your open requests, and gets copies of the notices about them. Every action shows both "
            "your names in the request's history. It ends by itself after the last day.",
            style=HINT_STYLE,
        ),
        rx.cond(
            S.choices.length() == 0,
            rx.el.p(
                "There is no other member of program staff to name."
                if staff
                else "Nobody else supervises your organization yet, so there is no one to name. Ask the "
                "program to register another supervisor."
            ),
            rx.el.form(
                error_summary([(name, field_id(target)) for name, target in FIELDS], S.errors),
                _labelled(
                    S,
                    "delegate_id",
                    "Your backup",
                    backup_id,
                    rx.el.select(
                        rx.el.option("Choose a colleague" if staff else "Choose a supervisor", value=""),
                        rx.foreach(S.choices, lambda c: rx.el.option(c["label"], value=c["value"])),
                        name="backup",
                        default_value="",
                        **_control_props(S, "delegate_id", backup_id),
                    ),
                ),
                rx.el.div(
                    _labelled(
                        S,
                        "starts_on",
                        "First day away",
                        start_id,
                        rx.el.input(
                            type="date",
                            name="starts_on",
                            min=S.today,
                            default_value="",
                            **_control_props(S, "starts_on", start_id),
                        ),
                    ),
                    _labelled(
                        S,
                        "ends_on",
                        "Last day away",
                        end_id,
                        rx.el.input(
                            type="date",
                            name="ends_on",
                            min=S.today,
                            default_value="",
                            **_control_props(S, "ends_on", end_id, hint=True),
                        ),
                        hint=f"At most {MAX_COVER_DAYS} days.",
                    ),
                    style={
                        "display": "flex",
                        "flex_wrap": "wrap",
                        "gap": "0 1.5rem",
                        "align_items": "flex-end",
                    },
                ),
                rx.el.button("Name this backup", type="submit", class_name="portal-button"),
                on_submit=S.save,
                no_validate=True,
            ),
        ),
        id="backups-form",
    )


def _list(S, title: str, rows: rx.Var, empty: str, *, can_end: bool) -> rx.Component:
    return section(
        title,
        rx.cond(
            rows.length() == 0,
            rx.el.p(empty, style=HINT_STYLE),
            rx.el.ul(
                rx.foreach(
                    rows,
                    lambda r: rx.el.li(
                        rx.el.strong(r["who"]),
                        rx.cond(r["organization"] != "", rx.fragment(" at ", r["organization"])),
                        ": ",
                        r["days"],
                        " (",
                        r["state"],
                        ")",
                        rx.el.button(
                            "End now",
                            type="button",
                            class_name="portal-button secondary",
                            aria_label="End now: the backup of " + r["who"] + ", " + r["days"],
                            on_click=S.end(r["id"]),
                            style={"margin_left": "0.75rem"},
                        )
                        if can_end
                        else rx.fragment(),
                        style={"margin": "0 0 0.75rem", "line_height": "2.6"},
                    ),
                ),
                style={"padding_left": "1.25rem"},
            ),
        ),
    )


def _covered(S, staff: bool) -> rx.Component:
    return rx.cond(
        S.covered_requests.length() > 0,
        section(
            "Assigned requests you look after now" if staff else "Open requests you look after now",
            rx.el.ul(
                rx.foreach(
                    S.covered_requests,
                    lambda r: rx.el.li(
                        rx.el.a(r["number"], href=routes.REQUEST + "?number=" + r["number"]),
                        ": ",
                        r["type_label"],
                        " for ",
                        r["person"],
                        " (",
                        r["status_label"],
                        "), for ",
                        r["for"],
                        style={"margin": "0 0 0.4rem"},
                    ),
                ),
                style={"padding_left": "1.25rem"},
            ),
            id="backups-covered",
        ),
    )


def backups_page() -> rx.Component:
    """Supervisors: a backup for their requests at one organization."""
    return _page(BackupsState, staff=False)


def staff_backups_page() -> rx.Component:
    """Program staff (/staff/backups): a colleague who works their assigned requests while away."""
    return _page(StaffBackupsState, staff=True)


def _page(S, *, staff: bool) -> rx.Component:
    return page_frame(
        staff_nav() if staff else rx.fragment(),
        rx.el.h1(
            "Your backup while you are away" if staff else "Backups while you are away",
            style={
                "font_size": "clamp(1.6rem, 5vw, 2.2rem)",
                "color": theme.NAVY,
                "margin": "0.25rem 0 1rem",
            },
        ),
        rx.el.p(rx.el.a("Back to the request queue", href=routes.STAFF_QUEUE) if staff
                else rx.el.a("Back to your dashboard", href=routes.DASHBOARD)),
        rx.el.div(
            rx.cond(S.problem != "", notice(rx.el.p(S.problem, style={"margin": "0"}), role="alert")),
            rx.cond(S.message != "", notice(rx.el.p(S.message, style={"margin": "0"}), tone="info")),
            id="backups-message",
            tab_index=-1,
            role="status",
        ),
        _covered(S, staff),
        _form(S, staff),
        _list(S, "Backups you named", S.named, "You have named no backup.", can_end=True),
        _list(S, "People you stand in for", S.covering, "Nobody has named you as their backup.",
              can_end=True),
        header_actions=(account_actions(),),
    )
