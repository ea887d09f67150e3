"""The signed-in home: the supervisor's to-do list ("Needs you", "In progress", "Closed") and
rosters, one's own requests, staff's open queue. It updates by itself when something it shows
changes."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.form_field import INPUT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.layout import button_link, notice, page_frame, section
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.components.needs_you import needs_you_list
from immtrax_portal.ui.components.request_table import pager, request_table
from immtrax_portal.ui.components.tracker import tracked_list
from immtrax_portal.ui.pages.access_over_time import lifecycle_needs_you, my_supervisors_panel
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
                         class_name="portal-button secondary", custom_attrs={"data-confirm-no": "true"}),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap"},
        ),
        role="alertdialog", aria_labelledby="cancel-confirm-heading",
        custom_attrs={"data-confirm": "true"},   # Escape is "No, keep it" (assets/portal.js)
    ))


def _needs_you_part() -> rx.Component:
    return section(
        "Needs you",
        rx.el.p(
            rx.cond(D.needs_total == 0, "Nothing is waiting on you.",
                    rx.fragment(D.needs_total, rx.cond(D.needs_total == 1, " thing waits", " things wait"),
                                " on you, oldest first.")),
            rx.cond(D.needs_total > D.needs_rows.length(),  # type: ignore[attr-defined]
                    rx.el.span(" The oldest ", D.needs_rows.length(),  # type: ignore[attr-defined]
                               " are shown; the next ones appear as you deal with these.")),
            style={"color": theme.MUTED},
        ),
        rx.cond((D.answer_problem != "") & (D.answer_number == ""),
                notice(rx.el.p(D.answer_problem, style={"margin": "0"}), role="alert")),
        rx.cond(D.needs_total > 0, needs_you_list(
            D.needs_rows, on_answer=D.answer_question, on_resend=D.resend, problem=D.answer_problem,
            problem_number=D.answer_number, form_key=D.answer_form_key, on_extend=D.extend_access,
            on_confirm_idle=D.confirm_idle)),
        id="needs-you",
    )


def _filter_select(name: str, label: str, value, options, all_label: str) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=f"lists-{name}", style=LABEL_STYLE),
        rx.el.select(
            rx.el.option(all_label, value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id=f"lists-{name}", name=name, default_value=value, style=INPUT_STYLE,
        ),
        style=_FILTER_FIELD,
    )


_FILTER_FIELD = {"display": "grid", "gap": "0.25rem", "align_content": "start"}


def _list_filters() -> rx.Component:
    """One form for both lists below it: type, organization, number or name."""
    return rx.el.form(
        rx.el.h3("Find a request in progress or closed", id="lists-filter-heading",
                 style={"font_size": "1.1rem", "margin": "0 0 0.5rem"}),
        rx.el.div(
            _filter_select("type", "Request type", D.f_type, D.type_choices, "All types"),
            rx.cond(D.org_choices.length() > 1,  # type: ignore[attr-defined]
                    _filter_select("org", "Organization", D.f_org, D.org_choices, "All organizations")),
            rx.el.div(
                rx.el.label("Request number or name", html_for="lists-q", style=LABEL_STYLE),
                rx.el.input(id="lists-q", name="q", type="search", default_value=D.f_search,
                            max_length=60, auto_complete="off", style=INPUT_STYLE),
                style=_FILTER_FIELD,
            ),
            style={"display": "grid", "gap": "0.75rem",
                   "grid_template_columns": "repeat(auto-fit, minmax(min(13rem, 100%), 1fr))"},
        ),
        rx.el.div(
            rx.el.button("Show matching requests", type="submit", class_name="portal-button"),
            rx.cond(D.filters_active, rx.el.button("Show all requests", type="button",
                                                  on_click=D.clear_filters,
                                                  class_name="portal-button secondary")),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap", "margin_top": "0.75rem"},
        ),
        on_submit=D.filter_lists,
        key=D.filter_key,
        aria_labelledby="lists-filter-heading",
        style={"border": f"1px solid {theme.BORDER}", "border_radius": "0.3rem", "padding": "0.8rem 1rem",
               "margin": "0 0 1rem", "background": theme.SURFACE},
    )


def _count_line(total, word: str) -> rx.Component:
    return rx.el.p(total, rx.cond(total == 1, " request", " requests"), f" {word}",
                   rx.cond(D.filters_active, " matching the filters", ""), ".",
                   style={"color": theme.MUTED})


def _supervisor_part() -> rx.Component:
    return rx.fragment(
        _needs_you_part(),
        section(
            "In progress",
            rx.el.div(button_link("Start a new request", routes.WIZARD),
                      button_link("Several people at once", routes.BATCH, variant="secondary"),
                      button_link("Backups while away", routes.BACKUPS, variant="secondary"),
                      style={"margin": "0.5rem 0 1rem", "display": "flex", "flex_wrap": "wrap",
                             "gap": "0.6rem"}),
            rx.cond(D.covering_note != "", notice(
                rx.el.p(D.covering_note, " ", rx.el.a("Your backups", href=routes.BACKUPS),
                        style={"margin": "0"}),
                tone="info", id="covering-note")),
            _cancel_confirmation(),
            _list_filters(),
            _count_line(D.org_total, "in progress"),
            tracked_list("Requests in progress at the organizations you supervise", D.org_rows,
                         empty_text=rx.cond(D.filters_active, "No request in progress matches the filters.",
                                            "Nothing in progress. Start a request with the button above."),
                         on_resend=D.resend, on_cancel=D.ask_cancel),
            rx.cond(D.org_pages > 1, pager(D.org_page, D.org_pages, D.previous_org_page,
                                           D.next_org_page, "In progress pages")),
            id="org-requests",
        ),
        section(
            "Closed",
            _count_line(D.closed_total, "closed"),
            tracked_list("Closed requests of the organizations you supervise", D.closed_rows,
                         empty_text=rx.cond(D.filters_active, "No closed request matches the filters.",
                                            "No closed requests yet."),
                         on_resend=D.resend, on_cancel=D.ask_cancel),
            rx.cond(D.closed_pages > 1, pager(D.closed_page, D.closed_pages, D.turn_closed_page(-1),
                                              D.turn_closed_page(1), "Closed pages")),
            id="closed-requests",
        ),
    )


def _roster_row(row: rx.Var, organization_id: rx.Var) -> rx.Component:
    name = row["name"].to(str)
    person = row["person_id"].to(str)
    base = routes.WIZARD + "?org=" + organization_id.to(str) + "&person=" + person
    return rx.el.tr(
        rx.el.th(name, scope="row", style=_CELL),
        rx.el.td(row["email"], style=_CELL, data_label="Email"),
        rx.el.td(row["level"], style=_CELL, data_label="Access level"),
        rx.el.td(row["since"], style=_CELL, data_label="Since"),
        rx.el.td(row["agreement_signed"], style=_CELL, data_label="Agreement signed"),
        rx.el.td(row["last_activity"], style=_CELL, data_label="Last imMTrax sign-in"),
        rx.el.td(
            rx.cond(
                row["is_self"].to(bool),
                rx.el.span("This is you: ask another supervisor or the program.",
                           style={"color": theme.MUTED}),
                rx.el.div(
                    rx.el.a("Change level", href=base + "&type=permissions_change",
                            aria_label="Change level for " + name),
                    rx.el.a("Remove access", href=base + "&type=access_deletion",
                            aria_label="Remove access for " + name),
                    style={"display": "flex", "gap": "0.5rem 1rem", "flex_wrap": "wrap"},
                ),
            ),
            style=_CELL,
            class_name="roster-actions",
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
                                            "Agreement signed", "Last imMTrax sign-in", "Actions")])),
                    rx.el.tbody(rx.foreach(rows, lambda row: _roster_row(row, org_id))),
                    # Narrow screens: each person becomes a block with their actions in view
                    # (portal.css, .stack-table), instead of a row scrolled off-screen.
                    class_name="stack-table",
                    style={"width": "100%", "border_collapse": "collapse", "min_width": "52rem"},
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
             ("Roster reviews", routes.STAFF_REVIEWS), ("Inactivity report", routes.STAFF_INACTIVITY),
             ("User Agreement versions", routes.STAFF_AGREEMENTS), ("Outgoing mail", routes.MAILBOX),
             ("Upcoming removals", routes.STAFF_ACCESS_ENDS),
             ("Supervisor succession", routes.STAFF_SUCCESSION)]
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
                                                role="status", id="dashboard-message", tab_index=-1)),
                # "Needs you" holds roster reviews, expiring access and idle people too (issue 16);
                # "Access over time" keeps the forms: move a last day, name a backup supervisor.
                rx.cond(D.is_supervisor, _supervisor_part()),
                rx.cond(D.is_supervisor, lifecycle_needs_you()),
                rx.cond(D.is_supervisor, _roster_part()),
                rx.cond(D.is_admin, rx.el.p(rx.el.a("Manage program staff", href=routes.ADMIN_STAFF))),
                rx.cond(D.is_staff, _staff_part()),
                _my_part(),
                my_supervisors_panel(),
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
