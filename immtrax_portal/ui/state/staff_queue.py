"""The staff queue page: the filters come from the URL, the rows from services/queue.py.

A filter change is a navigation to the new URL (so reload and shared links keep it); ``load``
runs on every such navigation and re-derives the caller from the session cookie.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import queue
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.session import SessionState, guarded

_QUERY_KEYS = ("status", "type", "org", "older_than", "q", "overdue", "sort", "page")


class StaffQueueState(SessionState):
    tabs: list[dict[str, str]] = []
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    summary: str = ""
    organizations: list[dict[str, str]] = []
    type_choices: list[dict[str, str]] = [{"value": t.value, "label": t.label} for t in RequestType]
    sort_choices: list[dict[str, str]] = [{"value": k, "label": v} for k, v in queue.SORTS.items()]
    # The filters as the form shows them (uncontrolled inputs; ``form_key`` redraws them).
    f_status: str = queue.OPEN_TAB
    f_type: str = ""
    f_org: str = ""
    f_older_than: str = ""
    f_search: str = ""
    f_overdue: bool = False
    f_sort: str = "waiting"
    form_key: int = 0
    previous_href: str = ""
    next_href: str = ""
    export_href: str = routes.STAFF_QUEUE_CSV
    clear_href: str = routes.STAFF_QUEUE
    loaded: bool = False
    error: str = ""
    _query: dict[str, str] = {}

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.error = message

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        params = self.router.url.query_parameters
        self._query = {k: str(params.get(k, ""))[:120] for k in _QUERY_KEYS if params.get(k)}
        self.error = ""
        self._refresh(actor)

    def _filters(self) -> queue.QueueFilters:
        return queue.QueueFilters.from_query(self._query)

    def _refresh(self, actor: Actor) -> None:
        """Reload the visible page from the database (the live-update mechanism calls this)."""
        result = queue.queue_page(actor, self._filters())
        f = result.filters
        self.rows = [row.as_dict() for row in result.rows]
        self.total, self.page, self.pages = result.total, result.page, result.pages
        self.tabs = [{"key": tab, "label": queue.TAB_LABELS[tab], "count": str(result.counts[tab]),
                      "href": self._url(f.with_changes(status=tab, page=1)),
                      "current": "page" if tab == f.status else "false"} for tab in queue.TABS]
        first = (result.page - 1) * queue.PAGE_SIZE + 1
        self.summary = (f"Showing {first}–{first + len(result.rows) - 1} of {result.total} "
                        f"({queue.TAB_LABELS[f.status].lower()})" if result.rows else "")
        self.previous_href = self._url(f.with_changes(page=f.page - 1)) if f.page > 1 else ""
        self.next_href = self._url(f.with_changes(page=f.page + 1)) if f.page < result.pages else ""
        self.export_href = routes.with_query(routes.STAFF_QUEUE_CSV, f.with_changes(page=1).to_query())
        self.clear_href = self._url(queue.QueueFilters(status=f.status))
        self.organizations = [{"value": str(i), "label": name}
                              for i, name in queue.organization_choices(actor)]
        self.f_status, self.f_type, self.f_sort = f.status, f.request_type, f.sort
        self.f_org = str(f.organization_id or "")
        self.f_older_than = str(f.older_than_days or "")
        self.f_search, self.f_overdue = f.search, f.overdue_only
        self.form_key += 1
        self.loaded = True

    @staticmethod
    def _url(filters: queue.QueueFilters) -> str:
        return routes.with_query(routes.STAFF_QUEUE, filters.to_query())

    @rx.event
    @guarded(Rule.STAFF, AuditAction.QUEUE_FILTER)
    def apply_filters(self, actor: Actor, form: dict):
        """The filter form: go to the URL that holds the chosen filters (back to page 1)."""
        chosen = {k: str(form.get(k, ""))[:120] for k in _QUERY_KEYS if k != "page"}
        filters = queue.QueueFilters.from_query(chosen)
        return rx.redirect(self._url(filters))
