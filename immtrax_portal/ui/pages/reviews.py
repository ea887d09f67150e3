"""The supervisor's roster review page: each open review's people to confirm, change or remove,
and the people imMTrax reports as idle. Layout only."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.organizations import message_notices
from immtrax_portal.ui.state.reviews import ReviewsState as R

_LINKS = {"display": "flex", "gap": "0.75rem", "flex_wrap": "wrap", "align_items": "center"}
_MUTED = {"color": theme.MUTED, "margin": "0"}
_TERM = {"font_weight": "700", "font_size": "0.9rem", "color": theme.MUTED}


def _facts(*pairs: tuple[str, Var | rx.Component]) -> rx.Component:
    """Label and value pairs side by side on a desktop, stacked on a phone."""
    return rx.el.dl(
        *[rx.el.div(rx.el.dt(label, style=_TERM), rx.el.dd(value, style={"margin": "0"}))
          for label, value in pairs],
        style={"display": "grid", "gap": "0.5rem 1.25rem", "margin": "0.5rem 0",
               "grid_template_columns": "repeat(auto-fit, minmax(min(11rem, 100%), 1fr))"},
    )


def _card(*children: rx.Component, **props) -> rx.Component:
    return rx.el.li(*children, style={"border": f"1px solid {theme.BORDER}", "border_radius": "0.3rem",
                                      "padding": "0.9rem 1rem", "background": "white",
                                      "margin": "0 0 0.75rem", "list_style": "none"}, **props)


_LIST = {"padding": "0", "margin": "0.75rem 0"}


def _answer(row: Var) -> rx.Component:
    name = row["name"].to(str)
    return rx.cond(
        row["may_answer"].to(bool),
        rx.el.div(
            rx.el.button("Still needed", type="button", class_name="portal-button",
                         on_click=R.confirm(row["item_id"].to(str)),
                         aria_label="Still needed: " + name + " still works here and still needs this level"),
            rx.el.a("Change level", href=row["change_href"].to(str),
                    aria_label="Change level of " + name),
            rx.el.a("Remove access", href=row["remove_href"].to(str),
                    aria_label="Remove access of " + name),
            style=_LINKS,
        ),
        rx.cond(row["why_not"].to(str) != "",
                rx.el.p(row["why_not"].to(str), style=_MUTED)),
    )


def _person(row: Var) -> rx.Component:
    return _card(
        rx.el.h4(row["name"], style={"font_size": "1.1rem", "font_weight": "700", "margin": "0"}),
        rx.el.p(row["email"], style={**_MUTED, "overflow_wrap": "anywhere"}),
        _facts(("Access level", row["level"]), ("Since", row["since"]),
               ("Agreement signed", row["agreement_signed"]),
               ("Last imMTrax sign-in", row["last_activity"]),
               ("Answer", rx.el.strong(row["outcome_label"]))),
        _answer(row),
        data_item=row["item_id"],
    )


def _review(review: Var) -> rx.Component:
    rows = review["rows"].to(list[dict])
    review_id = review["review_id"].to(str)
    caption = "People to confirm at " + review["organization"].to(str)
    return rx.el.div(
        rx.el.h3(review["organization"], style={"font_size": "1.25rem", "font_weight": "700",
                                                "margin": "1.25rem 0 0.25rem"}),
        rx.el.p(rx.el.strong(review["done"].to(str), " of ", review["total"].to(str), " answered"),
                ". Answer by ", rx.el.strong(review["ends"]), ". ",
                rx.cond(review["overdue"].to(bool),
                        rx.el.span("The window has ended: anyone still not confirmed on ",
                                   review["grace_ends"], " gets an Access Deletion.",
                                   style={"color": theme.ERROR, "font_weight": "700"}),
                        rx.el.span("After that, anyone not confirmed is shown to the program.")),
                style={"margin": "0 0 0.25rem"}),
        rx.el.p(review["rule"], style=_MUTED),
        rx.el.ul(rx.foreach(rows, _person), aria_label=caption, style=_LIST),
        rx.cond(review["pages"].to(int) > 1, pager(
            review["page"].to(int), review["pages"].to(int), R.turn_page(review_id, -1),
            R.turn_page(review_id, 1), "Pages of " + caption)),
        data_review=review_id,
    )


def _reviews_part() -> rx.Component:
    return section(
        "Roster reviews",
        rx.el.p("For each person, confirm that they still work with you and still need their access "
                "level, or change the level or remove the access (these open the usual request with "
                "the person already chosen)."),
        rx.cond(R.reviews.length() > 0, rx.foreach(R.reviews, _review),
                rx.el.p("No roster review is open for your organizations.", style=_MUTED)),
        id="reviews",
    )


def _idle_person(row: Var) -> rx.Component:
    name = row["name"].to(str)
    return _card(
        rx.el.h3(name, style={"font_size": "1.1rem", "font_weight": "700", "margin": "0"}),
        _facts(("Organization", row["organization"]), ("Access level", row["level"]),
               ("imMTrax username", row["username"]),
               ("Last sign-in", rx.el.span(row["last_login"], " (", row["days"], " days ago)"))),
        rx.el.div(
            rx.el.button("Still needed", type="button", class_name="portal-button",
                         on_click=R.confirm_idle(row["grant_id"].to(str)),
                         aria_label="Still needed: " + name + " still needs imMTrax access"),
            rx.el.a("Remove access", href=row["remove_href"].to(str),
                    aria_label="Remove access of " + name),
            style=_LINKS),
        data_idle=row["grant_id"],
    )


def _idle_part() -> rx.Component:
    return section(
        "People who have not used imMTrax for a long time",
        rx.el.p("imMTrax reports that these people have not signed in for a long time. Confirm that "
                "they still need access, or remove it. Long-idle access is removed: program staff "
                "confirm each removal."),
        rx.cond(R.idle.length() > 0,
                rx.el.ul(rx.foreach(R.idle, _idle_person), aria_label="Idle people", style=_LIST),
                rx.el.p("Nobody at your organizations is reported idle.", style=_MUTED)),
        id="idle",
    )


def reviews_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Confirm who still needs access", style={"font_size": "2rem", "color": theme.NAVY}),
        rx.el.p(rx.el.a("Back to your dashboard", href=routes.DASHBOARD)),
        message_notices(R.message, R.problem),
        rx.cond(R.loaded, rx.fragment(_reviews_part(), _idle_part()),
                notice(rx.el.p("Loading…", style={"margin": "0"}), tone="info", aria_live="polite")),
        header_actions=(account_actions(),),
    )
