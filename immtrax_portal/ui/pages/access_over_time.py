"""Pages and panels of access over time (issue 16).

- ``/staff/access-ends``: upcoming scheduled removals and ends of time-limited access.
- ``/staff/succession``: organizations without a supervisor (their open requests and roster),
  organizations with one supervisor, and supervisors' requests to add one.
- ``lifecycle_needs_you()``: on the supervisor's dashboard, under "Needs you" (which lists access
  ending soon with "Extend access"), the forms of access over time: move a last day, name a backup
  supervisor. ``my_supervisors_panel()``: who one's supervisors are.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import LABEL_STYLE, field_id, plain_field
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.organizations import data_table, message_notices
from immtrax_portal.ui.state.access_over_time import AccessEndsState as E
from immtrax_portal.ui.state.access_over_time import LifecyclePanelState as P
from immtrax_portal.ui.state.access_over_time import SuccessionState as S

_H1 = {"font_size": "2rem", "color": theme.NAVY}
_ROW = {"display": "flex", "gap": "0.75rem", "flex_wrap": "wrap", "align_items": "flex-end"}
_SELECT = {
    "min_height": "44px",
    "padding": "0.4rem 0.6rem",
    "font_size": "1rem",
    "border": f"2px solid {theme.INK}",
    "border_radius": "0.3rem",
    "max_width": "100%",
}


def _request_link(number) -> rx.Component:
    return rx.cond(
        number != "", rx.el.a(number, href=rx.Var.create(f"{routes.REQUEST}?number=") + number.to(str)), "—"
    )


# --- /staff/access-ends ---------------------------------------------------------------------------


def access_ends_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Upcoming removals", style=_H1),
        rx.cond(E.problem != "", notice(rx.el.p(E.problem, style={"margin": "0"}), role="alert")),
        rx.el.p(
            "Access that ends on a set day: Access Deletions with a last day still ahead, and "
            "time-limited access (students, temporary staff). Access ends by itself at the end of "
            "that day, Montana time; the supervisor can move the day (or extend time-limited "
            "access) until then. You are emailed when each one ends, to deactivate the imMTrax account."
        ),
        rx.el.p(E.total, " scheduled", role="status"),
        data_table(
            "Scheduled ends of access, soonest first",
            ["Last day", "Person", "Organization", "Why", "Request"],
            E.rows,
            lambda r: [
                rx.el.strong(r["last_day_label"]),
                rx.el.span(r["person"], rx.el.br(), r["email"], style={"overflow_wrap": "anywhere"}),
                r["organization"],
                r["kind"],
                _request_link(r["request"]),
            ],
            min_width="44rem",
        ),
        rx.cond(E.total == 0, rx.el.p("No access is scheduled to end.")),
        rx.cond(E.pages > 1, pager(E.page, E.pages, E.turn_page(-1), E.turn_page(1), "Pages of removals")),
        header_actions=(account_actions(),),
    )


# --- /staff/succession ----------------------------------------------------------------------------


def _orphan(o) -> rx.Component:
    return rx.el.article(
        rx.el.h3(
            rx.el.a(o["name"], href=rx.Var.create(f"{routes.STAFF_ORGANIZATION}?id=") + o["id"].to(str)),
            " (",
            o["code"],
            ")",
            style={"font_size": "1.25rem", "margin": "0 0 0.5rem"},
        ),
        rx.el.p(rx.el.strong("No supervisor."), " Link one on the organization's page."),
        rx.el.h4("Open requests (", o["open_total"], ")", style={"margin": "0.5rem 0 0.25rem"}),
        rx.el.ul(rx.foreach(o["requests"].to(list[str]), lambda n: rx.el.li(_request_link(n)))),
        rx.el.h4("People with access (", o["roster_total"], ")", style={"margin": "0.5rem 0 0.25rem"}),
        rx.el.ul(
            rx.foreach(o["roster"].to(list[str]), lambda line: rx.el.li(line)),
            style={"overflow_wrap": "anywhere"},
        ),
        style={
            "border_left": f"6px solid {theme.ERROR}",
            "padding": "0.5rem 1rem",
            "margin": "0 0 1rem",
            "background": "white",
        },
    )


def _nomination_actions(n) -> rx.Component:
    return rx.cond(
        n["withheld"] != "",
        rx.el.span(n["withheld"]),
        rx.el.div(
            rx.el.button(
                "Approve",
                type="button",
                class_name="portal-button",
                on_click=S.decide(n["id"], True),
                aria_label=rx.Var.create("Approve ") + n["person"].to(str),
            ),
            rx.el.button(
                "Decline",
                type="button",
                class_name="portal-button secondary",
                on_click=S.decide(n["id"], False),
                aria_label=rx.Var.create("Decline ") + n["person"].to(str),
            ),
            style={"display": "flex", "gap": "0.5rem", "flex_wrap": "wrap"},
        ),
    )


def succession_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Supervisor succession", style=_H1),
        rx.el.div(message_notices(S.message, S.problem), id="succession-status", tab_index=-1),
        rx.el.p(
            "Every organization should have at least two supervisors, so that someone can always "
            "request, answer and remove access for it."
        ),
        section(
            "Organizations without a supervisor",
            rx.cond(
                S.orphans.length() == 0,
                rx.el.p("Every organization with access or open requests has a supervisor."),
                rx.foreach(S.orphans, _orphan),
            ),
            id="orphans",
        ),
        section(
            "Requests to add a supervisor",
            rx.cond(
                S.nominations.length() == 0,
                rx.el.p("No request is waiting."),
                data_table(
                    "Requests to add a supervisor, oldest first",
                    ["Organization", "New supervisor", "Asked by", "Asked on", "Decision"],
                    S.nominations,
                    lambda n: [
                        n["organization"],
                        rx.el.span(n["person"], style={"overflow_wrap": "anywhere"}),
                        n["by"],
                        n["asked_on"],
                        _nomination_actions(n),
                    ],
                    min_width="44rem",
                ),
            ),
            id="nominations",
        ),
        section(
            "Organizations with one supervisor",
            rx.el.p(
                S.single_total,
                " organizations have a single supervisor, who is asked on their dashboard to name a backup.",
            ),
            data_table(
                "Organizations with one supervisor",
                ["Organization", "Code", "Their only supervisor"],
                S.single,
                lambda s: [
                    rx.el.a(
                        s["name"], href=rx.Var.create(f"{routes.STAFF_ORGANIZATION}?id=") + s["id"].to(str)
                    ),
                    s["code"],
                    rx.el.span(s["supervisor"], style={"overflow_wrap": "anywhere"}),
                ],
                min_width="36rem",
            ),
            rx.cond(
                S.single_pages > 1,
                pager(
                    S.single_page,
                    S.single_pages,
                    S.turn_page(-1),
                    S.turn_page(1),
                    "Pages of organizations with one supervisor",
                ),
            ),
            id="single",
        ),
        header_actions=(account_actions(),),
    )


# --- The dashboard panel --------------------------------------------------------------------------


def _select(name: str, label: str, rows, value_key: str, text) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=field_id(name), style=LABEL_STYLE),
        rx.el.select(
            rx.foreach(rows, lambda r: rx.el.option(text(r), value=r[value_key])),
            id=field_id(name),
            name=name,
            style=_SELECT,
        ),
        style={"display": "grid", "gap": "0.3rem"},
    )


def _move_form() -> rx.Component:
    return rx.el.form(
        rx.el.h4("Move a last day", style={"margin": "0.5rem 0 0.25rem"}),
        rx.el.div(
            _select(
                "move_access_end",
                "Whose access",
                P.expiring,
                "id",
                lambda r: r["person"].to(str) + " (" + r["last_day_label"].to(str) + ")",
            ),
            plain_field(
                "move_last_day", "New last day", "", P.errors, P.revision, input_type="date", width="12rem"
            ),
            rx.el.button("Move the last day", type="submit", class_name="portal-button secondary"),
            style=_ROW,
        ),
        on_submit=P.move,
        reset_on_submit=False,
        aria_label="Move a last day",
    )


def _nominate_form() -> rx.Component:
    return rx.el.form(
        rx.el.p(
            "You are the only supervisor of ",
            rx.el.strong(P.needs_backup_names),
            ". If you are away or leave, nobody can request or remove access for it. Name a backup: "
            "program staff approve them.",
        ),
        rx.el.div(
            _select("nominate_organization", "Organization", P.needs_backup, "id", lambda o: o["name"]),
            plain_field(
                "nominate_first_name",
                "First name",
                "",
                P.errors,
                P.revision,
                width="12rem",
                autocomplete="off",
            ),
            plain_field("nominate_last_name", "Last name", "", P.errors, P.revision, width="12rem"),
            plain_field(
                "nominate_email", "Work email", "", P.errors, P.revision, input_type="email", width="18rem"
            ),
            rx.el.button("Ask to add this supervisor", type="submit", class_name="portal-button"),
            style=_ROW,
        ),
        on_submit=P.nominate,
        reset_on_submit=True,
        aria_label="Name a backup supervisor",
    )


def lifecycle_needs_you() -> rx.Component:
    """The supervisor's forms of access over time (the entries themselves are in "Needs you")."""
    return rx.cond(
        P.shows_panel,
        section(
            "Access over time",
            error_summary(
                [
                    ("move_last_day", field_id("move_last_day")),
                    ("nominate_first_name", field_id("nominate_first_name")),
                    ("nominate_last_name", field_id("nominate_last_name")),
                    ("nominate_email", field_id("nominate_email")),
                ],
                P.errors,
            ),
            rx.el.div(message_notices(P.message, P.problem), id="lifecycle-status", tab_index=-1),
            rx.cond(
                P.expiring.length() > 0,
                rx.fragment(
                    rx.el.h3("Access that ends on a set day", style={"font_size": "1.2rem"}),
                    rx.el.p("Access that ends within 14 days is under “Needs you”, with “Extend "
                            "access” for time-limited access. To move a last day, choose whose "
                            "access below."),
                    _move_form(),
                ),
            ),
            rx.cond(
                P.needs_backup.length() > 0,
                rx.fragment(
                    rx.el.h3(
                        "Name a backup supervisor", style={"font_size": "1.2rem", "margin_top": "1.5rem"}
                    ),
                    _nominate_form(),
                ),
            ),
            id="lifecycle-needs-you",
        ),
    )


def my_supervisors_panel() -> rx.Component:
    """Everyone: who supervises them at each organization where they hold access."""
    return rx.cond(
        P.my_supervisors.length() > 0,
        section(
            "Your supervisors",
            rx.el.dl(
                rx.foreach(
                    P.my_supervisors,
                    lambda s: rx.fragment(
                        rx.el.dt(s["organization"], style={"font_weight": "700"}),
                        rx.el.dd(s["names"], style={"margin": "0 0 0.5rem", "overflow_wrap": "anywhere"}),
                    ),
                )
            ),
            id="my-supervisors",
        ),
    )
