"""/renew/<token>: the person signs the imMTrax User Agreement again (yearly, or a new version).

Like the invitation page: sign in first with the account the link was sent to, read, tick, type
the name, sign; a link that expired, was replaced or was used says so and who can help.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions, sign_out_form
from immtrax_portal.ui.components.agreement_text import agreement_text
from immtrax_portal.ui.components.browser_gate import browser_gate
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import (
    ERROR_STYLE,
    HINT_STYLE,
    INPUT_STYLE,
    LABEL_STYLE,
    field_error,
    field_id,
)
from immtrax_portal.ui.components.layout import button_link, notice, page_frame
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.pages.agreement import CHECKBOX_STYLE, FIRST_ACK_ID
from immtrax_portal.ui.state.renewal import RenewalState as R

HEADINGS = {
    "valid": "Sign the imMTrax User Agreement again",
    "expired": "This link has expired",
    "used": "This link has already been used",
    "revoked": "This link no longer works",
    "unknown": "We do not recognise this link",
    "wrong_identity": "This link is for another account",
    "signed": "You signed the imMTrax User Agreement again",
}


def _heading() -> rx.Component:
    return rx.el.h1(
        rx.match(R.status, *HEADINGS.items(), "Your imMTrax User Agreement"),
        id="renewal-heading",
        tab_index=-1,
        style={"font_size": "2rem", "color": theme.NAVY, "margin": "0 0 0.75rem"},
    )


def _acknowledgement(text, index) -> rx.Component:
    box_id = rx.Var.create("field-ack-") + index.to_string()
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            id=box_id,
            name=rx.Var.create("ack-") + index.to_string(),
            value="yes",
            style=CHECKBOX_STYLE,
            aria_describedby=rx.cond(R.acknowledgement_error != "", "field-ack-error", ""),
        ),
        rx.el.span(text),
        html_for=box_id,
        style={
            "display": "flex",
            "gap": "0.7rem",
            "align_items": "flex-start",
            "min_height": "44px",
            "padding": "0.55rem 0.75rem",
            "border": f"1px solid {theme.BORDER}",
            "border_radius": "0.3rem",
            "background": "white",
            "cursor": "pointer",
        },
    )


def _form() -> rx.Component:
    error = R.name_error
    name_id = field_id("typed_name")
    return rx.el.form(
        rx.el.fieldset(
            rx.el.legend("I confirm each statement", style={"font_weight": "700", "font_size": "1.15rem"}),
            rx.cond(
                R.acknowledgement_error != "",
                rx.el.p(
                    rx.el.span("Error: ", class_name="visually-hidden"),
                    R.acknowledgement_error,
                    id="field-ack-error",
                    style=ERROR_STYLE,
                ),
            ),
            rx.el.div(
                rx.foreach(R.acknowledgements, _acknowledgement), style={"display": "grid", "gap": "0.5rem"}
            ),
            style={"border": "0", "padding": "0", "margin": "0 0 1.5rem"},
        ),
        rx.el.div(
            rx.el.label("Type your full name to sign", html_for=name_id, style=LABEL_STYLE),
            rx.el.p("First and last name: ", R.person_name, ".", id=f"{name_id}-hint", style=HINT_STYLE),
            field_error("typed_name", error),
            rx.el.input(
                id=name_id,
                name="typed_name",
                type="text",
                auto_complete="name",
                aria_invalid=rx.cond(error != "", "true", "false"),
                aria_describedby=rx.cond(error != "", f"{name_id}-hint {name_id}-error", f"{name_id}-hint"),
                style={**INPUT_STYLE, "max_width": "28rem"},
            ),
            style={"display": "grid", "gap": "0.3rem", "margin": "0 0 1.5rem"},
        ),
        rx.el.button("Sign the agreement again", type="submit", class_name="portal-button"),
        on_submit=R.sign,
        reset_on_submit=False,
        aria_labelledby="renewal-heading",
    )


def _agreement() -> rx.Component:
    return rx.fragment(
        error_summary([("acknowledgements", FIRST_ACK_ID), ("typed_name", field_id("typed_name"))], R.errors),
        rx.cond(
            R.lapsed,
            notice(
                rx.el.p(
                    "Your agreement lapsed on ",
                    R.due_label,
                    " and your imMTrax access is suspended. Signing now restores it.",
                    style={"margin": "0"},
                ),
                role="alert",
            ),
            rx.el.p("Sign by ", rx.el.strong(R.due_label), " to keep your imMTrax access."),
        ),
        agreement_text(
            R.agreement_title, R.agreement_label, R.agreement_paragraphs, heading_id="renewal-text-heading"
        ),
        _form(),
    )


def _sign_in_first() -> rx.Component:
    return rx.fragment(
        rx.el.p(
            "The imMTrax User Agreement is signed again from time to time. Sign in with your own "
            "Okta account (",
            R.email_hint,
            ") to read and sign it. Opening this page does not use up the link.",
        ),
        rx.el.p(
            server_link("Sign in to continue", href=R.sign_in_link, class_name="portal-button")
        ),
    )


def _dead_link() -> rx.Component:
    return rx.fragment(
        notice(rx.el.p(R.message, style={"margin": "0"}), role="alert"),
        rx.cond(R.status == "wrong_identity", rx.el.div(sign_out_form(), style={"margin": "0.5rem 0 1rem"})),
        rx.el.p(button_link("Go to your dashboard", routes.DASHBOARD)),
    )


def _signed() -> rx.Component:
    return rx.fragment(
        rx.el.div(
            rx.el.p(R.message, style={"margin": "0", "font_weight": "700"}),
            role="status",
            style={
                "border_left": f"8px solid {theme.SUCCESS}",
                "background": "#ecf3ec",
                "padding": "0.9rem 1.1rem",
                "margin": "1rem 0",
            },
        ),
        rx.el.p(button_link("Go to your dashboard", routes.DASHBOARD)),
    )


def _body() -> rx.Component:
    return rx.match(
        R.status,
        ("loading", rx.el.p("Checking your link…", aria_live="polite")),
        ("signed", _signed()),
        ("valid", rx.cond(R.signed_in, _agreement(), _sign_in_first())),
        _dead_link(),
    )


def renewal_page() -> rx.Component:
    return page_frame(
        browser_gate(
            rx.fragment(
                _heading(),
                rx.cond(R.problem != "", notice(rx.el.p(R.problem, style={"margin": "0"}), role="alert")),
                _body(),
            )
        ),
        header_actions=(account_actions(),),
    )
