"""The staff queue page: the filters come from the URL, the rows from services/queue.py.

A filter change is a navigation to the new URL (so reload and shared links keep it); ``load``
runs on every such navigation and re-derives the caller from the session cookie. The rows and the
tab counts follow every change to requests by themselves (``LiveUpdates``); a live re-read never
redraws the filter form, so nothing half-typed is lost.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.permissions import Actor, Rule, covered_owner_ids, require_staff
from immtrax_portal.services import queue, queue_owner
from immtrax_portal.services.change_feed import Change, Scope, Shows
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded

_QUERY_KEYS = ("status", "type", "org", "older_than", "q", "overdue", "sort", "owner", "page")
_PICK = "pick_"
BULK_ACTIONS = ("assign", "reject")
BULK_CONFIRM_ID = "bulk-confirm-heading"
BULK_APPLY_ID = "bulk-apply"


def _queue_view(actor: Actor, filters: queue.QueueFilters) -> dict:
    """What the queue page shows for ``filters``, the same for every staff member (but "Mine")."""
    return {"page": queue.queue_page(actor, filters),
            "organizations": queue.organization_choices(actor),
            "staff": queue_owner.staff_choices(actor)}


class StaffQueueState(LiveUpdates, SessionState):
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
    f_owner: str = ""
    owner_choices: list[dict[str, str]] = [{"value": k, "label": v} for k, v in queue.OWNERS.items() if k]
    # Bulk actions on the selected rows.
    staff_choices: list[dict[str, str]] = []
    bulk_message: str = ""
    bulk_refusals: list[dict[str, str]] = []
    bulk_problem: str = ""
    bulk_key: int = 0
    bulk_confirm: str = ""         # the question before a rejection of the selected rows
    _bulk_pending: dict = {}       # what "Yes" rejects: the numbers and the reason, as asked
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
        self.bulk_message, self.bulk_problem, self.bulk_refusals = "", "", []
        self.bulk_confirm, self._bulk_pending = "", {}
        self._refresh(actor)
        return StaffQueueState.watch_live

    def _live_rule(self) -> Rule:
        return Rule.STAFF

    def _live_scope(self, actor: Actor) -> Scope:
        # Every request's row and count; organization names and choices come from the roster side.
        return Scope(everything=True, shows=frozenset({Shows.REQUESTS, Shows.ROSTER}))

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        self._read(actor)

    async def _refresh_live_shared(self, actor: Actor, changes: list[Change]) -> None:
        """The same page of the queue is one read per change for every staff member showing it:
        the key is the filters (and, for "Mine", whose); the rulebook is asked for this tab's
        caller first."""
        require_staff(actor)
        filters = self._filters()
        # Whom the caller stands in for today changes "Mine" and the rows' "You cover for" marks.
        key = ("staff-queue", filters, actor.person_id if filters.owner == "mine" else None,
               covered_owner_ids(actor))
        self._show(actor, await self._shared_view(key, changes, lambda: _queue_view(actor, filters)))

    def _filters(self) -> queue.QueueFilters:
        return queue.QueueFilters.from_query(self._query)

    def _refresh(self, actor: Actor) -> None:
        """Reload the visible page from the database and redraw the filter form to match."""
        f = self._read(actor)
        self.f_status, self.f_type, self.f_sort = f.status, f.request_type, f.sort
        self.f_org = str(f.organization_id or "")
        self.f_older_than = str(f.older_than_days or "")
        self.f_search, self.f_overdue = f.search, f.overdue_only
        self.f_owner = f.owner
        self.form_key += 1
        self.bulk_key += 1     # the selection starts empty on a new page (never on a live re-read)

    def _read(self, actor: Actor) -> queue.QueueFilters:
        """The rows, counts, pages and links of the URL's filters (what a live update re-reads)."""
        return self._show(actor, _queue_view(actor, self._filters()))

    def _show(self, actor: Actor, view: dict) -> queue.QueueFilters:
        result = view["page"]
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
        # Read once per change for the whole worker (services/queue.py); sent to the browser only
        # when it differs from what this tab already shows.
        organizations = [{"value": str(i), "label": name} for i, name in view["organizations"]]
        if organizations != self.organizations:
            self.organizations = organizations
        self.staff_choices = [{"value": str(i), "label": f"{name} (me)" if i == actor.person_id else name}
                              for i, name in view["staff"]]
        self.staff_choices.sort(key=lambda c: c["label"].endswith("(me)"), reverse=True)
        self.loaded = True
        return f

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

    @rx.event
    @guarded(Rule.STAFF, AuditAction.QUEUE_BULK, show="bulk_problem")
    def bulk_action(self, actor: Actor, form: dict):
        """The selected rows: assign them to someone, or reject them (expired requests and likely
        duplicates) with one reason. Each request is decided on its own by the service."""
        form = form if isinstance(form, dict) else {}
        self.bulk_message, self.bulk_problem, self.bulk_refusals = "", "", []
        self.bulk_confirm, self._bulk_pending = "", {}
        visible = {row["number"] for row in self.rows}
        numbers = [key[len(_PICK):][:20] for key, value in list(form.items())[:200]
                   if str(key).startswith(_PICK) and str(value) in ("on", "true", "1")]
        numbers = [n for n in numbers if n in visible]
        action = str(form.get("bulk", ""))[:20]
        if not numbers:
            self.bulk_problem = "Select at least one request in the table first."
            return None
        if action not in BULK_ACTIONS:
            self.bulk_problem = "Choose what to do with the selected requests."
            return None
        if action == "reject":
            return self._ask_before_rejecting(numbers, str(form.get("reason", ""))[:2000])
        raw = str(form.get("assignee", ""))[:12]
        if not (raw.isascii() and raw.isdigit()):
            self.bulk_problem = "Choose whom to assign the selected requests to."
            return None
        result = queue_owner.bulk_assign(actor, numbers, int(raw), source_ip=self._client_ip())
        return self._tell(actor, result, "assigned")

    def _ask_before_rejecting(self, numbers: list[str], reason: str):
        """A rejection cannot be undone: say exactly what "Yes" does, and do it only then."""
        if not reason.strip():
            self.bulk_problem = queue_owner.BULK_REASON_WANTED
            return None
        count = len(numbers)
        self._bulk_pending = {"numbers": numbers, "reason": reason}
        said = f"its supervisor is emailed your reason: \"{reason.strip()[:300]}\""
        listed = ", ".join(numbers)
        self.bulk_confirm = (
            f"Reject this request ({listed})? If it has expired or is a likely duplicate it is rejected "
            f"and cannot be reopened, and {said}. Otherwise it is left as it is." if count == 1 else
            f"Reject these {count} requests ({listed})? Each one that has expired or is a likely "
            f"duplicate is rejected and cannot be reopened, and {said}. Any other is left as it is.")
        return focus_element(BULK_CONFIRM_ID)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.QUEUE_BULK, show="bulk_problem")
    def confirm_bulk_reject(self, actor: Actor):
        """"Yes": reject exactly the rows and with the reason that were asked about."""
        pending, self._bulk_pending, self.bulk_confirm = self._bulk_pending, {}, ""
        if not pending:
            self.bulk_problem = "There is nothing to confirm. Select requests and choose an action first."
            return None
        try:
            result = queue_owner.bulk_reject(actor, pending["numbers"], pending["reason"],
                                             source_ip=self._client_ip())
        except ValueError as empty:
            self.bulk_problem = str(empty)
            return None
        return self._tell(actor, result, "rejected")

    @rx.event
    def keep_selection(self):
        """"No": nothing happens; the selection stays and focus goes back to the button."""
        self._bulk_pending, self.bulk_confirm = {}, ""
        return focus_element(BULK_APPLY_ID)

    def _tell(self, actor: Actor, result: queue_owner.BulkResult, verb: str):
        refused = result.refused
        self.bulk_message = (f"{result.done} of {len(result.outcomes)} selected request"
                             f"{'s' if len(result.outcomes) != 1 else ''} {verb}."
                             + (f" {len(refused)} not changed (see below)." if refused else ""))
        self.bulk_refusals = [{"number": o.number, "message": o.message} for o in refused]
        self._refresh(actor)
