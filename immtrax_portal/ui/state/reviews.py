"""The supervisor's roster review page: open reviews to answer, and idle people. Thin.

Each handler names its rule, calls one service with the caller, and re-reads the page. Whether a
row shows its buttons comes from the rulebook, through the service's rows.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule
from immtrax_portal.services import inactivity, review_pages, reviews
from immtrax_portal.services.reviews import ReviewRefused
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.session import SessionState, guarded


def _idle_row(p: inactivity.IdlePerson) -> dict:
    return {"grant_id": str(p.grant_id), "name": p.name, "organization": p.organization_name,
            "level": p.level, "username": p.username, "last_login": p.last_login, "days": str(p.days),
            "may_answer": True,
            "remove_href": routes.wizard_prefill_url("access_deletion", p.organization_id, p.person_id)}


class ReviewsState(SessionState):
    reviews: list[dict] = []
    idle: list[dict] = []
    message: str = ""
    problem: str = ""
    loaded: bool = False
    _pages: dict[int, int] = {}

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    def _refresh(self, actor: Actor) -> None:
        shown = review_pages.supervisor_reviews(actor, self._pages)
        self._pages = {int(r.summary["review_id"]): r.page for r in shown}
        self.reviews = [{**r.summary, "rows": r.rows, "page": r.page, "pages": r.pages} for r in shown]
        self.idle = [_idle_row(p) for p in inactivity.idle_people(actor)
                     if p.person_id != actor.person_id]
        self.loaded = True

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.problem = "", ""
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.REVIEWS_CONFIRM)
    def confirm(self, actor: Actor, item_id: str):
        self.message, self.problem = "", ""
        try:
            item_number = int(str(item_id)[:12])
        except ValueError:
            raise NotAllowed("That review entry does not exist.") from None
        try:
            reviews.confirm_item(actor, item_number, source_ip=self._client_ip())
            self.message = "Confirmed: their access stays as it is."
        except ReviewRefused as refused:
            self.problem = str(refused)
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.REVIEWS_CONFIRM_IDLE)
    def confirm_idle(self, actor: Actor, grant_id: str):
        self.message, self.problem = "", ""
        try:
            grant_number = int(str(grant_id)[:12])
        except ValueError:
            raise NotAllowed("That person has no active access.") from None
        inactivity.confirm_idle(actor, grant_number, source_ip=self._client_ip())
        self.message = "Confirmed: they still need access. A newer report may ask again."
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.REVIEWS_TURN_PAGE)
    def turn_page(self, actor: Actor, review_id: str, delta: int):
        try:
            key, step = int(str(review_id)[:12]), max(-1, min(1, int(delta)))
        except (TypeError, ValueError):
            return
        if key in self._pages:
            self._pages = {**self._pages, key: max(1, self._pages[key] + step)}
        self._refresh(actor)
