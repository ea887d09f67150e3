"""The public landing page: what the portal is for and what to have ready. No sign-in needed."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import (
    button_link,
    card,
    card_grid,
    notice,
    okta_guide_link,
    page_frame,
    section,
)

LEVEL_FITS = {
    AccessLevel.READ_ONLY_CONSENT: "Do they only look up records and update consent?",
    AccessLevel.RECORD_MAINTENANCE: "Will they add immunizations or patient records?",
    AccessLevel.VACCINE_MANAGEMENT: "Will they manage vaccine inventory and lots?",
}


def _access_levels() -> rx.Component:
    return section(
        "The three access levels",
        rx.el.p("Pick the least access that lets the person do their job. Each level includes "
                "everything the one before it allows."),
        card_grid(
            *[
                card(
                    level.label,
                    rx.el.p(level.description),
                    rx.el.p(rx.el.strong("Good fit: "), LEVEL_FITS[level],
                            style={"color": theme.MUTED, "margin_bottom": "0"}),
                    number=f"{level.rank}.",
                )
                for level in AccessLevel
            ]
        ),
        id="levels",
    )


def _request_types() -> rx.Component:
    return section(
        "Four kinds of request",
        rx.el.p("Supervisors registered with the program submit these for their organization."),
        card_grid(
            *[card(kind.label, rx.el.p(kind.when_to_use, style={"margin": "0"}))
              for kind in RequestType],
            min_width="14rem",
        ),
        id="types",
    )


def _before_you_start() -> rx.Component:
    s = get_settings()
    return section(
        "Before you start",
        rx.el.ul(
            rx.el.li(
                rx.el.strong("You need an Okta account first. "),
                "Everyone signs in with their own Okta account, and a new employee needs their "
                "own Okta account to sign the imMTrax User Agreement. No account yet? Follow the ",
                okta_guide_link(),
                ".",
            ),
            rx.el.li(
                rx.el.strong("Use Chrome, Edge or Firefox on a computer. "),
                "The forms cannot be filled out in Apple's Safari browser and must not be opened "
                "on an iPhone, iPad or other Apple mobile device.",
            ),
            rx.el.li(
                rx.el.strong("Report staff who leave. "),
                "It is each provider's responsibility to tell the program when a user leaves, "
                "changes position, or no longer needs access: submit an Access Deletion request.",
            ),
            style={"padding_left": "1.25rem", "display": "grid", "gap": "0.6rem"},
        ),
        notice(
            rx.el.p(
                rx.el.strong("Forgot your imMTrax password? "),
                f"imMTrax password resets are by phone: call {s.program_phone}, {s.program_hours}. "
                "This portal does not reset imMTrax passwords.",
                style={"margin": "0"},
            ),
            tone="info",
        ),
        id="before",
    )


def landing_page() -> rx.Component:
    return page_frame(
        rx.el.h1(
            "Request, change or remove imMTrax access",
            style={"font_size": "clamp(1.7rem, 5vw, 2.4rem)", "line_height": "1.2",
                   "margin": "0.5rem 0 0.75rem", "color": theme.NAVY},
        ),
        rx.el.p(
            "imMTrax is Montana's immunization information system. Paper forms are no longer "
            "accepted: supervisors at provider organizations request access for their staff here, "
            "new users sign the imMTrax User Agreement here, and everyone can follow their "
            "requests as the Montana Immunization Program works them.",
            style={"font_size": "1.15rem", "max_width": "48rem"},
        ),
        rx.el.div(
            button_link("Sign in", routes.sign_in_page_url()),
            rx.el.a("No Okta account yet?", href="#before"),
            style={"display": "flex", "gap": "1.25rem", "align_items": "center",
                   "flex_wrap": "wrap", "margin": "1.25rem 0"},
        ),
        _before_you_start(),
        _access_levels(),
        _request_types(),
        header_actions=(account_actions(),),
    )
