"""Asking before what cannot be undone: one accessible confirmation for every destructive action.

The question appears where the action was started, as an ``alertdialog`` named by its heading and
described by its text, which says exactly what will happen. The handler that shows it moves focus
to the heading (``focus_element(heading_id)``), so a screen reader reads the question at once;
Escape anywhere inside it is "No" (``assets/portal.js``), and "No" changes nothing. The "Yes"
button says what it does ("Yes, remove the staff role"), never just "OK".
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import theme


def confirm_panel(heading_id: str, title: Var | str, body: Var | str | rx.Component,
                  yes: Var | str, on_yes, no: Var | str, on_no, *, extra: rx.Component | None = None
                  ) -> rx.Component:
    """The question, "Yes, …" (``on_yes``) and "No, …" (``on_no``, also Escape)."""
    return rx.el.div(
        rx.el.h3(title, id=heading_id, tab_index=-1,
                 style={"margin": "0 0 0.4rem", "font_size": "1.2rem", "outline_offset": "4px"}),
        rx.el.p(body, id=f"{heading_id}-text", style={"margin": "0 0 0.75rem", "max_width": "44rem"}),
        extra if extra is not None else rx.fragment(),
        rx.el.div(
            rx.el.button(yes, type="button", on_click=on_yes, class_name="portal-button"),
            rx.el.button(no, type="button", on_click=on_no, class_name="portal-button secondary",
                         custom_attrs={"data-confirm-no": "true"}),
            style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap"},
        ),
        rx.el.p("Press Escape to go back without changing anything.",
                style={"margin": "0.6rem 0 0", "color": theme.MUTED, "font_size": "0.95rem"}),
        role="alertdialog",
        aria_labelledby=heading_id,
        aria_describedby=f"{heading_id}-text",
        custom_attrs={"data-confirm": "true"},
        style={"background": theme.WARNING_BG, "border_left": "8px solid #ffbe2e",
               "padding": "0.9rem 1.1rem", "margin": "1rem 0", "color": theme.INK},
    )
