"""The signed-in home: supervisors' organization requests and rosters, one's own requests, staff's
open queue. It updates by itself when something it shows changes."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import button_link, notice, page_frame, section
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.components.request_table import pager, request_table
from immtrax_portal.ui.components.tracker import tracked_list
from immtrax_portal.ui.state.dashboard import DashboardState as D

_CELL = {"padding": "0.55rem 0.7rem", "border_bottom": f"1px solid {theme.BORDER}",
         "text_align": "left", "vertical_align": "top"}


def _cancel_confirmation() -> rx.Component:
    return rx.cond(D.confirm_cancel_number != "", notice(
        rx.el.h3("Cancel request ", D.confirm_cancel_number, "?", id="cancel-confirm-heading",
                 tab_index=-1, style={"margin": "0 0 0.4rem", "font_size": "1.15rem"}),
        rx.el.p("The program stops working on it and any invitation link stops working. "
                "This cannot be undone; you can submit a new request later."),
        rx.el.div(
            rx.el.button("Yes, cancel the request", type="button", on_click=D.confirm_cancel,
                         class_name="portal-button"),
            rx.el.button("No, keep it", type="button", on_click=D.keep_request,
                         class_name="portal-button secondary"),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap"},
        ),
        role="alertdialog", aria_labelledby="cancel-confirm-heading",
    ))


def _supervisor_part() -> rx.Component:
    return section(
        "Your organizations' requests",
        rx.el.div(button_link("Start a new request", routes.WIZARD), style={"margin": "0.5rem 0 1rem"}),
        _cancel_confirmation(),
        tracked_list("Requests for the organizations you supervise", D.org_rows,
                     empty_text="No requests yet. Start one with the button above.",
                     on_resend=D.resend, on_cancel=D.ask_cancel),
        rx.cond(D.org_pages > 1, pager(D.org_page, D.org_pages, D.previous_org_page,
                                       D.next_org_page, "Organization requests pages")),
        id="org-requests",
    )


def _roster_row(row: rx.Var, organization_id: rx.Var) -> rx.Component:
    name = row["name"].to(str)
    person = row["person_id"].to(str)
    base = routes.WIZARD + "?org=" + organization_id.to(str) + "&person=" + person
    return rx.el.tr(
        rx.el.th(name, scope="row", style=_CELL),
        rx.el.td(row["email"], style=_CELL),
        rx.el.td(row["level"], style=_CELL),
        rx.el.td(row["since"], style=_CELL),
        rx.el.td(row["agreement_signed"], style=_CELL),
        rx.el.td(
            rx.cond(
                row["is_self"].to(bool),
                rx.el.span("This is you: ask another supervisor or the program.",
                           style={"color": theme.MUTED}),
                rx.el.div(
                    rx.el.a("Change level", href=base + "&type=permissions_change",
                            aria_label="Change the access level of " + name),
                    rx.el.a("Remove access", href=base + "&type=access_deletion",
                            aria_label="Remove the access of " + name),
                    style={"display": "flex", "gap": "1rem", "flex_wrap": "wrap"},
                ),
            ),
            style=_CELL,
        ),
        data_person=person,
    )


def _roster(group: rx.Var) -> rx.Component:
    rows = group["rows"].to(list[dict[str, str]])
    org_id = group["organization_id"].to(str)
    caption = "People with imMTrax access at " + group["name"].to(str)
    return rx.el.div(
        rx.el.h3(group["name"], style={"font_size": "1.2rem", "margin": "1.25rem 0 0.25rem"}),
        rx.el.p(group["total"].to(str), " people with active access.", style={"color": theme.MUTED,
                                                                            "margin": "0"}),
        rx.cond(
            group["total"].to(int) > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.caption(caption, class_name="visually-hidden"),
                    rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=_CELL) for h in
                                           ("Name", "Email", "Access level", "Since",
                                            "Agreement signed", "Actions")])),
                    rx.el.tbody(rx.foreach(rows, lambda row: _roster_row(row, org_id))),
                    style={"width": "100%", "border_collapse": "collapse", "min_width": "44rem"},
                ),
                style={"overflow_x": "auto"}, tab_index=0, role="region", aria_label=caption,
            ),
        ),
        rx.cond(group["pages"].to(int) > 1, pager(
            group["page"].to(int), group["pages"].to(int),
            D.turn_roster_page(org_id, -1), D.turn_roster_page(org_id, 1),
            "Roster pages for " + group["name"].to(str))),
        data_roster=org_id,
    )


def _roster_part() -> rx.Component:
    return section(
        "Who has access",
        rx.el.p("Everyone with active imMTrax access at your organizations. To change someone's level "
                "or remove their access, use the links in their row: they open a request with the "
                "person already chosen."),
        rx.foreach(D.rosters, _roster),
        id="roster",
    )


def _staff_tools() -> rx.Component:
    """Where program staff go from here: the full queue and the pages around it."""
    links = [("Work the request queue", routes.STAFF_QUEUE), ("Queue metrics", routes.STAFF_METRICS),
             ("Organizations and supervisors", routes.STAFF_ORGANIZATIONS),
             ("User Agreement versions", routes.STAFF_AGREEMENTS), ("Outgoing mail", routes.MAILBOX)]
    return rx.el.nav(
        *[rx.el.a(text, href=href, class_name="portal-button secondary") for text, href in links],
        aria_label="Program staff pages",
        style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "margin": "0.5rem 0 1rem"},
    )


def _staff_part() -> rx.Component:
    return section(
        "Open requests (program queue)",
        _staff_tools(),
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
        tracked_list("Requests about your own access", D.my_rows,
                     empty_text="There are no requests about your own access."),
        rx.cond(D.my_pages > 1, pager(D.my_page, D.my_pages, D.previous_my_page, D.next_my_page,
                                      "Your requests pages")),
        id="mine",
    )


def dashboard_page() -> rx.Component:
    return page_frame(
        rx.cond(
            D.signed_in,
            rx.fragment(
                rx.el.h1("Welcome, ", D.display_name, style={"font_size": "2rem", "color": theme.NAVY}),
                live_status(D),
                rx.cond(D.error != "", notice(rx.el.p(D.error, style={"margin": "0"}), role="alert")),
                rx.cond(D.message != "", notice(rx.el.p(D.message, style={"margin": "0"}), tone="info",
                                                role="status")),
                rx.cond(D.is_supervisor, _supervisor_part()),
                rx.cond(D.is_supervisor, _roster_part()),
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
