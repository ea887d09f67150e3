"""Staff upload the registry's inactivity report: choose the CSV, read the preview, confirm."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.services.inactivity import MAX_BYTES, MAX_ROWS
from immtrax_portal.ui import theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.form_field import ERROR_STYLE, HINT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.org_import import import_or_discard, labelled_upload
from immtrax_portal.ui.pages.organizations import data_table, message_notices
from immtrax_portal.ui.pages.staff_queue import staff_nav
from immtrax_portal.ui.state.inactivity_import import UPLOAD_ID
from immtrax_portal.ui.state.inactivity_import import InactivityImportState as S


def _format_help() -> rx.Component:
    return rx.fragment(
        rx.el.p("Upload imMTrax's report of users who have not logged in (14, 30, 60 or 90 days). The "
                "first row names the columns ", rx.el.code("username,last_login"), "; a last login "
                "is a date like ", rx.el.code("2026-03-01"), " or ", rx.el.code("03/01/2026"), "."),
        rx.el.p(S.thresholds),
        rx.el.p(f"At most {MAX_BYTES // 1_000_000} MB and {MAX_ROWS:,} rows. Importing the same report "
                "twice changes nothing. Nothing is imported until you confirm the preview.",
                style=HINT_STYLE),
    )


def _chooser() -> rx.Component:
    return rx.el.div(
        rx.el.p("CSV file of the inactivity report", id="activity-csv-label", style=LABEL_STYLE),
        labelled_upload(
            rx.el.div(
                rx.el.button("Choose a CSV file", type="button", class_name="portal-button",
                             aria_describedby="activity-csv-label activity-csv-hint"),
                rx.el.span("or drop it here", id="activity-csv-hint", style={"color": theme.MUTED}),
                style={"display": "flex", "gap": "0.75rem", "align_items": "center", "flex_wrap": "wrap"},
            ),
            id=UPLOAD_ID, multiple=False, max_files=1, max_size=MAX_BYTES,
            accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]},
            no_keyboard=True,
            on_drop=S.preview_file(rx.upload_files(upload_id=UPLOAD_ID)),
            labelled_by="activity-csv-label",
            style={"border": f"2px dashed {theme.BORDER}", "padding": "1rem", "border_radius": "0.3rem",
                   "max_width": "36rem", "background": "white", "box_sizing": "border-box"},
        ),
        rx.cond(S.file_error != "", rx.el.p(rx.el.span("Error: ", class_name="visually-hidden"),
                                           S.file_error, role="alert", style=ERROR_STYLE)),
        style={"margin": "1rem 0"},
    )


def _summary() -> rx.Component:
    return rx.el.div(
        rx.el.p(rx.el.strong(S.file_name), ": ", S.changes, " with a new last sign-in, ", S.unchanged,
                " unchanged; rows with errors, left out: ", S.error_count, ".", role="status"),
        import_or_discard(S.changes, ("Import ", S.changes,
                                      rx.cond(S.changes == 1, " last sign-in", " last sign-ins")),
                          S.confirm_import(S.fingerprint), S.discard_preview),
    )


def _errors() -> rx.Component:
    return rx.cond(S.error_count > 0, section(
        "Rows with errors",
        rx.el.p("These rows will not be imported.", style=HINT_STYLE),
        data_table("Problems by row", ["Row", "Username", "Problem"], S.error_rows,
                   lambda e: [e["row"], e["username"],
                              rx.el.span(e["message"], style={"color": theme.ERROR})],
                   min_width="28rem", caption_visible=False),
        rx.cond(S.errors_pages > 1, pager(S.errors_page, S.errors_pages, S.turn_page("errors", -1),
                                          S.turn_page("errors", 1), "Pages of rows with errors")),
        id="import-errors",
    ))


def _rows() -> rx.Component:
    return rx.cond(S.rows.length() > 0, section(
        "Preview",
        data_table("What the import will do", ["Row", "Result", "Username", "Last sign-in", "Who"], S.rows,
                   lambda r: [r["row"], rx.el.strong(r["outcome"]), r["username"], r["last_login"],
                              r["people"]],
                   min_width="44rem", caption_visible=False),
        rx.cond(S.rows_pages > 1, pager(S.rows_page, S.rows_pages, S.turn_page("rows", -1),
                                        S.turn_page("rows", 1), "Preview pages")),
        id="import-preview",
    ))


def inactivity_import_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Inactivity report", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        message_notices(S.result, S.problem),
        _format_help(),
        _chooser(),
        rx.cond(S.has_preview, rx.fragment(notice(_summary(), tone="info"), _errors(), _rows())),
        header_actions=(account_actions(),),
    )
