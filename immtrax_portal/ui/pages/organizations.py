"""Staff pages: the list of organizations, and one organization with its supervisors."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.confirm import confirm_panel
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import (
    FIELD_STYLE,
    HINT_STYLE,
    INPUT_STYLE,
    LABEL_STYLE,
    error_of,
    field_error,
    field_id,
    plain_field,
)
from immtrax_portal.ui.components.layout import button_link, notice, page_frame, section
from immtrax_portal.ui.components.live_status import live_status
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.state.organizations import STATUS_ID, UNLINK_CONFIRM_ID
from immtrax_portal.ui.state.organizations import OrganizationsState as L
from immtrax_portal.ui.state.organizations import OrganizationState as O

CELL = {"padding": "0.55rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}",
        "text_align": "left", "vertical_align": "top"}


def data_table(caption: str, headers: list[str], rows: Var, cells, *, min_width: str = "40rem",
               caption_visible: bool = True) -> rx.Component:
    """A captioned table in a keyboard-scrollable region (narrow screens scroll it sideways)."""
    caption_style = ({"text_align": "left", "font_weight": "700", "padding": "0.5rem 0"}
                     if caption_visible else {})
    return rx.el.div(
        rx.el.table(
            rx.el.caption(caption, style=caption_style,
                          class_name="" if caption_visible else "visually-hidden"),
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=CELL) for h in headers])),
            rx.el.tbody(rx.foreach(rows, lambda row: rx.el.tr(
                *[rx.el.td(cell, style=CELL) for cell in cells(row)]))),
            style={"width": "100%", "border_collapse": "collapse", "min_width": min_width},
        ),
        class_name="table-scroll", tab_index=0, role="region", aria_label=caption,
    )


def message_notices(message: Var, problem: Var) -> rx.Component:
    return rx.fragment(
        rx.cond(problem != "", notice(rx.el.p(problem, style={"margin": "0"}), role="alert")),
        rx.el.div(rx.cond(message != "", notice(rx.el.p(message, style={"margin": "0"}), tone="info")),
                  id=STATUS_ID, role="status", tab_index=-1),
    )


def staff_nav() -> rx.Component:
    return rx.el.nav(
        rx.el.a("Organizations", href=routes.STAFF_ORGANIZATIONS),
        rx.el.a("Add an organization", href=routes.STAFF_ORGANIZATION),
        rx.el.a("Import organizations from a file", href=routes.STAFF_ORGANIZATION_IMPORT),
        aria_label="Organizations",
        style={"display": "flex", "gap": "1.25rem", "flex_wrap": "wrap", "margin": "0 0 1rem"},
    )


# --- The list -------------------------------------------------------------------------------------


def _search_form() -> rx.Component:
    return rx.el.form(
        rx.el.label("Search by the start of the name or code", html_for="org-search",
                    style={**LABEL_STYLE, "display": "block"}),
        rx.el.div(
            rx.el.input(id="org-search", name="q", type="search", default_value=L.search_term,
                        auto_complete="off",
                        style={**INPUT_STYLE, "max_width": "22rem"}),
            rx.el.button("Search", type="submit", class_name="portal-button"),
            rx.cond(L.search_term != "", rx.el.button("Show all", type="button", on_click=L.clear_search,
                                                      class_name="portal-button secondary")),
            style={"display": "flex", "gap": "0.5rem", "flex_wrap": "wrap", "align_items": "center"},
        ),
        on_submit=L.search,
        no_validate=True,
        reset_on_submit=False,
        role="search",
        style={"margin": "0 0 1rem"},
    )


def organizations_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Organizations", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        live_status(L),
        message_notices(rx.Var.create(""), L.message),
        _search_form(),
        rx.el.p(L.count_text, rx.cond(L.search_term != "", rx.el.span(
            " whose name or code starts with “", L.search_term, "”")), ".", role="status"),
        data_table(
            "Organizations", ["Code", "Name", "City", "Status", "Supervisors", "Active users"], L.rows,
            lambda r: [rx.el.a(rx.el.strong(r["code"]), style={"white_space": "nowrap"},
                               href=routes.STAFF_ORGANIZATION + "?id=" + r["id"].to(str)),
                       r["name"], r["city"], r["active"], r["supervisors"], r["active_users"]],
            caption_visible=False),
        pager(L.page, L.pages, L.previous_page, L.next_page, "Organization pages"),
        header_actions=(account_actions(),),
    )


# --- One organization -----------------------------------------------------------------------------

_FORM_FIELDS = ["name", "code", "city", "active"]


def _active_box() -> rx.Component:
    error = error_of(O.errors, "active")
    return rx.el.div(
        field_error("active", error),
        rx.el.label(
            rx.el.input(type="checkbox", id=field_id("active"), name="active", default_checked=O.active,
                        key=O.revision, aria_invalid=rx.cond(error != "", "true", "false"),
                        aria_describedby=rx.cond(error != "", f"{field_id('active')}-error", ""),
                        style={"width": "1.4rem", "height": "1.4rem", "accent_color": theme.BLUE}),
            rx.el.span("Active: supervisors can submit requests for this organization"),
            html_for=field_id("active"),
            style={"display": "flex", "gap": "0.6rem", "align_items": "center", "min_height": "44px",
                   "font_weight": "700"},
        ),
        style={**FIELD_STYLE,
               "border_left": rx.cond(error != "", f"5px solid {theme.ERROR}", "5px solid transparent"),
               "padding_left": "0.75rem", "margin_left": "calc(-0.75rem - 5px)"},
    )


def _organization_form() -> rx.Component:
    return rx.el.form(
        error_summary([(n, field_id(n)) for n in _FORM_FIELDS], O.errors),
        plain_field("name", "Name", O.name, O.errors, O.revision),
        plain_field("code", "Code (provider PIN)", O.code, O.errors, O.revision, width="16rem",
                    hint="Letters, digits and hyphens, for example BFC-0101. Unique; case does not matter."),
        plain_field("city", "City (optional)", O.city, O.errors, O.revision, width="22rem"),
        _active_box(),
        rx.el.button(rx.cond(O.org_id > 0, "Save changes", "Add organization"), type="submit",
                     class_name="portal-button"),
        on_submit=O.save,
        no_validate=True,
        reset_on_submit=False,
        aria_label="Organization details",
    )


def _unlink_confirmation(person: Var) -> rx.Component:
    return rx.cond(
        O.unlink_person_id == person["person_id"],
        confirm_panel(
            UNLINK_CONFIRM_ID, rx.Var.create("Unlink ") + O.unlink_name + "?",
            rx.Var.create("") + O.unlink_name + " will no longer be a supervisor of " + O.name
            + ": they stop seeing its requests and roster and cannot submit new requests for it. "
            "Requests already submitted stay as they are. You can link them again later.",
            rx.Var.create("Yes, unlink ") + O.unlink_name, O.unlink_supervisor(person["person_id"]),
            "No, keep as supervisor", O.cancel_unlink,
            extra=rx.cond(O.unlink_warning != "", rx.el.p(rx.el.strong("Warning: "), O.unlink_warning,
                                                          style={"margin": "0 0 0.75rem"}))),
    )


def _supervisor_list() -> rx.Component:
    return rx.cond(
        O.supervisors.length() > 0,  # type: ignore[attr-defined]
        rx.el.ul(
            rx.foreach(O.supervisors, lambda s: rx.el.li(
                rx.el.div(
                    rx.el.div(rx.el.strong(s["name"]), rx.el.br(), s["email"], rx.el.br(),
                              rx.el.span("Linked ", s["linked_on"], " · signed in: ", s["signed_in"],
                                         style={"color": theme.MUTED})),
                    rx.cond(O.unlink_person_id != s["person_id"],
                            rx.el.button("Unlink", type="button", class_name="portal-button secondary",
                                         id="unlink-" + s["person_id"].to(str),
                                         on_click=O.ask_unlink(s["person_id"]),
                                         aria_label="Unlink " + s["name"].to(str))),
                    style={"display": "flex", "justify_content": "space-between", "gap": "0.75rem",
                           "flex_wrap": "wrap", "align_items": "center"},
                ),
                _unlink_confirmation(s),
                style={"border_bottom": f"1px solid {theme.BORDER}", "padding": "0.75rem 0"},
            )),
            style={"list_style": "none", "padding": "0", "margin": "0", "max_width": "48rem"},
        ),
        rx.el.p("No supervisors yet. Nobody can submit requests for this organization until one is "
                "linked."),
    )


def _link_form() -> rx.Component:
    names = ["email", "first_name", "last_name"]
    return rx.el.form(
        error_summary([(n, field_id(n)) for n in names], O.link_errors,
                      title="The supervisor was not linked"),
        plain_field("email", "Work email", "", O.link_errors, O.link_revision, input_type="email",
                    width="28rem",
                    hint="They sign in with Okta using this email and then act as a supervisor."),
        rx.el.p("If the portal does not know this person yet, give their name:", style=HINT_STYLE),
        plain_field("first_name", "First name", "", O.link_errors, O.link_revision, width="20rem"),
        plain_field("last_name", "Last name", "", O.link_errors, O.link_revision, width="20rem"),
        rx.el.button("Link supervisor", type="submit", class_name="portal-button"),
        on_submit=O.link_supervisor,
        no_validate=True,
        reset_on_submit=False,
        aria_label="Link a supervisor",
    )


def organization_page() -> rx.Component:
    return page_frame(
        rx.el.h1(O.heading, style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        rx.cond(O.org_id > 0, live_status(O)),
        message_notices(O.message, O.problem),
        rx.cond(
            O.found,
            rx.fragment(
                rx.cond(O.open_requests != "", rx.el.p(rx.el.strong("Open requests: "), O.open_requests)),
                section("Details", _organization_form(), id="details"),
                rx.cond(O.org_id > 0, rx.fragment(
                    section("Supervisors", _supervisor_list(), id="supervisors"),
                    section("Link a supervisor", _link_form(), id="link"),
                )),
            ),
            button_link("Back to organizations", routes.STAFF_ORGANIZATIONS, variant="secondary"),
        ),
        header_actions=(account_actions(),),
    )
