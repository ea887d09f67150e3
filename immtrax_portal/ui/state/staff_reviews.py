"""The staff page of roster reviews: progress of every review, automatic deletions waiting for a
decision, the figures, an extra review for one organization, and the reviews' schedule. Thin."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import review_pages, review_schedule, reviews
from immtrax_portal.services.reviews import ReviewRefused
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.state.session import SessionState, guarded

SCHEDULE_FIELDS = review_schedule.FIELDS
SCHEDULE_SUMMARY_ID = "schedule-error-summary"


def figures_dict(actor: Actor) -> dict[str, str]:
    f = review_pages.review_figures(actor)
    return {"open": str(f.open_reviews), "overdue": str(f.overdue),
            "on_time": str(f.completed_on_time), "late": str(f.closed_late),
            "by_review": str(f.removed_by_review), "by_inactivity": str(f.removed_by_inactivity),
            "waiting": str(f.waiting_for_staff)}


class StaffReviewsState(SessionState):
    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    waiting: list[dict] = []
    figures: dict[str, str] = {}
    errors: dict[str, str] = {}
    revision: int = 0
    message: str = ""
    problem: str = ""
    loaded: bool = False
    schedule: str = ""
    # The schedule's form: its values as shown, its errors, its redraw counter and its status line.
    schedule_form: dict[str, str] = {}
    schedule_errors: dict[str, str] = {}
    schedule_revision: int = 0
    schedule_message: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    def _refresh(self, actor: Actor) -> None:
        progress = review_pages.review_progress(actor, self.page)
        self.rows, self.total = progress.rows, progress.total
        self.page, self.pages = progress.page, progress.pages
        self.waiting = review_pages.automatic_deletions_waiting(actor)
        self.figures = figures_dict(actor)
        self.loaded = True

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.problem, self.errors = "", "", {}
        self.schedule_errors, self.schedule_message = {}, ""
        self._show_schedule()
        self._refresh(actor)

    def _show_schedule(self) -> None:
        found = review_schedule.current_schedule()
        self.schedule = found.sentence()
        self.schedule_form = found.as_form()
        self.schedule_revision += 1

    @rx.event
    @guarded(Rule.STAFF, AuditAction.STAFF_REVIEWS_START_EXTRA)
    def start_extra(self, actor: Actor, form: dict):
        self.message, self.problem, self.errors = "", "", {}
        code = str((form if isinstance(form, dict) else {}).get("organization_code", ""))[:64]
        try:
            review = reviews.start_extra_review(actor, code, source_ip=self._client_ip())
        except ReviewRefused as refused:
            self.errors = {"organization_code": str(refused)}
            self._refresh(actor)
            return focus_error_summary()
        self.page = 1
        self.revision += 1  # the code field is drawn empty again
        self._refresh(actor)
        self.message = (f"Extra roster review started for {code.strip().upper()}: its supervisors "
                        f"were emailed (review {review.id}).")

    @rx.event
    @guarded(Rule.STAFF, AuditAction.STAFF_REVIEWS_SAVE_SCHEDULE)
    def save_schedule(self, actor: Actor, form: dict):
        form = form if isinstance(form, dict) else {}
        self.schedule_message, self.problem = "", ""
        sent = {name: str(form.get(name, ""))[:8] for name in SCHEDULE_FIELDS}
        try:
            chosen = review_schedule.parse_schedule(sent)
        except review_schedule.ScheduleProblems as bad:
            self.schedule_errors = bad.problems
            self.schedule_form = sent
            self.schedule_revision += 1
            return focus_element(SCHEDULE_SUMMARY_ID)
        self.schedule_errors = {}
        changed = review_schedule.save_schedule(actor, chosen, source_ip=self._client_ip())
        self.schedule_message = (f"Saved: {changed} value{'s' if changed != 1 else ''} changed." if changed
                                 else "Nothing changed.")
        self._show_schedule()

    @rx.event
    @guarded(Rule.STAFF, AuditAction.STAFF_REVIEWS_TURN_PAGE)
    def turn_page(self, actor: Actor, delta: int):
        try:
            step = max(-1, min(1, int(delta)))
        except (TypeError, ValueError):
            return
        self.page = max(1, self.page + step)
        self._refresh(actor)


class ReviewFiguresState(SessionState):
    """The review figures on the staff metrics page (loaded when that page has loaded for staff)."""

    figures: dict[str, str] = {}

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE)
    def load(self, actor: Actor):
        self.figures = figures_dict(actor)
