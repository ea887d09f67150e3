"""The step indicator: "Step 2 of 5" in words, and the steps as an ordered list.

The current step carries ``aria-current="step"``; done steps say so in text (not only by colour).
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import theme


def _step(number: int, title: Var | str, current: Var) -> rx.Component:
    is_current = current == number
    is_done = current > number
    return rx.el.li(
        rx.el.span(str(number), aria_hidden="true", style={
            "display": "inline-flex", "align_items": "center", "justify_content": "center",
            "width": "1.8rem", "height": "1.8rem", "border_radius": "50%", "flex_shrink": "0",
            "font_weight": "700", "border": f"2px solid {theme.BLUE}",
            "background": rx.cond(is_current | is_done, theme.BLUE, "white"),
            "color": rx.cond(is_current | is_done, "white", theme.BLUE),
        }),
        rx.el.span(
            title,
            rx.cond(is_done, rx.el.span(" (done)", class_name="visually-hidden")),
            style={"font_weight": rx.cond(is_current, "700", "400")},
        ),
        aria_current=rx.cond(is_current, "step", None),
        style={"display": "flex", "align_items": "center", "gap": "0.45rem", "color": theme.INK,
               "padding_bottom": "0.35rem",
               "border_bottom": rx.cond(is_current, f"4px solid {theme.BLUE}", "4px solid transparent")},
    )


def stepper(titles: list[Var | str], current: Var, *, label: str = "Progress") -> rx.Component:
    """``titles`` of every step in order; ``current`` is the 1-based step number."""
    return rx.el.nav(
        rx.el.p(
            "Step ", current.to_string(), " of ", str(len(titles)),
            style={"font_weight": "700", "color": theme.MUTED, "margin": "0 0 0.4rem"},
        ),
        rx.el.ol(
            *[_step(number, title, current) for number, title in enumerate(titles, start=1)],
            style={"list_style": "none", "padding": "0", "margin": "0", "display": "flex",
                   "flex_wrap": "wrap", "gap": "0.5rem 1.25rem"},
        ),
        aria_label=label,
        style={"margin": "0 0 1.5rem"},
    )
