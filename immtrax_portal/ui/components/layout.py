"""The page frame: skip link, header with sign-in state, main landmark, footer with contacts."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.session_timeout import session_timeout_warning


def skip_link() -> rx.Component:
    return rx.el.a("Skip to main content", href="#main", class_name="skip-link")


def button_link(text: str, href: str, *, variant: str = "", **props):
    """A link that looks like a button, to a page of the portal (a server route: ``server_link``)."""
    return rx.el.a(text, href=href, class_name=f"portal-button {variant}".strip(), **props)


def site_header(*actions: rx.Component) -> rx.Component:
    return rx.el.header(
        rx.el.div(
            rx.el.a(
                rx.el.span("imMTrax", style={"font_weight": "800", "font_size": "1.35rem"}),
                rx.el.span(" Access Portal", style={"font_size": "1.1rem"}),
                href=routes.HOME,
                style={"color": "white", "text_decoration": "none"},
                aria_label="imMTrax Access Portal, home",
            ),
            rx.el.nav(
                *actions,
                aria_label="Account",
                style={"display": "flex", "gap": "0.75rem", "align_items": "center",
                       "flex_wrap": "wrap"},
            ),
            style={
                "max_width": theme.MAX_WIDTH, "margin": "0 auto", "padding": "0.75rem 1rem",
                "display": "flex", "justify_content": "space-between", "align_items": "center",
                "gap": "0.75rem", "flex_wrap": "wrap",
            },
        ),
        style={"background": theme.NAVY, "color": "white"},
    )


def help_line() -> rx.Component:
    """The program's phone line: the same words, as the footer's first control, on every page
    (WCAG 3.2.6 Consistent Help; the sign-in routes' own pages say it the same way)."""
    s = get_settings()
    return rx.el.p(
        "Need help? Call the ", rx.el.strong(s.program_name), " at ",
        rx.el.a(s.program_phone, href=routes.phone_href(s.program_phone),
                style={"white_space": "nowrap"}), ", ", s.program_hours, ".",
        id="help-line",
    )


def site_footer() -> rx.Component:
    s = get_settings()
    return rx.el.footer(
        rx.el.div(
            help_line(),
            rx.el.p(
                "imMTrax passwords are reset by phone at ", s.program_phone,
                ". This portal does not reset imMTrax passwords.",
            ),
            style={"max_width": theme.MAX_WIDTH, "margin": "0 auto", "padding": "1.25rem 1rem"},
        ),
        style={"background": theme.SURFACE, "border_top": f"1px solid {theme.BORDER}",
               "margin_top": "3rem", "color": theme.INK},
    )


def page_frame(*children: rx.Component, header_actions: tuple = ()) -> rx.Component:
    return rx.el.div(
        session_timeout_warning(),
        skip_link(),
        site_header(*header_actions),
        rx.el.main(
            *children,
            id="main",
            tab_index=-1,
            # Tells a test (or a script) that the tab's state has arrived: typing before it may be lost.
            custom_attrs={"data-hydrated": rx.State.is_hydrated.to_string()},
            style={"max_width": theme.MAX_WIDTH, "margin": "0 auto", "padding": "1.5rem 1rem",
                   "outline": "none"},
        ),
        site_footer(),
    )


def section(title: str, *children: rx.Component, id: str = "") -> rx.Component:
    heading_id = f"{id}-heading" if id else None
    return rx.el.section(
        rx.el.h2(title, id=heading_id,
                 style={"font_size": "1.5rem", "font_weight": "700", "margin": "2rem 0 0.75rem"}),
        *children,
        aria_labelledby=heading_id,
        # The id links land on ("…#actions" from the dashboard's "Answer the question").
        **({"id": id} if id else {}),
    )


def card_grid(*cards: rx.Component, min_width: str = "16rem") -> rx.Component:
    return rx.el.div(
        *cards,
        style={"display": "grid", "gap": "1rem",
               "grid_template_columns": f"repeat(auto-fit, minmax(min({min_width}, 100%), 1fr))"},
    )


def card(title: str, *children: rx.Component, number: str = "") -> rx.Component:
    return rx.el.article(
        rx.el.h3(
            *([rx.el.span(number, aria_hidden="true",
                          style={"color": theme.BLUE, "margin_right": "0.4rem"})] if number else []),
            title,
            style={"font_size": "1.2rem", "font_weight": "700", "margin": "0 0 0.5rem"},
        ),
        *children,
        style={"border": f"1px solid {theme.BORDER}", "border_top": f"5px solid {theme.BLUE}",
               "border_radius": "0.3rem", "padding": "1rem 1.1rem", "background": "white"},
    )


def notice(*children: rx.Component, tone: str = "warning", **props) -> rx.Component:
    colors = {"warning": (theme.WARNING_BG, "#ffbe2e"), "info": ("#e7f6f8", "#00bde3")}
    background, edge = colors[tone]
    return rx.el.div(
        *children,
        style={"background": background, "border_left": f"8px solid {edge}",
               "padding": "0.9rem 1.1rem", "margin": "1rem 0", "color": theme.INK},
        **props,
    )


def okta_guide_link() -> rx.Component:
    """The program's "Create Okta User Account" guide, opening in a new tab (and saying so)."""
    return rx.fragment(
        rx.el.a("Create Okta User Account guide", href=get_settings().okta_account_guide_url,
                target="_blank", rel="noopener noreferrer"),
        rx.el.span(" (opens in a new tab)", class_name="visually-hidden"),
    )
