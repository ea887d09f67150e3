"""Several people in one submission (/requests/new/several): layout only; rules in the state/services."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.enums import AccessLevel
from immtrax_portal.services.batch.rows import FIELDS, LABELS, MAX_CSV_BYTES, MAX_PEOPLE
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.browser_gate import browser_gate
from immtrax_portal.ui.components.error_summary import SUMMARY_ID
from immtrax_portal.ui.components.form_field import ERROR_STYLE, HINT_STYLE, INPUT_STYLE, LABEL_STYLE
from immtrax_portal.ui.components.layout import notice, page_frame, section
from immtrax_portal.ui.pages.org_import import labelled_upload
from immtrax_portal.ui.state.batch import HEADING_ID, READY_ID, RECEIPT_ID, UPLOAD_ID
from immtrax_portal.ui.state.batch import BatchState as S

ROW = {"display": "flex", "flex_wrap": "wrap", "gap": "0.75rem", "align_items": "center", "margin": "1rem 0"}
CELL_LABEL = {**LABEL_STYLE, "font_size": "0.95rem"}
TYPES = {
    "first_name": "text",
    "last_name": "text",
    "email": "email",
    "phone": "tel",
    "job_title": "text",
    "start_date": "date",
}
COLUMNS_TEXT = ", ".join(LABELS[f].lower() for f in FIELDS)


def _input_style(error: rx.Var) -> dict:
    return {
        **INPUT_STYLE,
        "font_size": "1rem",
        "min_width": "0",
        "padding": "0.5rem 0.45rem",
        "border": rx.cond(error != "", f"3px solid {theme.ERROR}", f"2px solid {theme.INK}"),
    }


def _cell(row: rx.Var, name: str) -> rx.Component:
    """One cell: a visible label, the control (debounced: the server hears a pause, a blur or Enter),
    and its error, which screen readers hear with the control."""
    control_id, error = row[f"id_{name}"], row[f"e_{name}"]
    props = dict(
        id=control_id,
        name="r" + row["n"] + "." + name,
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=rx.cond(error != "", control_id + "-error", ""),
        on_change=lambda value: S.set_cell(row["index"], name, value),
        style=_input_style(error),
    )
    if name == "access_level":
        control = rx.el.select(
            rx.el.option("Choose a level", value=""),
            *[rx.el.option(level.label, value=level.value) for level in AccessLevel],
            # Uncontrolled, so "Check" reads the choice even before the server has heard it; redrawn
            # from the server's rows whenever they are replaced (``revision``).
            default_value=row["level_value"],
            key=S.revision.to_string() + "-" + row["n"],
            **props,
        )
    else:
        control = rx.debounce_input(
            rx.el.input(type=TYPES[name], value=row[name], auto_complete="off", **props),
            debounce_timeout=300,
            force_notify_on_blur=True,
            force_notify_by_enter=True,
        )
    return rx.el.div(
        rx.el.label(LABELS[name], html_for=control_id, style=CELL_LABEL),
        control,
        rx.cond(
            error != "",
            rx.el.p(
                rx.el.span("Error: ", class_name="visually-hidden"),
                error,
                id=control_id + "-error",
                style={**ERROR_STYLE, "font_size": "0.95rem"},
            ),
        ),
        style={"display": "grid", "gap": "0.25rem", "align_content": "start", "min_width": "0"},
    )


def _registry(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["registry"] != "",
        rx.el.div(
            rx.el.p(row["registry"], style={"font_weight": "700", "margin": "0"}),
            rx.el.div(
                rx.cond(
                    row["offer"] == "switch",
                    rx.el.button(
                        row["offer_label"],
                        type="button",
                        class_name="portal-button",
                        on_click=S.switch_row(row["index"]),
                    ),
                ),
                rx.cond(
                    row["change_link"] != "",
                    rx.el.a(
                        "Start a Permissions Change for them",
                        href=row["change_link"],
                        class_name="portal-button secondary",
                    ),
                ),
                rx.cond(
                    row["open_link"] != "",
                    rx.el.a(
                        "Open the request already open",
                        href=row["open_link"],
                        class_name="portal-button secondary",
                    ),
                ),
                rx.cond(
                    row["offer"] != "switch",
                    rx.el.button(
                        "Remove this person from the list",
                        type="button",
                        class_name="portal-button secondary",
                        on_click=S.remove_row(row["index"]),
                    ),
                ),
                style={"display": "flex", "flex_wrap": "wrap", "gap": "0.6rem"},
            ),
            style={
                "background": theme.WARNING_BG,
                "border_left": "8px solid #ffbe2e",
                "padding": "0.75rem 1rem",
                "display": "grid",
                "gap": "0.6rem",
                "grid_column": "1 / -1",
            },
        ),
    )


def _person(row: rx.Var) -> rx.Component:
    wrong = row["state"] == "wrong"
    return rx.el.fieldset(
        rx.el.legend(
            "Person ",
            row["n"],
            ": ",
            row["type_label"],
            rx.cond(row["state"] == "ok", rx.el.span(" — ready", style={"color": theme.SUCCESS})),
            rx.cond(wrong, rx.el.span(" — needs correcting", style={"color": theme.ERROR})),
            style={"font_weight": "700", "padding": "0 0.4rem"},
        ),
        rx.el.div(
            *[_cell(row, name) for name in FIELDS],
            _registry(row),
            style={
                "display": "grid",
                "gap": "0.75rem",
                "grid_template_columns": "repeat(auto-fill, minmax(min(8.9rem, 100%), 1fr))",
            },
        ),
        rx.el.button(
            "Remove person ",
            row["n"],
            type="button",
            class_name="link-button",
            on_click=S.remove_row(row["index"]),
            style={
                "margin_top": "0.5rem",
                "background": "none",
                "border": "0",
                "color": theme.BLUE,
                "text_decoration": "underline",
                "min_height": "44px",
                "padding": "0.25rem 0",
                "font": "inherit",
                "cursor": "pointer",
            },
        ),
        style={
            "border": rx.cond(wrong, f"3px solid {theme.ERROR}", f"1px solid {theme.BORDER}"),
            "border_radius": "0.3rem",
            "padding": "0.75rem 1rem",
            "margin": "0 0 1rem",
            "background": "white",
            "min_width": "0",
        },
    )


def _summary() -> rx.Component:
    return rx.cond(
        S.summary.length() > 0,
        rx.el.div(
            rx.el.h2(
                S.wrong,
                " of ",
                S.row_count,
                " people need correcting",
                style={"font_size": "1.3rem", "margin": "0 0 0.5rem"},
            ),
            rx.el.p("Nothing is submitted until every person is ready.", style={"margin": "0 0 0.5rem"}),
            rx.el.ul(
                rx.foreach(
                    S.summary,
                    lambda item: rx.el.li(
                        rx.el.a(
                            item["text"],
                            href="#" + item["target"],
                            on_click=[
                                rx.prevent_default,
                                rx.call_script(
                                    "document.getElementById(" + item["target"].to_string() + ")?.focus()"
                                ),
                            ],
                            style={"color": theme.ERROR, "font_weight": "700"},
                        )
                    ),
                ),
                style={"margin": "0", "padding_left": "1.25rem"},
            ),
            id=SUMMARY_ID,
            role="alert",
            tab_index=-1,
            style={
                "border": f"4px solid {theme.ERROR}",
                "padding": "1rem 1.1rem",
                "margin": "0 0 1.5rem",
                "background": "white",
            },
        ),
    )


def _list_in() -> rx.Component:
    return section(
        "Paste or upload a list",
        rx.el.p(
            "One person on each line, in this order: ",
            COLUMNS_TEXT,
            ". A first line that names the "
            "columns is fine, in any order. Rows copied from a spreadsheet work too.",
            style={**HINT_STYLE, "margin_bottom": "0.75rem"},
        ),
        rx.el.form(
            rx.el.label("Rows to paste", html_for="batch-paste", style=LABEL_STYLE),
            rx.cond(
                S.paste_error != "",
                rx.el.p(
                    rx.el.span("Error: ", class_name="visually-hidden"),
                    S.paste_error,
                    id="batch-paste-error",
                    style=ERROR_STYLE,
                ),
            ),
            rx.el.textarea(
                id="batch-paste",
                name="pasted",
                rows=4,
                key=S.revision.to_string(),
                aria_describedby=rx.cond(S.paste_error != "", "batch-paste-error", ""),
                placeholder="Nora,Newhire,nora.newhire@clinic.example,406-555-0142,Nurse,2027-01-11,"
                "Record Maintenance",
                style={**INPUT_STYLE, "min_height": "6rem", "resize": "vertical", "font_size": "1rem"},
            ),
            rx.el.div(
                rx.el.button("Put these people in the list", type="submit", class_name="portal-button"),
                style=ROW,
            ),
            on_submit=S.paste,
            no_validate=True,
            style={"display": "grid", "gap": "0.35rem", "max_width": "48rem"},
        ),
        rx.el.p("Or upload a CSV file", id="batch-upload-label", tab_index=-1, style=LABEL_STYLE),
        labelled_upload(
            rx.el.div(
                rx.el.button(
                    "Choose a CSV file",
                    type="button",
                    class_name="portal-button secondary",
                    aria_describedby="batch-upload-label batch-upload-hint",
                ),
                rx.el.span(
                    f"or drop it here (UTF-8, at most {MAX_CSV_BYTES // 1024} KB)",
                    id="batch-upload-hint",
                    style={"color": theme.MUTED},
                ),
                style={"display": "flex", "gap": "0.75rem", "align_items": "center", "flex_wrap": "wrap"},
            ),
            id=UPLOAD_ID,
            multiple=False,
            max_files=1,
            max_size=MAX_CSV_BYTES,
            accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]},
            no_keyboard=True,
            on_drop=S.upload_file(rx.upload_files(upload_id=UPLOAD_ID)),
            labelled_by="batch-upload-label",
            style={
                "border": f"2px dashed {theme.BORDER}",
                "padding": "1rem",
                "border_radius": "0.3rem",
                "max_width": "48rem",
                "background": "white",
                "box_sizing": "border-box",
            },
        ),
        rx.cond(
            S.file_error != "",
            rx.el.p(
                rx.el.span("Error: ", class_name="visually-hidden"),
                S.file_error,
                role="alert",
                style=ERROR_STYLE,
            ),
        ),
        id="batch-list-in",
    )


def _table() -> rx.Component:
    return section(
        "The people",
        rx.el.p(
            f"Up to {MAX_PEOPLE} people. Each is checked as the single request form checks one person, "
            "including whether they already hold imMTrax access.",
            style=HINT_STYLE,
        ),
        _summary(),
        rx.el.form(
            rx.foreach(S.rows, _person),
            rx.el.div(
                rx.el.button(
                    "Check these people", type="submit", class_name="portal-button", id="batch-check"
                ),
                rx.el.button(
                    "Add a person",
                    type="button",
                    class_name="portal-button secondary",
                    on_click=S.add_row,
                    disabled=S.row_count >= MAX_PEOPLE,
                ),
                style=ROW,
            ),
            on_submit=S.check,
            no_validate=True,
        ),
        rx.cond(
            S.ready,
            notice(
                rx.el.p(
                    rx.el.strong("All ", S.row_count, " people are ready."),
                    " Each gets a request of their own, with its own number and invitation.",
                    style={"margin": "0 0 0.75rem"},
                ),
                rx.el.button(
                    "Submit ",
                    S.row_count,
                    " requests",
                    type="button",
                    class_name="portal-button",
                    id=READY_ID,
                    on_click=S.submit,
                    disabled=S.submitting,
                ),
                tone="info",
                role="status",
            ),
        ),
        id="batch-people",
    )


def _receipt() -> rx.Component:
    return rx.el.div(
        rx.el.h2(
            "Requests submitted",
            id=RECEIPT_ID,
            tab_index=-1,
            style={"font_size": "1.6rem", "color": theme.NAVY},
        ),
        rx.el.p(
            "One request for each person at ",
            rx.el.strong(S.organization_name),
            ". A receipt listing them is on its way to your email.",
            role="status",
        ),
        rx.el.div(
            rx.el.table(
                rx.el.caption("The requests you submitted", class_name="visually-hidden"),
                rx.el.thead(
                    rx.el.tr(
                        *[
                            rx.el.th(h, scope="col", style={"text_align": "left", "padding": "0.4rem"})
                            for h in ("Number", "Request", "Person")
                        ]
                    )
                ),
                rx.el.tbody(
                    rx.foreach(
                        S.receipt,
                        lambda r: rx.el.tr(
                            rx.el.td(
                                rx.el.a(r["number"], href=r["link"]),
                                style={"padding": "0.4rem", "white_space": "nowrap"},
                            ),
                            rx.el.td(r["type_label"], style={"padding": "0.4rem"}),
                            rx.el.td(r["person"], style={"padding": "0.4rem"}),
                        ),
                    )
                ),
                style={"border_collapse": "collapse", "min_width": "20rem"},
            ),
            class_name="table-scroll",
            tab_index=0,
            role="region",
            aria_label="The requests you submitted",
        ),
        rx.el.h3(
            "What happens next",
            style={"margin": "1.5rem 0 0.5rem", "font_size": "1.25rem", "font_weight": "700"},
        ),
        rx.el.ol(rx.foreach(S.next_steps, lambda step: rx.el.li(step))),
        rx.el.div(
            rx.el.a("Go to your dashboard", href=routes.DASHBOARD, class_name="portal-button"),
            rx.el.button(
                "Start another list",
                type="button",
                class_name="portal-button secondary",
                on_click=S.start_over,
            ),
            style=ROW,
        ),
    )


def _organization() -> rx.Component:
    return rx.cond(
        S.organizations.length() > 1,
        rx.el.div(
            rx.el.label("Organization", html_for="batch-organization", style=LABEL_STYLE),
            rx.el.select(
                rx.el.option("Choose the organization", value=""),
                rx.foreach(S.organizations, lambda o: rx.el.option(o["name"], value=o["id"])),
                id="batch-organization",
                value=S.organization_id,
                on_change=S.choose_organization,
                style={**INPUT_STYLE, "max_width": "28rem"},
            ),
            style={"display": "grid", "gap": "0.3rem", "margin": "0 0 1rem"},
        ),
        rx.el.p("These requests are for ", rx.el.strong(S.organization_name), "."),
    )


def _form() -> rx.Component:
    return rx.fragment(
        rx.el.p(
            "New Access for several people at one organization, up to ",
            MAX_PEOPLE,
            ". For one person, or to change or remove someone's access, use ",
            rx.el.a("the single request form", href=routes.WIZARD),
            ".",
        ),
        _organization(),
        rx.cond(S.organization_id != "", rx.fragment(_list_in(), _table())),
    )


def batch_page() -> rx.Component:
    return page_frame(
        rx.el.h1(
            "Request access for several people",
            id=HEADING_ID,
            tab_index=-1,
            style={
                "font_size": "clamp(1.6rem, 5vw, 2.2rem)",
                "line_height": "1.2",
                "color": theme.NAVY,
                "margin": "0.25rem 0 1rem",
                "outline": "none",
            },
        ),
        rx.cond(S.notice != "", notice(rx.el.p(S.notice, style={"margin": "0"}), role="alert")),
        browser_gate(
            rx.cond(
                S.loaded,
                rx.cond(S.receipt.length() > 0, _receipt(), _form()),
                rx.el.p("Loading…", aria_live="polite"),
            )
        ),
        header_actions=(account_actions(),),
    )


open_batch = S.open_page
"""The page's on_load event."""
