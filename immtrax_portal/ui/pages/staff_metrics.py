"""Metrics for program staff: counts, time to completion, overdue requests, requests per week.

The weekly chart is a table: each row has the week, the number, and a bar drawn with a plain
element (hidden from screen readers, which read the number instead), so the chart and its text
alternative are one thing.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import card, card_grid, page_frame, section
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.pages.staff_queue import staff_nav
from immtrax_portal.ui.pages.staff_reviews import review_figures
from immtrax_portal.ui.state.staff_metrics import StaffMetricsState as M
from immtrax_portal.ui.state.staff_reviews import ReviewFiguresState

_CELL = {"padding": "0.5rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}",
         "text_align": "left", "vertical_align": "middle"}
_NUMBER = {**_CELL, "text_align": "right", "font_variant_numeric": "tabular-nums"}
_TABLE = {"width": "100%", "border_collapse": "collapse"}
_CAPTION = {"text_align": "left", "font_weight": "700", "padding": "0.4rem 0", "font_size": "1.05rem"}


def _scrolls(table: rx.Component, label: str) -> rx.Component:
    """A wide table scrolls inside its own focusable region on a phone, never the page."""
    return rx.el.div(table, style={"overflow_x": "auto", "max_width": "100%"}, tab_index=0,
                     role="region", aria_label=label)


def _count_table(caption: str, first_header: str, rows) -> rx.Component:
    return rx.el.table(
        rx.el.caption(caption, style=_CAPTION),
        rx.el.thead(rx.el.tr(rx.el.th(first_header, scope="col", style=_CELL),
                             rx.el.th("Requests", scope="col", style=_NUMBER))),
        rx.el.tbody(rx.foreach(rows, lambda r: rx.el.tr(
            rx.el.th(rx.el.a(r["label"], href=r["href"]), scope="row", style={**_CELL, "font_weight": "400"}),
            rx.el.td(r["count"], style=_NUMBER),
        ))),
        style=_TABLE,
    )


def _completion() -> rx.Component:
    return rx.el.table(
        rx.el.caption("Time from submission to completion", style=_CAPTION),
        rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=_CELL) for h in
                               ("Completed in", "Requests completed", "Median", "90th percentile")])),
        rx.el.tbody(rx.foreach(M.completion, lambda c: rx.el.tr(
            rx.el.th(c["window"], scope="row", style={**_CELL, "font_weight": "400"}),
            rx.el.td(c["completed"], style=_CELL),
            rx.el.td(c["median"], style=_CELL),
            rx.el.td(c["p90"], style=_CELL),
        ))),
        style=_TABLE,
    )


def _clock_table(caption: str, first_header: str, rows) -> rx.Component:
    headers = ("Completed", "Program time: median", "Program time: 90th percentile", "Total time: median",
               "Total time: 90th percentile", "Within target")
    return rx.el.table(
        rx.el.caption(caption, style=_CAPTION),
        rx.el.thead(rx.el.tr(rx.el.th(first_header, scope="col", style=_CELL),
                             *[rx.el.th(h, scope="col", style=_CELL) for h in headers])),
        rx.el.tbody(rx.foreach(rows, lambda r: rx.el.tr(
            rx.el.th(r["label"], scope="row", style={**_CELL, "font_weight": "400"}),
            rx.el.td(r["completed"], style=_NUMBER),
            rx.el.td(r["program_median"], style=_CELL),
            rx.el.td(r["program_p90"], style=_CELL),
            rx.el.td(r["total_median"], style=_CELL),
            rx.el.td(r["total_p90"], style=_CELL),
            rx.el.td(r["within"], style=_NUMBER),
        ))),
        style={**_TABLE, "min_width": "48rem"},
    )


def _lifecycle() -> rx.Component:
    return rx.el.table(
        rx.el.caption("Automatic removals and lapsed agreements", style=_CAPTION),
        rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=h_style) for h, h_style in
                               (("What happened", _CELL), ("Last 30 days", _NUMBER),
                                ("Last 90 days", _NUMBER))])),
        rx.el.tbody(rx.foreach(M.lifecycle, lambda f: rx.el.tr(
            rx.el.th(f["label"], scope="row", style={**_CELL, "font_weight": "400"}),
            rx.el.td(f["last_30"], style=_NUMBER),
            rx.el.td(f["last_90"], style=_NUMBER),
        ))),
        style=_TABLE,
    )


def _weekly_chart() -> rx.Component:
    return rx.el.figure(
        rx.el.table(
            rx.el.caption("Requests submitted per week (last 12 weeks, weeks start Monday, UTC)",
                          style=_CAPTION),
            rx.el.thead(rx.el.tr(rx.el.th("Week of", scope="col", style=_CELL),
                                 rx.el.th("Requests", scope="col", style=_NUMBER),
                                 rx.el.th(rx.el.span("Bar", class_name="visually-hidden"), scope="col",
                                          style={**_CELL, "width": "60%"}))),
            rx.el.tbody(rx.foreach(M.weeks, lambda w: rx.el.tr(
                rx.el.th(rx.el.time(w["label"], date_time=w["iso"]), scope="row",
                         style={**_CELL, "font_weight": "400", "white_space": "nowrap"}),
                rx.el.td(w["count"], style=_NUMBER),
                rx.el.td(rx.el.div(aria_hidden="true", style={
                    "width": w["width"], "min_width": "2px", "height": "1.1rem",
                    "background": theme.BLUE, "border_radius": "0 0.2rem 0.2rem 0"}), style=_CELL),
                data_week=w["iso"],
            ))),
            style=_TABLE,
        ),
        style={"margin": "0"},
    )


def staff_metrics_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Queue metrics", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        live_status(M),
        rx.cond(
            M.loaded,
            rx.fragment(
                rx.el.p(rx.el.strong(M.overdue, " overdue requests"),
                        " (waiting longer than their business-day target). ",
                        rx.el.a("Show them in the queue", href=M.overdue_href), ".",
                        style={"font_size": "1.15rem"}),
                card_grid(
                    card("By status", _count_table("Requests by status", "Status", M.by_status)),
                    card("By type", _count_table("Requests by type", "Type", M.by_type)),
                ),
                section("Time to completion", _scrolls(_completion(), "Time to completion table"),
                        id="completion"),
                section("Requests per week", _scrolls(_weekly_chart(), "Requests per week chart"),
                        id="weekly"),
                section(
                    "Time with the program",
                    rx.el.p("Program time counts business hours while a request waits on the program "
                            "(not on the applicant or the supervisor); total time counts every hour from "
                            "submission to completion. Requests completed in the last 12 weeks.",
                            style={"max_width": "46rem"}),
                    _scrolls(_clock_table("Time with the program by request type", "Type", M.clock_by_type),
                             "Time with the program by type table"),
                    _scrolls(_clock_table("Time with the program by week of completion", "Week",
                                          M.clock_by_week), "Time with the program by week table"),
                    id="program-time"),
                section("Roster reviews and inactivity",
                        rx.el.div(review_figures(ReviewFiguresState.figures),
                                  on_mount=ReviewFiguresState.load),
                        rx.el.p(rx.el.a("See every review", href=routes.STAFF_REVIEWS)),
                        id="reviews"),
                section("Access over time", _scrolls(_lifecycle(), "Access over time table"), id="lifecycle"),
                section("Export", rx.el.p(
                    server_link("Download the open queue as CSV", href=M.open_export_href),
                    ". To export other requests, filter the queue first and use its export button."),
                    id="export"),
            ),
            rx.el.p("Loading the figures…", aria_live="polite"),
        ),
        header_actions=(account_actions(),),
    )
