"""The header's account area: who is signed in, and sign-in or sign-out."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes
from immtrax_portal.ui.components.layout import button_link
from immtrax_portal.ui.components.native_form import NativeForm
from immtrax_portal.ui.state.session import SessionState

__all__ = ["NativeForm", "account_actions", "sign_out_form"]


def sign_out_form() -> rx.Component:
    """Sign-out changes state, so it is a POST to the server route, not a link."""
    return NativeForm.create(
        rx.el.button("Sign out", type="submit", class_name="portal-button on-dark"),
        action=routes.SIGN_OUT,
        method="post",
        style={"margin": "0"},
    )


def account_actions() -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.fragment(
            rx.el.a("My dashboard", href=routes.DASHBOARD, style={"color": "white"}),
            rx.el.span(SessionState.display_name, " (", SessionState.role_label, ")",
                       style={"color": "white"}),
            sign_out_form(),
        ),
        # Back to this very page afterwards (an invitation link included), not the dashboard.
        button_link("Sign in", SessionState.sign_in_here, variant="on-dark"),
    )
