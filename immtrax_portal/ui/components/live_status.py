"""One line that says the page keeps itself current, or why it stopped."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import theme


def live_status(state) -> rx.Component:
    """``state`` mixes in ``ui.state.live.LiveUpdates``."""
    return rx.el.p(
        rx.cond(
            state.live,
            rx.el.span("This page updates by itself. Last updated ", state.live_updated_at, "."),
            rx.el.span(state.live_note, role="status"),
        ),
        data_live=rx.cond(state.live, "on", "off"),
        style={"color": theme.MUTED, "margin": "0 0 0.5rem", "font_size": "0.95rem"},
    )
