"""A paginated table of request rows (dicts from services.dashboards.RequestRow.as_dict)."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.ui import routes, theme

STATUS_COLOURS = {  # text colour on a light tint; all pairs >= 4.5:1
    "awaiting_agreement": ("#6b4a00", "#fff3d6"),
    "needs_info": ("#8a1f11", "#fde8e5"),
    "completed": (theme.SUCCESS, "#e3f5e9"),
    "rejected": ("#6f1414", "#f7e0e0"),
    "cancelled": (theme.MUTED, "#eeeeee"),
    "expired": (theme.MUTED, "#eeeeee"),
}
DEFAULT_COLOURS = (theme.BLUE_DARK, "#e8f1f9")


def status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    colour = rx.match(status, *[(k, v[0]) for k, v in STATUS_COLOURS.items()], DEFAULT_COLOURS[0])
    tint = rx.match(status, *[(k, v[1]) for k, v in STATUS_COLOURS.items()], DEFAULT_COLOURS[1])
    return rx.el.span(
        label,
        # A long status ("Awaiting agreement") may take two lines in a narrow column, so that a
        # wide table still fits its box at 1280 px.
        style={"color": colour, "background": tint, "padding": "0.15rem 0.55rem",
               "border_radius": "0.8rem", "font_weight": "700", "font_size": "0.9rem",
               "display": "inline-block", "line_height": "1.35"},
    )


_CELL = {"padding": "0.6rem 0.75rem", "border_bottom": f"1px solid {theme.BORDER}",
         "text_align": "left", "vertical_align": "top"}


# A wide table scrolls inside its region on a phone; its caption stays at the region's left edge
# and wraps within the window, so it is never cut off or scrolled away with the columns.
CAPTION_STYLE = {"text_align": "left", "font_weight": "700", "padding": "0.5rem 0", "font_size": "1.1rem",
                 "position": "sticky", "left": "0", "max_width": "calc(100vw - 2rem)"}


def request_table(caption: str, rows: rx.Var, *, empty_text: str, show_org: bool = True) -> rx.Component:
    headers = ["Number", "Type", "Person", *(["Organization"] if show_org else []), "Status",
               "Waiting on", "Last change"]
    return rx.cond(
        rows.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.table(
                rx.el.caption(caption, style=CAPTION_STYLE),
                rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col", style=_CELL) for h in headers])),
                rx.el.tbody(
                    rx.foreach(
                        rows,
                        lambda row: rx.el.tr(
                            rx.el.td(rx.el.a(rx.el.strong(row["number"]),
                                             href=f"{routes.REQUEST}?number=" + row["number"].to(str)),
                                     style=_CELL),
                            rx.el.td(row["type_label"], style=_CELL),
                            rx.el.td(row["person"], style=_CELL),
                            *([rx.el.td(row["organization"], style=_CELL)] if show_org else []),
                            rx.el.td(status_badge(row["status"], row["status_label"]), style=_CELL),
                            rx.el.td(row["waiting_on"], style=_CELL),
                            rx.el.td(row["updated"], style=_CELL),
                            data_number=row["number"],
                        ),
                    )
                ),
                style={"width": "100%", "border_collapse": "collapse", "min_width": "40rem"},
            ),
            style={"overflow_x": "auto"},
            tab_index=0,
            role="region",
            aria_label=caption,
        ),
        rx.el.p(empty_text, style={"color": theme.MUTED}),
    )


def pager(page: rx.Var, pages: rx.Var, on_previous, on_next, label: str) -> rx.Component:
    return rx.el.nav(
        rx.el.button("Previous page", on_click=on_previous, disabled=page <= 1,
                     class_name="portal-button secondary", type="button"),
        rx.el.span("Page ", page, " of ", pages, aria_live="polite"),
        rx.el.button("Next page", on_click=on_next, disabled=page >= pages,
                     class_name="portal-button secondary", type="button"),
        aria_label=label,
        style={"display": "flex", "gap": "1rem", "align_items": "center", "margin": "0.75rem 0",
               "flex_wrap": "wrap"},
    )
