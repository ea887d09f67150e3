"""The signed-in home: what each role needs to see first. Thin: every handler declares its rule.

Supervisors see a to-do list: "Needs you" (``services.needs_you``: typed entries, e.g. the
program's question with the answer box on its card), then their organizations' requests "In
progress" and "Closed" (``services.supervisor_requests``: paged, filterable), each with a tracker
and their actions (cancel, resend the invitation), and each organization's roster; everyone sees
the requests about their own access. The page stays current by itself (``LiveUpdates``).
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    Rule,
    require_roster_reader,
    require_staff,
)
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.domain.workflow import Action, IllegalTransition, reason_wanted
from immtrax_portal.services import (
    access_ends,
    dashboards,
    delegations,
    inactivity,
    needs_you,
    supervisor_requests,
)
from immtrax_portal.services.change_feed import Change
from immtrax_portal.services.reminders import resend_invitation
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.request_store import RequestChanged
from immtrax_portal.services.supervisor_requests import ListFilters, Section
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.components.tracker import answer_field_id
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded

ANSWER_MAX = 2000


def _number(value) -> str:
    return str(value)[:20] if isinstance(value, str) else ""


# --- What the page shows, part by part: plain values (shared by live tabs showing the same part) ---

def _needs_view(actor: Actor) -> dict:
    """ "Needs you": what waits on the caller, and whom they stand in for today."""
    waiting = needs_you.needs_you(actor)
    return {"needs_rows": [entry.as_dict() for entry in waiting.entries],
            "needs_total": waiting.total, "_shown_needs": waiting.requests,
            "_shown_targets": waiting.targets, "covering_note": delegations.covering_note(actor)}


def _section_view(actor: Actor, section: Section, filter_form: dict[str, str], page: int) -> dict:
    """One of the lists "In progress" (``org_*``) and "Closed" (``closed_*``), on its page."""
    filters = ListFilters.from_form(actor, filter_form)
    found = supervisor_requests.supervised_requests(actor, section, filters, page)
    prefix, shown = (("org", "_shown_in_progress") if section is Section.IN_PROGRESS
                     else ("closed", "_shown_closed"))
    return {f"{prefix}_rows": found.rows, f"{prefix}_page": found.page,
            f"{prefix}_pages": found.pages, f"{prefix}_total": found.total,
            shown: found.versions, "filters_active": filters.active}


def _orgs_view(actor: Actor, filter_form: dict[str, str], org_page: int, closed_page: int) -> dict:
    """ "Needs you", then "In progress" and "Closed" of the caller's organizations."""
    return {**_needs_view(actor),
            **_section_view(actor, Section.IN_PROGRESS, filter_form, org_page),
            **_section_view(actor, Section.CLOSED, filter_form, closed_page)}


def _mine_view(actor: Actor, page: int) -> dict:
    own = dashboards.tracked_requests_about_me(actor, page)
    return {"my_rows": own.rows, "my_page": own.page, "my_pages": own.pages,
            "_shown_mine": own.versions}


def _roster_view(actor: Actor, organization_id: int, page: int) -> dict:
    roster = dashboards.roster_page(actor, organization_id, page)
    return {"organization_id": str(organization_id), "name": roster.organization_name,
            "rows": roster.rows, "total": roster.total, "page": roster.page, "pages": roster.pages}


def _queue_view(actor: Actor, page: int) -> dict:
    queue = dashboards.staff_queue(actor, page)
    return {"queue_rows": [r.as_dict() for r in queue.rows], "queue_page": queue.page,
            "queue_pages": queue.pages, "queue_total": queue.total}


