"""Before Okta: what a person needs to sign in, and the way there."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.settings import get_settings
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import notice, okta_guide_link, page_frame, section
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.state.session import SignInPageState as S


def _demo_label() -> rx.Component:
    if not get_settings().uses_demo_sign_in:
        return rx.fragment()
    return notice(
        rx.el.p(
            rx.el.strong("Demo sign-in. "),
            "This installation is not connected to Okta: a demo sign-in service stands in for it "
            "and lets you choose one of the demo people. Never enter real information here.",
            style={"margin": "0"},
        ),
        data_testid="demo-sign-in-label",
    )


def sign_in_page() -> rx.Component:
    s = get_settings()
    return page_frame(
        rx.el.h1("Sign in to the imMTrax Access Portal",
                 style={"font_size": "2rem", "color": theme.NAVY}),
        rx.cond(S.timed_out, notice(
            rx.el.p(rx.el.strong("You were signed out because nothing happened for a while. "),
                    "Sign in again and you will be back on the page you were on. What you entered in a "
                    "request is kept.", style={"margin": "0"}),
            tone="info", role="status", data_testid="timed-out-notice")),
        _demo_label(),
        rx.el.p("You sign in with your own Okta account. The portal never sees your password."),
        rx.cond(S.continue_url != "",
                server_link("Continue to sign in with Okta", href=S.continue_url, class_name="portal-button"),
                rx.el.p("Getting the sign-in ready…", role="status")),
        section(
            "No Okta account yet?",
            rx.el.p(
                "Everyone needs their own Okta account before they can use this portal. Create one "
                "with the program's ",
                okta_guide_link(),
                ", then come back here.",
            ),
            rx.el.p(
                rx.el.strong("New employees: "),
                "you need your own Okta account to sign the imMTrax User Agreement. Use the same "
                "work email address your supervisor entered on your request.",
            ),
            rx.el.p(f"Questions? Call the {s.program_name} at {s.program_phone}, {s.program_hours}."),
            id="no-okta",
        ),
        header_actions=(account_actions(),),
    )
