"""``browser_gate(content)``: the blocking panel on Safari and Apple mobile devices, else content.

Used by the request wizard and, later, the User Agreement page. Dashboards are not wrapped: they
stay readable everywhere.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.settings import get_settings
from immtrax_portal.ui import theme
from immtrax_portal.ui.state.browser_gate import BrowserGateState

GATE_ID = "browser-gate"


def _copy_feedback() -> rx.Component:
    return rx.el.p(
        rx.match(
            BrowserGateState.copy_result,
            ("copied", "Link copied. Paste it into an email or a message to yourself."),
            ("failed", "This browser did not let us copy. Select the address above and copy it."),
            "",
        ),
        role="status",
        style={"margin": "0.25rem 0 0", "font_weight": "700", "color": theme.SUCCESS},
    )


def block_panel() -> rx.Component:
    s = get_settings()
    phone_digits = "".join(ch for ch in s.program_phone if ch.isdigit())
    return rx.el.section(
        rx.el.h2("Please switch to another browser", id="browser-gate-heading",
                 style={"font_size": "1.5rem", "margin": "0 0 0.5rem", "color": theme.NAVY}),
        rx.el.p(BrowserGateState.gate_message, style={"font_weight": "700"}),
        rx.el.p("The Montana Immunization Program's imMTrax forms cannot be filled out in Apple's "
                "Safari browser, and must not be opened on an iPhone, iPad or other Apple mobile "
                "device. Nothing you enter is lost: open this page on a computer with Google "
                "Chrome, Microsoft Edge or Mozilla Firefox and carry on there."),
        rx.el.label("The address of this page", html_for="browser-gate-url",
                    style={"font_weight": "700", "display": "block", "margin_top": "1rem"}),
        rx.el.input(id="browser-gate-url", value=BrowserGateState.gate_page_url, read_only=True,
                    style={"width": "100%", "max_width": "36rem", "min_height": "44px",
                           "box_sizing": "border-box", "padding": "0.4rem 0.6rem",
                           "border": f"2px solid {theme.INK}", "font_size": "1rem"}),
        rx.el.div(
            rx.el.button("Copy the link", type="button", class_name="portal-button",
                         on_click=BrowserGateState.copy_link),
            rx.el.a("Write an email with the link", href=BrowserGateState.gate_mailto,
                    class_name="portal-button secondary", aria_describedby="browser-gate-mail-hint"),
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "margin": "0.9rem 0 0"},
        ),
        rx.el.p("“Write an email with the link” opens a new message in your email app with the "
                "address in it. You choose whom to send it to; the portal sends nothing.",
                id="browser-gate-mail-hint", style={"margin": "0.5rem 0 0", "color": theme.MUTED}),
        _copy_feedback(),
        rx.el.p(
            "Need help? Call the ", s.program_name, " at ",
            rx.el.a(s.program_phone, href=f"tel:+1{phone_digits}", style={"white_space": "nowrap"}),
            ", ", s.program_hours, ".",
            style={"margin_top": "1rem"},
        ),
        id=GATE_ID,
        aria_labelledby="browser-gate-heading",
        style={"background": theme.WARNING_BG, "border_left": "8px solid #ffbe2e",
               "padding": "1.1rem 1.25rem", "margin": "1rem 0", "color": theme.INK},
    )


def browser_gate(content: rx.Component) -> rx.Component:
    """The block panel when the server (User-Agent) or the browser (iPad as Mac) says so."""
    return rx.el.div(
        rx.cond(BrowserGateState.gate_blocked, block_panel(), content),
        on_mount=BrowserGateState.start_browser_check,
    )
