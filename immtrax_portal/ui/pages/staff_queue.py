"""The staff queue: status tabs with counts, filters and search kept in the URL, one page of rows."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.confirm import confirm_panel
from immtrax_portal.ui.components.form_field import INPUT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.layout import notice, page_frame
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.components.request_table import CAPTION_STYLE, status_badge
from immtrax_portal.ui.state.staff_queue import BULK_APPLY_ID, BULK_CONFIRM_ID
from immtrax_portal.ui.state.staff_queue import StaffQueueState as Q

_CELL = {"padding": "0.6rem 0.5rem", "border_bottom": f"1px solid {theme.BORDER}",
         "text_align": "left", "vertical_align": "top"}
_FIELD = {"display": "grid", "gap": "0.25rem", "align_content": "start"}


def staff_nav() -> rx.Component:
    """Links between the staff pages (queue, metrics)."""
    return rx.el.nav(
        rx.el.a("Queue", href=routes.STAFF_QUEUE),
        rx.el.a("Metrics", href=routes.STAFF_METRICS),
        rx.el.a("Targets", href=routes.STAFF_TARGETS),
        rx.el.a("Your backup", href=routes.STAFF_BACKUPS),
        rx.el.a("Roster reviews", href=routes.STAFF_REVIEWS),
        rx.el.a("Inactivity report", href=routes.STAFF_INACTIVITY),
        rx.el.a("Dashboard", href=routes.DASHBOARD),
        aria_label="Staff pages",
        style={"display": "flex", "gap": "1.25rem", "flex_wrap": "wrap", "margin": "0 0 1rem"},
    )


def _tabs() -> rx.Component:
    return rx.el.nav(
        rx.el.ul(
            rx.foreach(Q.tabs, lambda t: rx.el.li(rx.el.a(
                t["label"], rx.el.span(" (", t["count"], ")"),
                href=t["href"],
                aria_current=t["current"],
                style={"display": "inline-block", "padding": "0.55rem 0.8rem", "min_height": "44px",
                       "box_sizing": "border-box", "text_decoration": "none",
                       "color": rx.cond(t["current"] == "page", "white", theme.BLUE),
                       "background": rx.cond(t["current"] == "page", theme.BLUE, "white"),
                       "border": f"2px solid {theme.BLUE}", "border_radius": "0.3rem",
                       "font_weight": "700"},
            ))),
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.4rem", "list_style": "none",
                   "padding": "0", "margin": "0"},
        ),
        aria_label="Requests by status",
        style={"margin": "0 0 1.25rem"},
    )


def _select(name: str, label: str, value, options, all_label: str) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=f"queue-{name}", style=LABEL_STYLE),
        rx.el.select(
            rx.el.option(all_label, value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id=f"queue-{name}", name=name, default_value=value, key=Q.form_key, style=INPUT_STYLE,
        ),
        style=_FIELD,
    )


def _filters() -> rx.Component:
    return rx.el.form(
        rx.el.input(type="hidden", name="status", value=Q.f_status),
        rx.el.div(
            rx.el.div(
                rx.el.label("Search", html_for="queue-q", style=LABEL_STYLE),
                rx.el.p("Request number, name or email", id="queue-q-hint",
                        style={"margin": "0", "color": theme.MUTED, "font_size": "0.95rem"}),
                rx.el.input(id="queue-q", name="q", type="search", default_value=Q.f_search,
                            key=Q.form_key, aria_describedby="queue-q-hint", auto_complete="off",
                            max_length=100, style=INPUT_STYLE),
                style=_FIELD,
            ),
            _select("type", "Type", Q.f_type, Q.type_choices, "All types"),
            _select("org", "Organization", Q.f_org, Q.organizations, "All organizations"),
            _select("owner", "Owner", Q.f_owner, Q.owner_choices, "Anyone"),
            rx.el.div(
                rx.el.label("Submitted more than … days ago", html_for="queue-older-than",
                            style=LABEL_STYLE),
                rx.el.input(id="queue-older-than", name="older_than", type="number", min=0, max=3650,
                            input_mode="numeric", default_value=Q.f_older_than, key=Q.form_key,
                            style=INPUT_STYLE),
                style=_FIELD,
            ),
            rx.el.div(
                rx.el.label("Sort by", html_for="queue-sort", style=LABEL_STYLE),
                rx.el.select(rx.foreach(Q.sort_choices, lambda o: rx.el.option(o["label"], value=o["value"])),
                             id="queue-sort", name="sort", default_value=Q.f_sort, key=Q.form_key,
                             style=INPUT_STYLE),
                style=_FIELD,
            ),
            rx.el.div(
                rx.el.input(type="checkbox", id="queue-overdue", name="overdue", value="1",
                            default_checked=Q.f_overdue, key=Q.form_key,
                            style={"width": "1.4rem", "height": "1.4rem", "margin": "0"}),
                rx.el.label("Overdue only", html_for="queue-overdue", style=LABEL_STYLE),
                style={"display": "flex", "gap": "0.6rem", "align_items": "center", "min_height": "44px",
                       "align_self": "end"},
            ),
            style={"display": "grid", "gap": "0.9rem 1.25rem",
                   "grid_template_columns": "repeat(auto-fit, minmax(min(14rem, 100%), 1fr))"},
        ),
        rx.el.div(
            rx.el.button("Apply filters", type="submit", class_name="portal-button"),
            rx.el.a("Clear filters", href=Q.clear_href, class_name="portal-button secondary"),
            server_link("Export these requests (CSV)", href=Q.export_href,
                        class_name="portal-button secondary"),
            style={"display": "flex", "gap": "0.75rem", "flex_wrap": "wrap", "margin_top": "1rem"},
        ),
        on_submit=Q.apply_filters,
        no_validate=True,
        aria_label="Filter the queue",
        role="search",
        style={"background": theme.SURFACE, "padding": "1rem", "border_radius": "0.3rem",
               "margin": "0 0 1.25rem"},
    )


def _row(row) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.el.input(type="checkbox", id="pick-" + row["number"].to(str),
                        name="pick_" + row["number"].to(str), aria_label="Select " + row["number"].to(str),
                        style={"width": "1.4rem", "height": "1.4rem", "margin": "0"}),
            style={**_CELL, "width": "2.5rem"},
        ),
        rx.el.td(rx.el.a(rx.el.strong(row["number"]),
                             href=f"{routes.REQUEST}?number=" + row["number"].to(str)),
                 rx.cond(row["duplicate_of"] != "", rx.el.strong(
                     "Likely duplicate of ", row["duplicate_of"],
                     style={"display": "block", "color": theme.ERROR, "white_space": "normal",
                            "font_size": "0.95rem", "margin_top": "0.2rem"})),
                 style={**_CELL, "white_space": "nowrap"}),
        rx.el.td(row["type_label"], style=_CELL),
        rx.el.td(rx.el.span(row["person"], style={"display": "block"}),
                 rx.el.span(row["email"], style={"color": theme.MUTED, "font_size": "0.95rem",
                                                 "overflow_wrap": "anywhere"}),
                 style=_CELL),
        rx.el.td(row["organization"], style=_CELL),
        rx.el.td(status_badge(row["status"], row["status_label"]), style=_CELL),
        rx.el.td(
            rx.el.span(row["waited"], style={"display": "block"}),
            rx.el.span("since ", row["waiting_since"], style={"color": theme.MUTED, "font_size": "0.95rem"}),
            rx.cond(row["overdue"] != "", rx.el.strong(
                "⚠ ", row["overdue"],
                style={"display": "block", "color": theme.ERROR, "margin_top": "0.2rem"})),
            style=_CELL,
        ),
        rx.el.td(
            rx.el.span(row["clock"], style={"display": "block"}),
            rx.cond(row["clock_marker"] != "", rx.el.strong(
                "⚠ ", row["clock_marker"], style={"display": "block", "color": theme.ERROR})),
            style=_CELL,
        ),
        rx.el.td(rx.cond(row["owner"] != "", row["owner"],
                         rx.el.span("Unassigned", style={"color": theme.MUTED})),
                 rx.cond(row["covering_for"] != "", rx.el.strong(
                     "You cover for ", row["covering_for"], class_name="covering-mark",
                     style={"display": "block", "margin_top": "0.2rem"})), style=_CELL),
        rx.el.td(row["submitted"], style=_CELL),
        data_number=row["number"],
        # A live update may reorder the rows: each keeps its own checkbox (the selection).
        key=row["number"],
    )


def _table() -> rx.Component:
    headers = ["Number", "Type", "Person", "Organization", "Status", "Waiting",
               "Time left (business hours)", "Owner", "Submitted"]
    return rx.cond(
        Q.rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.table(
                rx.el.caption("Requests matching the filters", rx.el.span(" — ", Q.summary),
                              style=CAPTION_STYLE),
                rx.el.thead(rx.el.tr(rx.el.th(rx.el.span("Select", class_name="visually-hidden"),
                                              scope="col", style=_CELL),
                                     *[rx.el.th(h, scope="col", style=_CELL) for h in headers])),
                rx.el.tbody(rx.foreach(Q.rows, _row)),
                style={"width": "100%", "border_collapse": "collapse", "min_width": "64rem"},
            ),
            style={"overflow_x": "auto"}, tab_index=0, role="region", aria_label="Queue results",
        ),
        rx.el.p("No requests match these filters.", role="status"),
    )


def _bulk_controls() -> rx.Component:
    """What to do with the selected rows (one form around the table and these controls)."""
    radio = {"width": "1.4rem", "height": "1.4rem", "margin": "0", "flex_shrink": "0"}
    choice = {"display": "flex", "gap": "0.6rem", "align_items": "center", "min_height": "44px"}
    return rx.el.fieldset(
        rx.el.legend("With the selected requests", style={"font_weight": "700", "padding": "0 0.3rem"}),
        rx.el.div(
            rx.el.div(
                rx.el.div(rx.el.input(type="radio", id="bulk-assign", name="bulk", value="assign",
                                      default_checked=True, style=radio),
                          rx.el.label("Assign them to", html_for="bulk-assign", style=LABEL_STYLE),
                          style=choice),
                rx.el.label("Staff member", html_for="bulk-assignee", style=LABEL_STYLE),
                rx.el.select(rx.foreach(Q.staff_choices,
                                        lambda o: rx.el.option(o["label"], value=o["value"])),
                             id="bulk-assignee", name="assignee", style=INPUT_STYLE),
                style=_FIELD,
            ),
            rx.el.div(
                rx.el.div(rx.el.input(type="radio", id="bulk-reject", name="bulk", value="reject",
                                      style=radio),
                          rx.el.label("Reject them (expired requests and likely duplicates only)",
                                      html_for="bulk-reject", style=LABEL_STYLE),
                          style=choice),
                rx.el.label("Reason (the supervisors read it)", html_for="bulk-reason", style=LABEL_STYLE),
                rx.el.textarea(id="bulk-reason", name="reason", rows=2, max_length=2000, style=INPUT_STYLE),
                style=_FIELD,
            ),
            style={"display": "grid", "gap": "0.9rem 1.25rem",
                   "grid_template_columns": "repeat(auto-fit, minmax(min(18rem, 100%), 1fr))"},
        ),
        rx.el.button("Apply to the selected requests", type="submit", class_name="portal-button",
                     id=BULK_APPLY_ID, style={"margin_top": "0.9rem"}),
        rx.cond(Q.bulk_confirm != "", confirm_panel(
            BULK_CONFIRM_ID, "Reject the selected requests?", Q.bulk_confirm,
            "Yes, reject them", Q.confirm_bulk_reject, "No, keep them", Q.keep_selection)),
        style={"border": f"1px solid {theme.BORDER}", "border_radius": "0.3rem", "padding": "1rem",
               "margin": "0.75rem 0 1rem"},
    )


def _bulk_outcome() -> rx.Component:
    return rx.el.div(
        rx.cond(Q.bulk_problem != "", notice(rx.el.p(Q.bulk_problem, style={"margin": "0"}), role="alert")),
        rx.el.div(
            rx.cond(Q.bulk_message != "",
                    rx.el.p(Q.bulk_message, style={"font_weight": "700", "margin": "0"})),
            rx.cond(Q.bulk_refusals.length() > 0, rx.el.ul(  # type: ignore[attr-defined]
                rx.foreach(Q.bulk_refusals,
                           lambda r: rx.el.li(rx.el.strong(r["number"]), ": ", r["message"])),
                style={"margin": "0.4rem 0 0"})),
            role="status", aria_live="polite", id="bulk-outcome",
        ),
    )


def _worklist() -> rx.Component:
    return rx.el.form(
        _bulk_outcome(),
        _table(),
        rx.cond(Q.rows.length() > 0, _bulk_controls()),  # type: ignore[attr-defined]
        on_submit=Q.bulk_action,
        key=Q.bulk_key,
        aria_label="Queue results and actions on selected requests",
    )


def _pager() -> rx.Component:
    return rx.el.nav(
        rx.cond(Q.previous_href != "",
                rx.el.a("Previous page", href=Q.previous_href, class_name="portal-button secondary")),
        rx.el.span("Page ", Q.page, " of ", Q.pages),
        rx.cond(Q.next_href != "",
                rx.el.a("Next page", href=Q.next_href, class_name="portal-button secondary")),
        aria_label="Queue pages",
        style={"display": "flex", "gap": "1rem", "align_items": "center", "margin": "0.75rem 0",
               "flex_wrap": "wrap"},
    )


def staff_queue_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Request queue", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        live_status(Q),
        rx.cond(Q.error != "", notice(rx.el.p(Q.error, style={"margin": "0"}), role="alert")),
        rx.cond(
            Q.loaded,
            rx.fragment(_tabs(), _filters(), _worklist(), rx.cond(Q.pages > 1, _pager())),
            rx.el.p("Loading the queue…", aria_live="polite"),
        ),
        header_actions=(account_actions(),),
    )