class DashboardState(LiveUpdates, SessionState):
    # The supervisor's to-do list: what waits on them, then "In progress" (org_*) and "Closed".
    needs_rows: list[dict] = []
    needs_total: int = 0
    org_rows: list[dict] = []
    org_page: int = 1
    org_pages: int = 1
    org_total: int = 0
    closed_rows: list[dict] = []
    closed_page: int = 1
    closed_pages: int = 1
    closed_total: int = 0
    # The lists' filters as the form shows them (uncontrolled; ``filter_key`` redraws the form).
    f_type: str = ""
    f_org: str = ""
    f_search: str = ""
    filter_key: int = 0
    filters_active: bool = False
    org_choices: list[dict[str, str]] = []
    type_choices: list[dict[str, str]] = [{"value": t.value, "label": t.label} for t in RequestType]
    # An answer that could not be sent: which card, and why (shown at its answer box).
    answer_number: str = ""
    answer_problem: str = ""
    answer_form_key: int = 0
    my_rows: list[dict] = []
    my_page: int = 1
    my_pages: int = 1
    rosters: list[dict] = []
    queue_rows: list[dict] = []
    queue_total: int = 0
    queue_page: int = 1
    queue_pages: int = 1
    confirm_cancel_number: str = ""
    covering_note: str = ""   # whom the caller stands in for today (backups while away)
    message: str = ""
    error: str = ""
    # number -> (request id, version) of the requests on screen: what an action expects to change.
    _shown_in_progress: dict[str, tuple[int, int]] = {}
    _shown_closed: dict[str, tuple[int, int]] = {}
    _shown_mine: dict[str, tuple[int, int]] = {}
    _shown_needs: dict[str, tuple[int, int]] = {}
    # "Needs you" entries about access (not requests): card key -> the access end or grant it is about.
    _shown_targets: dict[str, int] = {}
    _roster_pages: dict[int, int] = {}
    _filters: dict[str, str] = {}

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.error = message

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.error, self.confirm_cancel_number = "", "", ""
        self.answer_number, self.answer_problem = "", ""
        self._refresh(actor)
        return DashboardState.watch_live

    def _refresh(self, actor: Actor, *, orgs: bool = True, mine: bool = True,
                 rosters: bool = True) -> None:
        if orgs:
            self._apply(_orgs_view(actor, self._filters, self.org_page, self.closed_page))
        if mine:
            self._read_mine(actor)
        if rosters:
            self._apply_rosters([self._roster(actor, org_id) for org_id in sorted(actor.supervised_org_ids)],
                                supervisor_requests.organization_choices(actor))
        self._read_queue(actor)

    def _read_section(self, actor: Actor, section: Section) -> None:
        page = self.org_page if section is Section.IN_PROGRESS else self.closed_page
        self._apply(_section_view(actor, section, self._filters, page))

    def _read_mine(self, actor: Actor) -> None:
        self._apply(_mine_view(actor, self.my_page))

    def _roster(self, actor: Actor, org_id: int) -> dict:
        return _roster_view(actor, org_id, self._roster_pages.get(org_id, 1))

    def _read_queue(self, actor: Actor) -> None:
        if actor.is_program_staff:
            self._apply(_queue_view(actor, self.queue_page))
        else:
            self.queue_rows = []

    def _apply(self, view: dict) -> None:
        """Set what changed only: an unchanged list is not sent to the browser again."""
        for name, value in view.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _apply_rosters(self, rosters: list[dict], choices: list[dict[str, str]]) -> None:
        self._apply({"rosters": rosters, "org_choices": choices,
                     "_roster_pages": {**self._roster_pages,
                                       **{int(r["organization_id"]): r["page"] for r in rosters}}})

    @staticmethod
    def _live_parts(actor: Actor, changes: list[Change]) -> dict[str, bool]:
        """Which parts of the page the changes touch (the roster moves only with grants)."""
        return {
            "orgs": any(c.touches_everything or c.organization_id in actor.supervised_org_ids
                        for c in changes),
            "mine": any(c.touches_everything or actor.person_id in (c.subject_person_id, c.submitter_id)
                        for c in changes),
            "rosters": any(c.changes_grants for c in changes),
        }

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read only the parts of the page the changes touch."""
        self._refresh(actor, **self._live_parts(actor, changes))

    async def _refresh_live_shared(self, actor: Actor, changes: list[Change]) -> None:
        """``_refresh_live`` with every part read once per change for all the tabs showing it.

        The keys: a person's own parts ("Needs you", their organizations' lists with the page and
        filters, "my requests", the organization choices) hold the caller's whole ``Actor``, so
        only the same person's tabs share them; an organization's roster page is the same for
        everyone allowed to read it, so it is keyed by organization and page, and the rulebook
        (``require_roster_reader``) is asked for this tab's caller before the rows are handed
        over; the staff part is keyed by page, after ``require_staff`` for this caller."""
        parts = self._live_parts(actor, changes)
        if parts["orgs"]:
            filters, org_page, closed_page = dict(self._filters), self.org_page, self.closed_page
            self._apply(await self._shared_view(
                ("dashboard-orgs", actor, tuple(sorted(filters.items())), org_page, closed_page),
                changes, lambda: _orgs_view(actor, filters, org_page, closed_page)))
        if parts["mine"]:
            my_page = self.my_page
            self._apply(await self._shared_view(("dashboard-mine", actor, my_page), changes,
                                                lambda: _mine_view(actor, my_page)))
        if parts["rosters"]:
            rosters = []
            for org_id in sorted(actor.supervised_org_ids):
                require_roster_reader(actor, org_id)   # this tab's caller, before any shared rows
                page = self._roster_pages.get(org_id, 1)
                rosters.append(await self._shared_view(
                    ("roster", org_id, page), changes,
                    lambda org_id=org_id, page=page: _roster_view(actor, org_id, page)))
            choices = await self._shared_view(
                ("dashboard-org-choices", actor), changes,
                lambda: supervisor_requests.organization_choices(actor))
            self._apply_rosters(rosters, choices)
        if actor.is_program_staff:
            require_staff(actor)
            queue_page = self.queue_page
            self._apply(await self._shared_view(("dashboard-staff-queue", queue_page), changes,
                                                lambda: _queue_view(actor, queue_page)))
        else:
            self.queue_rows = []

    def _turn(self, actor: Actor, which: str, delta: int) -> None:
        """A page turn re-reads the one list it turns (the rest of the page stays as shown; live
        updates keep it current)."""
        setattr(self, which, max(1, getattr(self, which) + delta))
        if which == "org_page":
            self._read_section(actor, Section.IN_PROGRESS)
        elif which == "closed_page":
            self._read_section(actor, Section.CLOSED)
        elif which == "my_page":
            self._read_mine(actor)
        else:
            self._read_queue(actor)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_NEXT_ORG_PAGE)
    def next_org_page(self, actor: Actor):
        self._turn(actor, "org_page", 1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_PREVIOUS_ORG_PAGE)
    def previous_org_page(self, actor: Actor):
        self._turn(actor, "org_page", -1)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.DASHBOARD_TURN_LIST_PAGE)
    def turn_closed_page(self, actor: Actor, delta: int):
        """Page through the "Closed" list (one page either way)."""
        self._turn(actor, "closed_page", 1 if delta == 1 else -1)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.DASHBOARD_FILTER)
    def filter_lists(self, actor: Actor, form: dict):
        """The filter form of "In progress" and "Closed": checked values only, back to page 1."""
        filters = ListFilters.from_form(actor, form)
        self._filters = filters.as_form()
        self.f_type, self.f_org, self.f_search = filters.as_form().values()
        self.org_page = self.closed_page = 1
        self.filter_key += 1
        self._read_section(actor, Section.IN_PROGRESS)   # the filters change only the two lists
        self._read_section(actor, Section.CLOSED)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.DASHBOARD_FILTER)
    def clear_filters(self, actor: Actor):
        self._filters, self.f_type, self.f_org, self.f_search = {}, "", "", ""
        self.org_page = self.closed_page = 1
        self.filter_key += 1
        self._read_section(actor, Section.IN_PROGRESS)   # the filters change only the two lists
        self._read_section(actor, Section.CLOSED)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_NEXT_MY_PAGE)
    def next_my_page(self, actor: Actor):
        self._turn(actor, "my_page", 1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_PREVIOUS_MY_PAGE)
    def previous_my_page(self, actor: Actor):
        self._turn(actor, "my_page", -1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_NEXT_QUEUE_PAGE)
    def next_queue_page(self, actor: Actor):
        self._turn(actor, "queue_page", 1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_PREVIOUS_QUEUE_PAGE)
    def previous_queue_page(self, actor: Actor):
        self._turn(actor, "queue_page", -1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_TURN_ROSTER_PAGE)
    def turn_roster_page(self, actor: Actor, organization_id: str, delta: int):
        """Page through one organization's roster; only an organization the caller supervises."""
        org_id = record_id(organization_id)
        if not org_id:
            return
        if org_id not in actor.supervised_org_ids:   # this page shows only the caller's own rosters
            raise NotAllowed("You are not registered as a supervisor of that organization.",
                             target_type="organization", target_id=org_id)
        require_roster_reader(actor, org_id)
        step = 1 if delta == 1 else -1
        self._roster_pages = {**self._roster_pages, org_id: max(1, self._roster_pages.get(org_id, 1) + step)}
        shown = [roster["organization_id"] for roster in self.rosters]
        if str(org_id) not in shown:   # the page was never loaded on this tab: all of them
            self._apply_rosters([self._roster(actor, i) for i in sorted(actor.supervised_org_ids)],
                                self.org_choices)
            return
        turned = self._roster(actor, org_id)   # only this roster is read again
        self._apply_rosters([turned if roster["organization_id"] == turned["organization_id"] else roster
                             for roster in self.rosters], self.org_choices)

    # --- Actions on a request ------------------------------------------------------------------

    def _on_screen(self, number: str) -> tuple[int, int]:
        """(id, version) of a request on the caller's dashboard; a number that is not there is
        refused (and, by the guard, recorded)."""
        shown = (self._shown_needs.get(number) or self._shown_in_progress.get(number)
                 or self._shown_closed.get(number) or self._shown_mine.get(number))
        if shown is None:
            raise NotAllowed("That request is not on your dashboard.", target_type="access_request",
                             target_id=number)
        return shown

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_ASK_CANCEL)
    def ask_cancel(self, actor: Actor, number: str):
        """First click on "Cancel request": ask to confirm (nothing changes yet)."""
        number = _number(number)
        self._on_screen(number)
        self.confirm_cancel_number, self.message, self.error = number, "", ""
        return focus_element("cancel-confirm-heading")

    @rx.event
    def keep_request(self):
        self.confirm_cancel_number = ""

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_CANCEL)
    def confirm_cancel(self, actor: Actor):
        """Cancel the request awaiting confirmation; the rulebook decides whether the caller may
        (a refusal is recorded by the guard, once, and the page re-read)."""
        number, self.confirm_cancel_number = self.confirm_cancel_number, ""
        if not number:
            return
        shown = self._on_screen(number)
        try:
            act_on_request(actor, shown[0], ActionInput(Action.CANCEL, shown[1]),
                           source_ip=self._client_ip())
        except NotAllowed:
            self._refresh(actor)
            raise
        except (RequestChanged, IllegalTransition) as refused:
            self.error = str(refused)
        else:
            self.message = f"Request {number} is cancelled."
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_RESEND)
    def resend(self, actor: Actor, number: str):
        """Send the applicant a new invitation link (the old one stops working)."""
        number = _number(number)
        shown = self._on_screen(number)
        self.message = self.error = ""
        try:
            resend_invitation(actor, shown[0], shown[1], source_ip=self._client_ip())
        except NotAllowed:
            self._refresh(actor)
            raise
        except RequestChanged:
            self.error = f"Request {number} changed a moment ago; look at it again before resending."
        except IllegalTransition as refused:
            self.error = str(refused)
        else:
            self.message = (f"A new invitation for request {number} is on its way; the earlier link "
                            "no longer works.")
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.DASHBOARD_ANSWER, show="answer_problem")
    def answer_question(self, actor: Actor, form: dict):
        """Answer the program's question from its card in "Needs you": one action. Which card
        comes from the form; only a question on the caller's list is answered, and the rulebook
        (through the service) decides whether they may."""
        form = form if isinstance(form, dict) else {}
        number = _number(form.get("number", ""))
        self.message = self.error = ""
        self.answer_number, self.answer_problem = number, ""
        shown = self._shown_needs.get(number)
        if shown is None:
            raise NotAllowed("That question is not on your list.", target_type="access_request",
                             target_id=number)
        answer = str(form.get("answer", ""))[:ANSWER_MAX].strip()
        if not answer:
            self.answer_problem = reason_wanted(Action.ANSWER_INFO)
            return focus_element(answer_field_id(number))
        try:
            act_on_request(actor, shown[0], ActionInput(Action.ANSWER_INFO, shown[1], reason=answer),
                           source_ip=self._client_ip())
        except NotAllowed:
            self._refresh(actor)
            raise
        except (RequestChanged, IllegalTransition) as refused:
            self.answer_problem = str(refused)
            self._refresh(actor)
            return focus_element(answer_field_id(number))
        self.answer_number = ""
        self.answer_form_key += 1
        self.message = (f"Your answer on request {number} is sent. The program continues its review; "
                        "the request is under “In progress”.")
        self._refresh(actor)
        return focus_element("dashboard-message")

    # --- Actions on access ("Needs you" entries about people, not requests) ---------------------

    def _target(self, key: object, kind: needs_you.NeedsYouKind) -> int:
        """The record behind a card of ``kind`` on the caller's list; any other key is refused."""
        key = str(key)[:60] if isinstance(key, str) else ""
        target = self._shown_targets.get(key) if key.startswith(f"{kind.value}:") else None
        if not target:
            raise NotAllowed("That is not on your list.", target_type=kind.value, target_id=key)
        return target

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.ACCESS_ENDS_EXTEND)
    def extend_access(self, actor: Actor, key: str):
        """"Extend" on a card of time-limited access: one action (the service checks the rulebook)."""
        end_id = self._target(key, needs_you.NeedsYouKind.EXPIRING_ACCESS)
        self.message = self.error = ""
        try:
            end = access_ends.extend_access(actor, end_id, source_ip=self._client_ip())
        except NotAllowed:
            self._refresh(actor)
            raise
        self.message = f"Access extended: it now ends at the end of {end.last_day.strftime('%B %-d, %Y')}."
        self._refresh(actor)
        return focus_element("dashboard-message")

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.REVIEWS_CONFIRM_IDLE)
    def confirm_idle(self, actor: Actor, key: str):
        """"Still needed" on an idle person's card (until a newer report shows them idle again)."""
        grant_id = self._target(key, needs_you.NeedsYouKind.IDLE_PERSON)
        self.message = self.error = ""
        try:
            inactivity.confirm_idle(actor, grant_id, source_ip=self._client_ip())
        except NotAllowed:
            self._refresh(actor)
            raise
        self.message = "Confirmed: they still need access. A newer report may ask again."
        self._refresh(actor)
        return focus_element("dashboard-message")
