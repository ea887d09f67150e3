"""The signed-in home: supervisors' organization requests, one's own requests, staff's open queue."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import button_link, notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager, request_table
from immtrax_portal.ui.state.dashboard import DashboardState as D


def _supervisor_part() -> rx.Component:
    return section(
        "Your organizations' requests",
        rx.el.div(
            button_link("Start a new request", routes.WIZARD),
            style={"margin": "0.5rem 0 1rem"},
        ),
        request_table("Requests for the organizations you supervise", D.org_rows,
                      empty_text="No requests yet. Start one with the button above."),
        rx.cond(D.org_pages > 1, pager(D.org_page, D.org_pages, D.previous_org_page,
                                       D.next_org_page, "Organization requests pages")),
        id="org-requests",
    )


def _staff_part() -> rx.Component:
    return section(
        "Open requests (program queue)",
        rx.el.p(D.queue_total, " open requests.", style={"color": theme.MUTED}),
        request_table("Open requests across all organizations", D.queue_rows,
                      empty_text="The queue is empty."),
        rx.cond(D.queue_pages > 1, pager(D.queue_page, D.queue_pages, D.previous_queue_page,
                                         D.next_queue_page, "Queue pages")),
        id="queue",
    )


def _my_part() -> rx.Component:
    return section(
        "Your own requests",
        request_table("Requests about your own access", D.my_rows,
                      empty_text="There are no requests about your own access."),
        id="mine",
    )


def dashboard_page() -> rx.Component:
    return page_frame(
        rx.cond(
            D.signed_in,
            rx.fragment(
                rx.el.h1("Welcome, ", D.display_name, style={"font_size": "2rem", "color": theme.NAVY}),
                rx.cond(D.error != "", notice(rx.el.p(D.error), role="alert")),
                rx.cond(D.is_supervisor, _supervisor_part()),
                rx.cond(D.is_admin, rx.el.p(rx.el.a("Manage program staff", href=routes.ADMIN_STAFF))),
                rx.cond(D.is_staff, _staff_part()),
                _my_part(),
            ),
            rx.el.p("Checking your sign-in…", aria_live="polite"),
        ),
        header_actions=(account_actions(),),
    )


def not_allowed_page() -> rx.Component:
    return page_frame(
        rx.el.h1("You are not allowed to open that page", style={"font_size": "2rem"}),
        rx.el.p("Your account does not have the role that page needs. Supervisors are registered "
                "by the Montana Immunization Program; if you think you should have access, call "
                "the program."),
        rx.el.p(rx.el.a("Go to your dashboard", href=routes.DASHBOARD)),
        header_actions=(account_actions(),),
    )
