"""Staff: every roster review's progress, the automatic deletions waiting for them, the figures,
an extra review for one organization, and the reviews' schedule. Layout only."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var

from immtrax_portal.services.review_schedule import GRACE, MONTHS, WINDOW
from immtrax_portal.ui import routes, theme
from immtrax_portal.ui.components.account import account_actions
from immtrax_portal.ui.components.error_summary import error_summary
from immtrax_portal.ui.components.form_field import field_id, plain_field
from immtrax_portal.ui.components.layout import card, card_grid, page_frame, section
from immtrax_portal.ui.components.request_table import pager
from immtrax_portal.ui.pages.organizations import data_table, message_notices
from immtrax_portal.ui.pages.staff_queue import staff_nav
from immtrax_portal.ui.state.staff_reviews import SCHEDULE_SUMMARY_ID
from immtrax_portal.ui.state.staff_reviews import StaffReviewsState as S

_FIGURE = {"font_size": "2rem", "font_weight": "700", "margin": "0", "color": theme.NAVY}


def review_figures(figures: Var) -> rx.Component:
    """The review and inactivity figures (also on the staff metrics page)."""
    def figure(title: str, key: str, hint: str) -> rx.Component:
        return card(title, rx.el.p(figures[key].to(str), style=_FIGURE),
                    rx.el.p(hint, style={"margin": "0", "color": theme.MUTED}))
    return card_grid(
        figure("Reviews open", "open", "Waiting for supervisors' answers."),
        figure("Overdue", "overdue", "Window ended with people not confirmed."),
        figure("Completed on time", "on_time", "Last 12 months."),
        figure("Closed late", "late", "Last 12 months."),
        figure("Removed by review", "by_review", "Access Deletions confirmed, last 12 months."),
        figure("Removed for inactivity", "by_inactivity", "Access Deletions confirmed, last 12 months."),
        min_width="10rem",
    )


def _status(row: Var) -> rx.Component:
    return rx.el.strong(row["status"], style={"color": rx.cond(row["overdue"].to(bool), theme.ERROR,
                                                                theme.INK)})


def _progress() -> rx.Component:
    return section(
        "Every review",
        rx.el.p(S.total, " reviews, open ones first.", style={"color": theme.MUTED}),
        data_table("Progress of every roster review",
                   ["Organization", "Kind", "Started", "Ends", "Answered", "Confirmed", "Changed",
                    "Access Deletions opened", "Status"], S.rows,
                   lambda r: [rx.el.strong(r["organization"]), r["kind"], r["started"], r["ends"],
                              rx.el.span(r["done"], " of ", r["total"]), r["confirmed"], r["changed"],
                              r["auto_deleted"], _status(r)],
                   min_width="56rem", caption_visible=False),
        rx.cond(S.pages > 1, pager(S.page, S.pages, S.turn_page(-1), S.turn_page(1), "Review pages")),
        id="progress",
    )


def _waiting() -> rx.Component:
    return section(
        "Automatic Access Deletions to confirm",
        rx.el.p("The portal opened these because nobody confirmed the access in a review, or imMTrax "
                "reported no sign-in for a long time. The access is suspended; confirm the removal, "
                "or reject the request to restore it."),
        rx.cond(S.waiting.length() > 0,
                data_table("Automatic Access Deletions waiting for staff",
                           ["Request", "Person", "Organization", "Opened", "Cause", "Why"], S.waiting,
                           lambda r: [rx.el.a(r["number"], href=r["href"]), r["name"], r["organization"],
                                      r["opened"], r["cause"], r["why"]],
                           min_width="52rem", caption_visible=False),
                rx.el.p("None waiting.", style={"color": theme.MUTED})),
        id="automatic-deletions",
    )


def _extra_review() -> rx.Component:
    return section(
        "Start an extra review",
        rx.el.p("Ask one organization's supervisors to confirm everyone with access now, outside the "
                "schedule. They are emailed at once."),
        rx.el.form(
            error_summary([("organization_code", field_id("organization_code"))], S.errors),
            plain_field("organization_code", "Organization code", "", S.errors, S.revision,
                        width="16rem", hint="For example BFC-0101. Find codes on the organizations page."),
            rx.el.button("Start the review", type="submit", class_name="portal-button"),
            on_submit=S.start_extra,
            reset_on_submit=False,
            aria_label="Start an extra review",
        ),
        id="extra-review",
    )


# (field, visible label, hint) in the order of the form.
SCHEDULE_FIELDS = [
    ("every_months_vaccine_management", "Vaccine Management: months between reviews",
     f"A whole number from {MONTHS[0]} to {MONTHS[1]}."),
    ("every_months_other_levels", "Other levels: months between reviews",
     f"A whole number from {MONTHS[0]} to {MONTHS[1]}. Read Only with Consent and Record Maintenance."),
    ("window_days", "Days supervisors have to answer",
     f"The review window: a whole number from {WINDOW[0]} to {WINDOW[1]}."),
    ("first_reminder_days", "First reminder: days before the end",
     "Fewer days than the window. Supervisors with people still to confirm are emailed."),
    ("second_reminder_days", "Second reminder: days before the end (optional)",
     "Fewer days than the window. Leave it empty for one reminder only."),
    ("grace_days", "Days of grace after the window",
     f"A whole number from {GRACE[0]} to {GRACE[1]}. Then an Access Deletion is opened for each person "
     "nobody confirmed, for staff to confirm."),
]


def _schedule() -> rx.Component:
    return section(
        "Review schedule",
        rx.el.p("How often each organization's supervisors are asked to confirm who still needs access, "
                "and for how long. A change applies to the reviews that start after it; the reviews "
                "already open keep their end dates.", style={"max_width": "46rem"}),
        rx.el.form(
            error_summary([(name, field_id(name)) for name, _, _ in SCHEDULE_FIELDS], S.schedule_errors,
                          summary_id=SCHEDULE_SUMMARY_ID),
            *[plain_field(name, label, S.schedule_form.get(name, "").to(str), S.schedule_errors,
                          S.schedule_revision, hint=hint, width="8rem", input_mode="numeric")
              for name, label, hint in SCHEDULE_FIELDS],
            rx.el.button("Save schedule", type="submit", class_name="portal-button"),
            on_submit=S.save_schedule,
            reset_on_submit=False,
            aria_label="Review schedule",
            no_validate=True,
        ),
        # Under the button, where the eyes are after saving (the form is long).
        rx.el.p(S.schedule_message, role="status", aria_live="polite",
                style={"font_weight": "700", "margin": "0.75rem 0 0"}),
        id="review-schedule",
    )


def staff_reviews_page() -> rx.Component:
    return page_frame(
        rx.el.h1("Roster reviews", style={"font_size": "2rem", "color": theme.NAVY}),
        staff_nav(),
        message_notices(S.message, S.problem),
        rx.el.p(S.schedule, " ", rx.el.a("Upload the registry's inactivity report",
                                         href=routes.STAFF_INACTIVITY), "."),
        rx.cond(S.loaded, rx.fragment(review_figures(S.figures), _waiting(), _progress(), _extra_review(),
                                      _schedule()),
                rx.el.p("Loading the reviews…", aria_live="polite")),
        header_actions=(account_actions(),),
    )
