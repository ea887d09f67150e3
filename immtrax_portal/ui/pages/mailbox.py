"""/dev/mailbox: the portal's outgoing mail and its delivery status.

In the embedded mode (no SMTP server) mail is kept here instead of sent, and this page is where a
demo applicant finds their invitation link. With SMTP configured it is the staff's view of what
was sent, what waits for another attempt and what failed.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.state.mailbox import FILTERS, OPENED_HEADING_ID
from immtrax_portal.ui.state.mailbox import MailboxState as M

FILTER_LABELS = {"": "All", "kept": "Kept (not sent)", "queued": "Waiting to send", "sending": "Sending",
                 "sent": "Sent", "failed": "Failed"}
_CELL = {"padding": "0.6rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}", "text_align": "left",
         "vertical_align": "top"}


def _filters() -> rx.Component:
    return rx.el.nav(
        *[rx.el.a(FILTER_LABELS[f], href=f"{routes.MAILBOX}?status={f}" if f else routes.MAILBOX,
                  aria_current=rx.cond(M.status_filter == f, "page", None),
                  class_name=rx.cond(M.status_filter == f, "portal-button", "portal-button secondary"))
          for f in FILTERS],
        aria_label="Show emails by status",
        style={"display": "flex", "flex_wrap": "wrap", "gap": "0.5rem", "margin": "0.5rem 0 1rem"},
    )


def _row(row) -> rx.Component:
    return rx.el.tr(
        rx.el.td(row["created"], style=_CELL),
        rx.el.td(row["to"], style=_CELL),
        rx.el.td(rx.el.button(row["subject"], type="button", on_click=M.open_email(row["id"]),
                              class_name="link-button"), style=_CELL),
        rx.el.td(row["request_number"], style={**_CELL, "white_space": "nowrap"}),
        rx.el.td(rx.el.strong(row["status"]), rx.cond(row["last_error"] != "",
                                                      rx.el.div(row["last_error"])), style=_CELL),
        rx.el.td(row["attempts"], style=_CELL),
    )


def _table() -> rx.Component:
    headers = ["Queued at", "To", "Subject", "Request", "Status", "Attempts"]
    return rx.cond(
        M.rows.length() > 0,
        rx.el.div(
            rx.el.table(
                rx.el.caption(M.total, " emails", style={"text_align": "left", "font_weight": "700",
                                                         "padding": "0.5rem 0"}),
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=_CELL) for h in headers])),
                rx.el.tbody(rx.foreach(M.rows, _row)),
                style={"width": "100%", "border_collapse": "collapse", "min_width": "44rem"},
            ),
            style={"overflow_x": "auto"}, tab_index=0, role="region", aria_label="Outgoing emails",
        ),
        rx.el.p("No emails here.", style={"color": theme.MUTED}),
    )


def _opened() -> rx.Component:
    return rx.cond(
        M.opened.contains("id"),
        rx.el.section(
            rx.el.h2(M.opened["subject"], id=OPENED_HEADING_ID, tab_index=-1,
                     style={"font_size": "1.4rem", "margin": "0 0 0.5rem"}),
            rx.el.p("To ", M.opened["to"], " · queued ", M.opened["created"], " · status ",
                    rx.el.strong(M.opened["status"]), style={"color": theme.MUTED}),
            rx.foreach(M.opened_links, lambda link: rx.el.p(
                rx.el.a("Open the link in this email", href=link, class_name="portal-button"))),
            rx.el.pre(M.opened["body_text"], style={"white_space": "pre-wrap", "font_family": "inherit",
                                                     "background": theme.SURFACE, "padding": "1rem",
                                                     "border": f"1px solid {theme.BORDER}"}),
            rx.el.button("Close this email", type="button", on_click=M.close_email,
                         class_name="portal-button secondary"),
            aria_labelledby=OPENED_HEADING_ID,
            style={"border": f"2px solid {theme.BLUE}", "padding": "1rem 1.25rem", "margin": "1rem 0",
                   "background": "white"},
        ),
    )


def mailbox_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Outgoing mail", style={"font_size": "2rem", "color": theme.NAVY}),
        rx.cond(
            M.mail_is_kept,
            notice(rx.el.p("Development mailbox: no mail server is configured, so the portal keeps every "
                           "email here instead of sending it. Set IMMTRAX_SMTP_HOST to send mail. "
                           "With the embedded demo sign-in, invitation links stay here and work, since "
                           "this is the only place a demo applicant can find theirs; a real "
                           "installation keeps no working link in stored mail.",
                           style={"margin": "0"}), tone="info"),
            rx.el.p("Every email the portal sends, with its delivery status. Failed emails were tried "
                    "repeatedly with growing waits before giving up. Once an email is delivered, the "
                    "stored copy no longer holds a working invitation link."),
        ),
        rx.cond(M.problem != "", notice(rx.el.p(M.problem, style={"margin": "0"}), role="alert")),
        _opened(),
        section("Emails", _filters(), _table(),
                rx.cond(M.pages > 1, pager(M.page, M.pages, M.turn_page(-1), M.turn_page(1), "Email pages")),
                id="emails"),
        header_actions=(account_actions(),),
    )
