"""The User Agreement as applicants read it; the staff review step shows a new version the same way."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import theme


def agreement_text(title: Var, label: Var, paragraphs: Var, *, heading_id: str) -> rx.Component:
    return rx.el.article(
        rx.el.h2(title, id=heading_id, style={"font_size": "1.5rem", "margin": "0 0 0.25rem"}),
        rx.el.p("Version ", label, style={"color": theme.MUTED, "margin": "0 0 1rem"}),
        rx.foreach(paragraphs, lambda text: rx.el.p(text, style={"max_width": "48rem"})),
        aria_labelledby=heading_id,
        style={"border": f"1px solid {theme.BORDER}", "padding": "1.25rem", "background": "white",
               "margin": "1rem 0 1.5rem"},
    )
