"""The idle-timeout warning dialog of every page frame (``ui/state/session_timeout.py``).

An ``alertdialog`` (modal, labelled and described), focus moved in when it opens and kept inside
(``portal.js``), "Stay signed in" first. The clock ticks visibly every second but is hidden from
screen readers; they hear the time left when the dialog opens (its description) and then now and
then through a polite live region that exists before anything is written into it.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.native_form import NativeForm
from immtrax_portal.ui.state.session_timeout import DIALOG_ID, STAY_BUTTON_ID
from immtrax_portal.ui.state.session_timeout import SessionTimeoutState as T


def _dialog() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h2("Are you still there?", id="session-timeout-title",
                     style={"font_size": "1.4rem", "margin": "0 0 0.75rem", "color": theme.NAVY}),
            rx.el.div(
                rx.el.p(
                    "For your security you will be signed out soon because nothing has happened for "
                    "a while. Time left: ",
                    rx.el.strong(T.countdown, aria_hidden="true", data_testid="session-timeout-clock",
                                 style={"font_variant_numeric": "tabular-nums"}),
                    rx.el.span(T.countdown_words, class_name="visually-hidden"),
                    ".",
                    style={"margin": "0 0 0.5rem"},
                ),
                rx.el.p("What you entered in a request is kept. If you are signed out, sign in again to "
                        "carry on where you left off.", style={"margin": "0"}),
                id="session-timeout-description",
            ),
            rx.el.div(
                rx.el.button("Stay signed in", type="button", id=STAY_BUTTON_ID, class_name="portal-button",
                             on_click=T.stay_signed_in),
                NativeForm.create(
                    rx.el.button("Sign out", type="submit", class_name="portal-button secondary"),
                    action=routes.SIGN_OUT, method="post", style={"margin": "0"},
                ),
                style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "margin_top": "1.25rem"},
            ),
            id=DIALOG_ID,
            role="alertdialog",
            aria_modal="true",
            aria_labelledby="session-timeout-title",
            aria_describedby="session-timeout-description",
            style={"background": "white", "color": theme.INK, "border_radius": "0.4rem",
                   "border_top": f"6px solid {theme.NAVY}", "padding": "1.5rem",
                   "width": "min(32rem, calc(100vw - 2rem))", "max_height": "calc(100vh - 2rem)",
                   "overflow_y": "auto", "box_shadow": "0 10px 30px rgba(0,0,0,.3)"},
        ),
        style={"position": "fixed", "inset": "0", "z_index": "1000", "display": "flex",
               "align_items": "center", "justify_content": "center",
               "background": "rgba(16, 24, 40, 0.6)"},
    )


def session_timeout_warning() -> rx.Component:
    """The dialog (when due), its live region, and the watcher started once the page is shown."""
    return rx.el.div(
        rx.cond(T.warning_open, _dialog()),
        rx.el.div(T.announcement, aria_live="polite", role="status", class_name="visually-hidden",
                  id="session-timeout-announcement"),
        on_mount=T.watch,
    )
