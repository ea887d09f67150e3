"""/agreement/<token>: the invited person reads and signs the imMTrax User Agreement.

One page, several situations, each with its own heading and a way forward: not signed in yet,
signed in with another account, a link that expired / was used / was replaced / is unknown,
the agreement itself, and the receipt once signed. The Safari / Apple-device gate applies.
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
from immtrax_portal.ui.components.layout import button_link, notice, okta_guide_link, page_frame, section
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.state.agreement import AgreementState as A

HEADINGS = {
    "valid": "Sign the imMTrax User Agreement",
    "expired": "This invitation has expired",
    "used": "This invitation has already been used",
    "revoked": "This invitation link no longer works",
    "unknown": "We do not recognise this invitation link",
    "signed": "You signed the imMTrax User Agreement",
}
FIRST_ACK_ID = "field-ack-0"
CHECKBOX_STYLE = {"width": "1.4rem", "height": "1.4rem", "margin": "0.1rem 0 0", "flex_shrink": "0",
                  "accent_color": theme.BLUE}


def _heading() -> rx.Component:
    return rx.el.h1(
        rx.match(A.status, *HEADINGS.items(), "Your imMTrax User Agreement"),
        id="agreement-heading", tab_index=-1,
        style={"font_size": "2rem", "color": theme.NAVY, "margin": "0 0 0.75rem"},
    )


def _fact(label: str, value) -> rx.Component:
    return rx.fragment(rx.el.dt(label, style={"font_weight": "700"}),
                       # A long email address wraps instead of widening a phone's page.
                       rx.el.dd(value, style={"margin": "0 0 0.5rem", "overflow_wrap": "anywhere",
                                              "min_width": "0"}))


def _invitation_facts() -> rx.Component:
    return rx.el.dl(
        _fact("Request", A.request_number),
        _fact("Organization", A.organization_name),
        _fact("Invited person", A.invited_name),
        _fact("Invitation sent to", A.invited_email_hint),
        rx.cond(A.status == "valid", _fact("Link valid until", A.expires_on)),
        style={"display": "grid", "grid_template_columns": "max-content 1fr", "gap": "0 1rem",
               "margin": "1rem 0"},
    )


def _dead_link() -> rx.Component:
    """Expired, used, revoked or unknown: what happened, in plain words, and who can help."""
    return rx.fragment(
        notice(rx.el.p(A.message, style={"margin": "0"}), role="alert"),
        rx.cond(A.request_number != "", _invitation_facts()),
        rx.el.p(button_link("Go to your dashboard", routes.DASHBOARD)),
    )


def _sign_in_first() -> rx.Component:
    return rx.fragment(
        rx.el.p("You were invited to sign the imMTrax User Agreement. Signing it is the step before "
                "the Montana Immunization Program creates your imMTrax account."),
        _invitation_facts(),
        rx.el.p("Sign in with your Okta account that uses the work email the invitation was sent to. "
                "Opening this page does not use up the link."),
        rx.el.p(server_link("Sign in to continue", href=A.sign_in_link, class_name="portal-button")),
        rx.el.p("No Okta account yet? Follow the ", okta_guide_link(),
                ", then come back to this link.", style={"color": theme.MUTED}),
    )


def _wrong_account() -> rx.Component:
    return rx.fragment(
        rx.el.h2("This invitation is for another account", style={"font_size": "1.5rem"}),
        notice(rx.el.p(A.message, style={"margin": "0"}), role="alert"),
        _invitation_facts(),
        rx.el.p("Sign out here, then open the invitation link again and sign in with the invited account."),
        rx.el.div(sign_out_form(), style={"margin": "0.5rem 0 1rem"}),
    )


def _acknowledgement(text, index) -> rx.Component:
    # The id is a Var, not an f-string of one: an f-string embeds the Var's per-process hash into a
    # generated ref name, and two builds of the same sources would then differ.
    box_id = rx.Var.create("field-ack-") + index.to_string()
    return rx.el.label(
        rx.el.input(type="checkbox", id=box_id, name=rx.Var.create("ack-") + index.to_string(),
                    value="yes", style=CHECKBOX_STYLE,
                    aria_describedby=rx.cond(A.acknowledgement_error != "", "field-ack-error", "")),
        rx.el.span(text),
        html_for=box_id,
        style={"display": "flex", "gap": "0.7rem", "align_items": "flex-start", "min_height": "44px",
               "padding": "0.55rem 0.75rem", "border": f"1px solid {theme.BORDER}",
               "border_radius": "0.3rem", "background": "white", "cursor": "pointer"},
    )


def _agreement_text() -> rx.Component:
    return agreement_text(A.agreement_title, A.agreement_label, A.agreement_paragraphs,
                          heading_id="agreement-text-heading")


def _signature_form() -> rx.Component:
    error = A.name_error
    name_id = field_id("typed_name")
    return rx.el.form(
        rx.el.fieldset(
            rx.el.legend("I confirm each statement", style={"font_weight": "700", "font_size": "1.15rem"}),
            rx.cond(A.acknowledgement_error != "",
                    rx.el.p(rx.el.span("Error: ", class_name="visually-hidden"), A.acknowledgement_error,
                            id="field-ack-error", style=ERROR_STYLE)),
            rx.el.div(rx.foreach(A.acknowledgements, _acknowledgement),
                      style={"display": "grid", "gap": "0.5rem"}),
            style={"border": "0", "padding": "0", "margin": "0 0 1.5rem"},
        ),
        rx.el.div(
            rx.el.label("Type your full name to sign", html_for=field_id("typed_name"), style=LABEL_STYLE),
            rx.el.p("First and last name, as on the invitation: ", A.invited_name, ".",
                    id=f"{field_id('typed_name')}-hint", style=HINT_STYLE),
            field_error("typed_name", error),
            rx.el.input(id=field_id("typed_name"), name="typed_name", type="text", auto_complete="name",
                        aria_invalid=rx.cond(error != "", "true", "false"),
                        aria_describedby=rx.cond(error != "", f"{name_id}-hint {name_id}-error",
                                                 f"{name_id}-hint"),
                        style={**INPUT_STYLE, "max_width": "28rem"}),
            style={"display": "grid", "gap": "0.3rem", "margin": "0 0 1.5rem"},
        ),
        rx.el.button(rx.cond(A.signing, "Signing…", "Sign the agreement"), type="submit",
                     class_name="portal-button", disabled=A.signing, aria_disabled=A.signing),
        rx.el.p(rx.cond(A.signing, "Signing the agreement, please wait.", ""), role="status",
                class_name="visually-hidden"),
        on_submit=A.sign,
        no_validate=True,
        reset_on_submit=False,
        aria_labelledby="agreement-heading",
    )


def _agreement() -> rx.Component:
    return rx.fragment(
        error_summary([("acknowledgements", FIRST_ACK_ID), ("typed_name", field_id("typed_name"))], A.errors),
        rx.el.p(A.message),
        _invitation_facts(),
        _agreement_text(),
        _signature_form(),
    )


def _receipt() -> rx.Component:
    return rx.fragment(
        rx.el.div(rx.el.p(A.message, style={"margin": "0", "font_weight": "700"}), role="status",
                  style={"border_left": f"8px solid {theme.SUCCESS}", "background": "#ecf3ec",
                         "padding": "0.9rem 1.1rem", "margin": "1rem 0"}),
        rx.el.dl(_fact("Request", A.request_number), _fact("Organization", A.organization_name),
                 _fact("Signed by", A.signed_name), _fact("Signed on", A.signed_at),
                 style={"display": "grid", "grid_template_columns": "max-content 1fr", "gap": "0 1rem"}),
        section(
            "What happens next",
            rx.el.ol(
                rx.el.li("Program staff review the request."),
                rx.el.li("When your imMTrax account is ready, they send your login credentials to your "
                         "work email. The portal never sends passwords."),
            ),
            id="next",
        ),
        rx.el.div(
            server_link("Download your signed agreement (PDF)", href=A.pdf_link, class_name="portal-button"),
            rx.el.a("Read your signed agreement", href=A.signed_agreement_link,
                    class_name="portal-button secondary"),
            button_link("Go to your dashboard", routes.DASHBOARD, variant="secondary"),
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "margin": "1.5rem 0"},
        ),
    )


def _body() -> rx.Component:
    return rx.match(
        A.status,
        ("loading", rx.el.p("Checking your invitation link…", aria_live="polite")),
        ("signed", _receipt()),
        ("valid", rx.match(A.identity, ("ok", _agreement()), ("wrong", _wrong_account()), _sign_in_first())),
        _dead_link(),
    )


def agreement_page() -> rx.Component:
    return page_frame(
        browser_gate(rx.fragment(
            _heading(),
            rx.cond(A.problem != "", notice(rx.el.p(A.problem, style={"margin": "0"}), role="alert")),
            _body(),
        )),
        header_actions=(account_actions(),),
    )
