"""/staff/agreements: the published User Agreement versions and the form for the next one."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.services.agreement_admin import MAX_ACKNOWLEDGEMENTS
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.agreement_text import agreement_text
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import field_id, plain_field, plain_text_area
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.organizations import data_table
from immtrax_portal.ui.state.agreement_versions import FORM_HEADING_ID, REVIEW_HEADING_ID
from immtrax_portal.ui.state.agreement_versions import AgreementVersionsState as S

_FIELDS = ["label", "title", "body", "acknowledgements", "resign_by"]


def _notices() -> rx.Component:
    return rx.fragment(
        rx.cond(S.problem != "", notice(rx.el.p(S.problem, style={"margin": "0"}), role="alert")),
        rx.el.div(
            rx.cond(S.message != "", notice(rx.el.p(S.message, style={"margin": "0"}), tone="info")),
            id="agreement-versions-status", role="status", tab_index=-1,
        ),
    )


def _versions() -> rx.Component:
    return section(
        "Published versions",
        rx.el.p("Applicants sign the current version. A version is never changed after it is "
                "published: each signature keeps the version and a fingerprint of its text."),
        data_table(
            "Published versions, newest first", ["Version", "Title", "Published", "By", "Statements",
                                                 "Signatures", "Status"], S.rows,
            lambda r: [rx.el.strong(r["label"]), r["title"], r["published"], r["published_by"],
                       r["acknowledgements"], r["signatures"],
                       rx.cond(r["current"], rx.el.strong("Current: applicants sign this"), "Replaced")],
            caption_visible=False, min_width="52rem"),
        rx.cond(S.pages > 1, pager(S.page, S.pages, S.turn_page(-1), S.turn_page(1), "Version pages")),
        id="versions",
    )


def _form() -> rx.Component:
    return rx.el.form(
        error_summary([(n, field_id(n)) for n in _FIELDS], S.errors,
                      title="The new version cannot be reviewed yet"),
        rx.el.p("The form starts from the current version (", S.current_label, "). Change what needs "
                "changing, give the new version its own label, then review it before it is published."),
        plain_field("label", "Version label", S.label, S.errors, S.revision, width="14rem",
                    hint="For example 2026-2. Letters, digits, dots, dashes or underscores; each label "
                         "is used once."),
        plain_field("title", "Title", S.title, S.errors, S.revision, width="36rem"),
        plain_text_area("body", "Agreement text", S.body, S.errors, S.revision, rows=16, field_width="52rem",
                        hint="Leave a blank line between paragraphs; other line breaks are ignored."),
        plain_text_area("acknowledgements", "Statements the applicant ticks", S.acknowledgements, S.errors,
                        S.revision, rows=6, field_width="52rem",
                        hint=f"One statement per line, up to {MAX_ACKNOWLEDGEMENTS}. The applicant must tick "
                             "every one before signing."),
        _sign_again(),
        rx.el.button("Review the new version", type="submit", class_name="portal-button"),
        on_submit=S.review,
        no_validate=True,
        reset_on_submit=False,
        aria_labelledby=FORM_HEADING_ID,
    )


def _sign_again() -> rx.Component:
    """Whether everyone with access must sign this version again, and by when (issue 16)."""
    return rx.el.fieldset(
        rx.el.legend("Signing again", style={"font_weight": "700", "font_size": "1.15rem", "padding": "0"}),
        rx.el.label(
            rx.el.input(type="checkbox", id=field_id("everyone_signs_again"), name="everyone_signs_again",
                        default_checked=S.everyone_signs_again, key=S.revision,
                        style={"width": "1.5rem", "height": "1.5rem", "flex": "none"}),
            rx.el.span("Everyone with access must sign this version again"),
            html_for=field_id("everyone_signs_again"),
            style={"display": "flex", "gap": "0.6rem", "align_items": "center", "min_height": "44px",
                   "cursor": "pointer"},
        ),
        plain_field("resign_by", "Sign again by", S.resign_by, S.errors, S.revision, input_type="date",
                    width="14rem", hint="Only when everyone must sign again. Access of anyone who has "
                    "not signed by the end of this day (Montana time) is suspended until they sign. "
                    "Reminders go 30, 7 and 1 days before."),
        style={"border": "0", "padding": "0", "margin": "0 0 1.5rem", "min_width": "0"},
    )


def _review() -> rx.Component:
    return rx.el.div(
        rx.el.h2("Check the new version before publishing", id=REVIEW_HEADING_ID, tab_index=-1,
                 style={"font_size": "1.6rem", "color": theme.NAVY}),
        rx.el.p("This is what applicants will read. Once you publish it, everyone who opens or reloads "
                "an invitation signs this version; signatures already made keep theirs."),
        rx.el.p(rx.el.strong(S.review_changes)),
        rx.el.p(S.review_resign, id="review-resign"),
        agreement_text(S.review_title, S.review_label, S.review_paragraphs, heading_id="review-text-heading"),
        rx.el.h3("The applicant ticks each of these", style={"font_size": "1.2rem"}),
        rx.el.ul(rx.foreach(S.review_acknowledgements, lambda text: rx.el.li(text)),
                 style={"max_width": "48rem"}),
        rx.el.div(
            rx.el.button("Publish version ", S.review_label, type="button", class_name="portal-button",
                         on_click=S.publish),
            rx.el.button("Go back and edit", type="button", class_name="portal-button secondary",
                         on_click=S.edit_again, custom_attrs={"data-confirm-no": "true"}),
            style={"display": "flex", "gap": "0.75rem", "flex_wrap": "wrap", "margin": "1rem 0"},
        ),
        # Publishing cannot be undone: this step is its question; Escape is "Go back and edit".
        custom_attrs={"data-confirm": "true"},
        style={"border_top": f"4px solid {theme.NAVY}", "padding_top": "0.5rem", "margin_top": "1.5rem"},
    )


def agreement_versions_page() -> rx.Component:
    return page_frame(
        rx.el.h1("User Agreement versions", style={"font_size": "2rem", "color": theme.NAVY}),
        _notices(),
        rx.cond(
            S.reviewing,
            _review(),
            rx.el.section(
                rx.el.h2("Publish a new version", id=FORM_HEADING_ID, tab_index=-1,
                         style={"font_size": "1.6rem", "color": theme.NAVY, "margin": "1.5rem 0 0.75rem"}),
                _form(),
                aria_labelledby=FORM_HEADING_ID,
            ),
        ),
        _versions(),
        header_actions=(account_actions(),),
    )
