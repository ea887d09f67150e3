"""The signed-in home: what each role needs to see first. Thin: every load re-derives the caller."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.services import dashboards
from immtrax_portal.ui.state.session import SessionState


class DashboardState(SessionState):
    org_rows: list[dict] = []
    org_page: int = 1
    org_pages: int = 1
    org_total: int = 0
    my_rows: list[dict] = []
    queue_rows: list[dict] = []
    queue_total: int = 0
    queue_page: int = 1
    queue_pages: int = 1
    error: str = ""

    @rx.event
    def load(self):
        outcome = self._guard("any")
        if not isinstance(outcome, Actor):
            return outcome
        self._refresh(outcome)

    def _refresh(self, actor) -> None:
        org = dashboards.requests_of_supervised_orgs(actor, self.org_page)
        self.org_rows = [r.as_dict() for r in org.rows]
        self.org_page, self.org_pages, self.org_total = org.page, org.pages, org.total
        self.my_rows = [r.as_dict() for r in dashboards.requests_about_me(actor).rows]
        if actor.is_program_staff:
            queue = dashboards.staff_queue(actor, self.queue_page)
            self.queue_rows = [r.as_dict() for r in queue.rows]
            self.queue_page, self.queue_pages, self.queue_total = queue.page, queue.pages, queue.total
        else:
            self.queue_rows = []

    def _turn(self, which: str, delta: int, action: str):
        try:
            actor = self._require_actor(action)
        except NotAllowed as refused:
            self.error = str(refused)
            return
        setattr(self, which, max(1, getattr(self, which) + delta))
        self._refresh(actor)

    @rx.event
    def next_org_page(self):
        self._turn("org_page", 1, "dashboard.next_org_page")

    @rx.event
    def previous_org_page(self):
        self._turn("org_page", -1, "dashboard.previous_org_page")

    @rx.event
    def next_queue_page(self):
        self._turn("queue_page", 1, "dashboard.next_queue_page")

    @rx.event
    def previous_queue_page(self):
        self._turn("queue_page", -1, "dashboard.previous_queue_page")
