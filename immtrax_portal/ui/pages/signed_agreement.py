"""/signed-agreement?number=…: a signed User Agreement, as its signer (or staff) can read it."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.layout import button_link, notice, page_frame
from immtrax_portal.ui.components.links import server_link
from immtrax_portal.ui.state.signed_agreement import SignedAgreementState as S


def _facts() -> rx.Component:
    return rx.el.dl(
        rx.foreach(S.facts, lambda fact: rx.fragment(
            rx.el.dt(fact[0], style={"font_weight": "700"}),
            rx.el.dd(fact[1], style={"margin": "0 0 0.5rem", "overflow_wrap": "anywhere"}))),
        style={"display": "grid", "grid_template_columns": "minmax(8rem, max-content) 1fr", "gap": "0 1rem"},
    )


def _signed() -> rx.Component:
    return rx.fragment(
        rx.el.p(rx.cond(S.text_verified,
                        "The agreement text below is exactly the text that was signed (its fingerprint "
                        "matches).",
                        "Warning: the stored agreement text no longer matches the fingerprint recorded at "
                        "signing. Call the program."),
                style={"font_weight": "700", "color": rx.cond(S.text_verified, theme.SUCCESS, theme.ERROR)}),
        _facts(),
        rx.el.div(
            server_link("Download as PDF", href=S.pdf_link, class_name="portal-button"),
            button_link("Go to your dashboard", routes.DASHBOARD, variant="secondary"),
            style={"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "margin": "1rem 0 1.5rem"},
        ),
        rx.el.article(
            rx.el.h2(S.title, id="signed-text-heading", style={"font_size": "1.5rem", "margin": "0"}),
            rx.el.p("Version ", S.label, style={"color": theme.MUTED}),
            rx.foreach(S.text_paragraphs, lambda text: rx.el.p(text, style={"max_width": "48rem"})),
            rx.el.h3("Statements confirmed", style={"font_size": "1.15rem"}),
            rx.el.ul(rx.foreach(S.acknowledgements, lambda text: rx.el.li(text))),
            aria_labelledby="signed-text-heading",
            style={"border": f"1px solid {theme.BORDER}", "padding": "1.25rem", "background": "white"},
        ),
    )


def signed_agreement_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Signed imMTrax User Agreement", style={"font_size": "2rem", "color": theme.NAVY}),
        rx.cond(S.found, _signed(),
                rx.cond(S.problem != "", notice(rx.el.p(S.problem, style={"margin": "0"}), role="alert"),
                        rx.el.p("Loading…", aria_live="polite"))),
        header_actions=(account_actions(),),
    )
