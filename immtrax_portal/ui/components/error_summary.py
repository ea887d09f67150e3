"""The error summary at the top of a form step (the GOV.UK / USWDS pattern).

It is announced when it appears (``role="alert"``), receives focus after a failed "Continue"
(``focus_error_summary``), and links every problem to its field; a link moves focus into the
field, because the single-page router would otherwise swallow the "#id" jump.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.ui import theme

SUMMARY_ID = "error-summary"

# Focus an element once React has drawn it (it may appear with the same update that asks).
_FOCUS_WHEN_DRAWN = (
    "(function f(n){{var e=document.getElementById({target});"
    "if(e){{e.focus({{preventScroll:true}});e.scrollIntoView({{block:'center'}});}}"
    "else if(n>0){{setTimeout(function(){{f(n-1)}},30)}}}})(30)"
)


def focus_element(element_id: str) -> rx.event.EventSpec:
    """An event that moves keyboard focus to ``element_id`` as soon as it exists."""
    return rx.call_script(_FOCUS_WHEN_DRAWN.format(target=json.dumps(element_id)))


def focus_error_summary() -> rx.event.EventSpec:
    return focus_element(SUMMARY_ID)


def error_summary(items: list[tuple[str, str]], errors: Var, *, title: str = "There is a problem",
                  summary_id: str = SUMMARY_ID) -> rx.Component:
    """``items``: (error key, id of the control it belongs to), in the order of the form;
    ``summary_id`` for a second form on the same page (focus it with ``focus_element``)."""
    has_errors = rx.Var.create(False)
    for key, _ in items:
        has_errors = has_errors | errors.contains(key)
    links = [
        rx.cond(
            errors.contains(key),
            rx.el.li(rx.el.a(errors[key].to(str), href=f"#{target}",
                             on_click=[rx.prevent_default, focus_element(target)],
                             style={"color": theme.ERROR, "font_weight": "700"})),
        )
        for key, target in items
    ]
    return rx.cond(
        has_errors,
        rx.el.div(
            rx.el.h2(title, style={"font_size": "1.3rem", "margin": "0 0 0.5rem"}),
            rx.el.ul(*links, style={"margin": "0", "padding_left": "1.25rem"}),
            id=summary_id,
            role="alert",
            tab_index=-1,
            style={"border": f"4px solid {theme.ERROR}", "padding": "1rem 1.1rem",
                   "margin": "0 0 1.5rem", "background": "white", "color": theme.INK},
        ),
    )
