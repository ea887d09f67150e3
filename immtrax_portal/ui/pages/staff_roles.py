"""Admins grant and remove the program-staff role."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.confirm import confirm_panel
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import field_error
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.state.staff_roles import CONFIRM_ID, EMAIL_SUMMARY_ID, STATUS_ID
from immtrax_portal.ui.state.staff_roles import StaffRolesState as S

_CELL = {"padding": "0.5rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}", "text_align": "left"}


def _add_form() -> rx.Component:
    return rx.el.form(
        error_summary([("email", "field-staff-email")], S.email_errors, summary_id=EMAIL_SUMMARY_ID,
                      title="Nobody was added to staff"),
        rx.el.label("Work email of the person to make staff", html_for="field-staff-email",
                    style={"display": "block", "font_weight": "700"}),
        field_error("staff_email", S.email_error),
        rx.el.div(
            rx.el.input(id="field-staff-email", name="email", type="email", auto_complete="off",
                        key=S.add_revision,
                        aria_invalid=rx.cond(S.email_error != "", "true", "false"),
                        aria_describedby=rx.cond(S.email_error != "", "field-staff-email-error", ""),
                        style={"min_height": "44px", "padding": "0 0.6rem", "width": "min(28rem, 100%)",
                               "border": rx.cond(S.email_error != "", f"3px solid {theme.ERROR}",
                                                 f"2px solid {theme.INK}"),
                               "border_radius": "0.25rem"}),
            rx.el.button("Add to staff", type="submit", class_name="portal-button"),
            style={"display": "flex", "gap": "0.5rem", "flex_wrap": "wrap", "align_items": "center"},
        ),
        on_submit=S.add_staff,
        reset_on_submit=False,
        no_validate=True,
        style={"margin": "1rem 0"},
    )


def _confirmation() -> rx.Component:
    return rx.cond(S.confirm_person_id > 0, confirm_panel(
        CONFIRM_ID, rx.Var.create("Remove the staff role from ") + S.confirm_name + "?",
        rx.Var.create("") + S.confirm_name + " (" + S.confirm_email + ") will no longer see the "
        "request queue, organizations, metrics or agreement versions, and cannot decide on requests. "
        "They can still sign in, and keep any supervisor links they have. An admin can add them "
        "again later.",
        "Yes, remove the staff role", S.remove_staff(S.confirm_person_id),
        "No, keep them as staff", S.keep_staff))


def staff_roles_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Program staff", style={"font_size": "2rem", "color": theme.NAVY}),
        rx.el.div(
            rx.cond(S.message != "", notice(rx.el.p(S.message, style={"margin": "0"}), tone="info")),
            id=STATUS_ID, role="status", tab_index=-1,
        ),
        _add_form(),
        section(
            "Current staff",
            _confirmation(),
            rx.el.div(rx.el.table(
                rx.el.caption(S.total, " people hold the staff role", class_name="visually-hidden"),
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=_CELL)
                                       for h in ("Name", "Email", "Role", "Action")])),
                rx.el.tbody(rx.foreach(S.staff, lambda m: rx.el.tr(
                    rx.el.td(m["name"], style=_CELL),
                    rx.el.td(m["email"], style=_CELL),
                    rx.el.td(rx.cond(m["is_admin"], "Admin", "Staff"), style=_CELL),
                    rx.el.td(rx.cond(
                        ~m["can_remove"].to(bool), "",
                        rx.el.button("Remove staff role", type="button",
                                     id="remove-staff-" + m["person_id"].to(str),
                                     class_name="portal-button secondary",
                                     on_click=S.ask_remove_staff(m["person_id"]),
                                     aria_label="Remove staff role from " + m["name"].to(str))),
                        style=_CELL),
                ))),
                style={"width": "100%", "border_collapse": "collapse", "min_width": "34rem"},
            ), class_name="table-scroll", tab_index=0, role="region", aria_label="Current staff"),
            id="staff",
        ),
        header_actions=(account_actions(),),
    )
