"""Admins grant and remove the program-staff role."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.state.staff_roles import StaffRolesState as S

_CELL = {"padding": "0.5rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}", "text_align": "left"}


def _add_form() -> rx.Component:
    return rx.el.form(
        rx.el.label("Work email of the person to make staff", html_for="staff-email",
                    style={"display": "block", "font_weight": "700"}),
        rx.cond(S.email_error != "",
                rx.el.p(S.email_error, id="staff-email-error", style={"color": theme.ERROR})),
        rx.el.input(id="staff-email", name="email", type="email", auto_complete="off",
                    aria_invalid=rx.cond(S.email_error != "", "true", "false"),
                    aria_describedby=rx.cond(S.email_error != "", "staff-email-error", ""),
                    style={"min_height": "44px", "padding": "0 0.6rem", "width": "min(28rem, 100%)",
                           "border": f"2px solid {theme.INK}", "border_radius": "0.25rem"}),
        rx.el.button("Add to staff", type="submit", class_name="portal-button",
                     style={"margin_left": "0.5rem"}),
        on_submit=S.add_staff,
        reset_on_submit=False,
        style={"margin": "1rem 0"},
    )


def staff_roles_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Program staff", style={"font_size": "2rem", "color": theme.NAVY}),
        rx.cond(S.message != "", notice(rx.el.p(S.message, style={"margin": "0"}), tone="info",
                                        role="status")),
        _add_form(),
        section(
            "Current staff",
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
                                     class_name="portal-button secondary",
                                     on_click=S.remove_staff(m["person_id"]),
                                     aria_label="Remove staff role from " + m["name"].to(str))),
                        style=_CELL),
                ))),
                style={"width": "100%", "border_collapse": "collapse", "min_width": "34rem"},
            ), class_name="table-scroll", tab_index=0, role="region", aria_label="Current staff"),
            id="staff",
        ),
        header_actions=(account_actions(),),
    )
