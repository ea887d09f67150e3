"""Staff import organizations from a CSV file: choose it, read the preview, then confirm."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.services.org_import import MAX_BYTES, MAX_ROWS
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import ERROR_STYLE, HINT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.organizations import data_table, message_notices, staff_nav
from immtrax_portal.ui.state.org_import import CHOOSE_ID, FILE_SUMMARY_ID, UPLOAD_ID
from immtrax_portal.ui.state.org_import import OrgImportState as S


def _format_help() -> rx.Component:
    return rx.fragment(
        rx.el.p("The first row names the columns: ", rx.el.code("code,name,city"), " and optionally ",
                rx.el.code("active"), " (yes or no). An organization whose code is already known is "
                "updated; a new code creates one. A blank active value leaves an existing "
                "organization as it is and makes a new one active."),
        rx.el.p(f"Save the file as CSV UTF-8. At most {MAX_BYTES // 1_000_000} MB and "
                f"{MAX_ROWS:,} rows. Nothing is imported until you confirm the preview.",
                style=HINT_STYLE),
    )


def labelled_upload(*children: rx.Component, labelled_by: str, **props) -> rx.Component:
    """``rx.upload`` whose hidden file input is named by the element ``labelled_by`` (axe: label)."""
    upload = rx.upload.root(*children, **props)
    zone = upload.children[0]
    file_input = zone.children[0]
    assert getattr(file_input, "type", None) is not None, "rx.upload no longer puts its input first"
    file_input.custom_attrs["aria-labelledby"] = labelled_by
    return upload


def _chooser() -> rx.Component:
    has_error = S.file_error != ""
    return rx.el.div(
        error_summary([("file", CHOOSE_ID)], S.file_errors, summary_id=FILE_SUMMARY_ID,
                      title="The file cannot be previewed"),
        rx.el.p("CSV file of organizations", id="org-csv-label", style=LABEL_STYLE),
        rx.cond(has_error, rx.el.p(rx.el.span("Error: ", class_name="visually-hidden"), S.file_error,
                                   id="org-csv-error", style=ERROR_STYLE)),
        labelled_upload(
            rx.el.div(
                rx.el.button("Choose a CSV file", type="button", class_name="portal-button", id=CHOOSE_ID,
                             aria_invalid=rx.cond(has_error, "true", "false"),
                             aria_describedby=rx.cond(has_error, "org-csv-label org-csv-hint org-csv-error",
                                                      "org-csv-label org-csv-hint")),
                rx.el.span("or drop it here", id="org-csv-hint", style={"color": theme.MUTED}),
                style={"display": "flex", "gap": "0.75rem", "align_items": "center",
                       "flex_wrap": "wrap"},
            ),
            id=UPLOAD_ID,
            multiple=False,
            # No accept/max_size here: the browser would refuse a file with a pop-up of its own
            # (a toast, in English code words); the server checks the name, size and content and
            # says at the field what is wrong.
            no_keyboard=True,
            on_drop=S.preview_file(rx.upload_files(upload_id=UPLOAD_ID)),
            labelled_by="org-csv-label",
            style={"border": rx.cond(has_error, f"3px solid {theme.ERROR}", f"2px dashed {theme.BORDER}"),
                   "padding": "1rem", "border_radius": "0.3rem",
                   "max_width": "36rem", "background": "white", "box_sizing": "border-box"},
        ),
        style={"margin": "1rem 0"},
    )


def _summary() -> rx.Component:
    return rx.el.div(
        rx.el.p(rx.el.strong(S.file_name), ": ", S.creates, " to create, ", S.updates, " to update, ",
                S.unchanged, " unchanged; rows with errors, left out: ", S.error_count, ".",
                role="status"),
        import_or_discard(S.creates + S.updates, ("Import ", S.creates + S.updates, " organizations"),
                          S.confirm_import(S.fingerprint), S.discard_preview),
    )


def import_or_discard(count, button_words: tuple, on_import, on_discard) -> rx.Component:
    """A previewed file's two ways on: import what it changes (``count`` rows), or discard it."""
    return rx.el.div(
        rx.cond(count > 0,
                rx.el.button(*button_words, type="button", class_name="portal-button", on_click=on_import),
                rx.el.p(rx.el.strong("Nothing to import:"), " every row is unchanged or has an error.",
                        style={"margin": "0", "align_self": "center"})),
        rx.el.button("Discard this file", type="button", class_name="portal-button secondary",
                     on_click=on_discard),
        style={"display": "flex", "gap": "0.6rem", "flex_wrap": "wrap", "margin": "0.5rem 0"},
    )


def _errors() -> rx.Component:
    return rx.cond(S.error_count > 0, section(
        "Rows with errors",
        rx.el.p("These rows will not be imported. Correct them in your file and import it again.",
                style=HINT_STYLE),
        data_table("Problems by row", ["Row", "Code", "Problem"], S.error_rows,
                   lambda e: [e["row"], e["code"], rx.el.span(e["message"], style={"color": theme.ERROR})],
                   min_width="28rem", caption_visible=False),
        rx.cond(S.errors_pages > 1, pager(S.errors_page, S.errors_pages, S.previous_errors_page,
                                          S.next_errors_page, "Pages of rows with errors")),
        id="import-errors",
    ))


def _rows() -> rx.Component:
    return rx.cond(S.row_total > 0, section(
        "Preview",
        data_table("What the import will do", ["Row", "Result", "Code", "Name", "City", "Active",
                                               "Changes"], S.rows,
                   lambda r: [r["row"], rx.el.strong(r["outcome_label"]),
                              rx.el.span(r["code"], style={"white_space": "nowrap"}), r["name"], r["city"],
                              r["active"], r["changes"]],
                   min_width="52rem", caption_visible=False),
        rx.cond(S.rows_pages > 1, pager(S.rows_page, S.rows_pages, S.previous_rows_page,
                                        S.next_rows_page, "Preview pages")),
        id="import-preview",
    ))


def org_import_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Import organizations", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        message_notices(S.result, S.problem),
        _format_help(),
        _chooser(),
        rx.cond(S.has_preview, rx.fragment(
            notice(_summary(), tone="info"),
            _errors(),
            _rows(),
        )),
        header_actions=(account_actions(),),
    )
