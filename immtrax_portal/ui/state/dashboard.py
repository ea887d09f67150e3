"""The signed-in home: what each role needs to see first. Thin: every handler declares its rule.

Supervisors see their organizations' requests with a tracker and their actions (cancel, resend
the invitation, answer), and each organization's roster; everyone sees the requests about their
own access. The page stays current by itself (``LiveUpdates``).
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule, require_roster_reader
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services import dashboards
from immtrax_portal.services.change_feed import Change
from immtrax_portal.services.reminders import resend_invitation
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.request_store import RequestChanged
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded


def _number(value) -> str:
    return str(value)[:20] if isinstance(value, str) else ""


class DashboardState(LiveUpdates, SessionState):
    org_rows: list[dict] = []
    org_page: int = 1
    org_pages: int = 1
    org_total: int = 0
    my_rows: list[dict] = []
    my_page: int = 1
    my_pages: int = 1
    rosters: list[dict] = []
    queue_rows: list[dict] = []
    queue_total: int = 0
    queue_page: int = 1
    queue_pages: int = 1
    confirm_cancel_number: str = ""
    message: str = ""
    error: str = ""
    # number -> (request id, version) of the requests on screen: what an action expects to change.
    _shown_org: dict[str, tuple[int, int]] = {}
    _shown_mine: dict[str, tuple[int, int]] = {}
    _roster_pages: dict[int, int] = {}

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.error = message

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.error, self.confirm_cancel_number = "", "", ""
        self._refresh(actor)
        return DashboardState.watch_live

    def _refresh(self, actor: Actor, *, orgs: bool = True, mine: bool = True,
                 rosters: bool = True) -> None:
        if orgs:
            org = dashboards.tracked_requests_of_supervised_orgs(actor, self.org_page)
            self.org_rows = org.rows
            self.org_page, self.org_pages, self.org_total = org.page, org.pages, org.total
            self._shown_org = org.versions
        if mine:
            own = dashboards.tracked_requests_about_me(actor, self.my_page)
            self.my_rows = own.rows
            self.my_page, self.my_pages = own.page, own.pages
            self._shown_mine = own.versions
        if rosters:
            self.rosters = [self._roster(actor, org_id) for org_id in sorted(actor.supervised_org_ids)]
        if actor.is_program_staff:
            queue = dashboards.staff_queue(actor, self.queue_page)
            self.queue_rows = [r.as_dict() for r in queue.rows]
            self.queue_page, self.queue_pages, self.queue_total = queue.page, queue.pages, queue.total
        else:
            self.queue_rows = []

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read only the parts of the page the changes touch (the roster moves only with grants)."""
        self._refresh(
            actor,
            orgs=any(c.touches_everything or c.organization_id in actor.supervised_org_ids
                     for c in changes),
            mine=any(c.touches_everything or actor.person_id in (c.subject_person_id, c.submitter_id)
                     for c in changes),
            rosters=any(c.changes_grants for c in changes),
        )

    def _roster(self, actor: Actor, organization_id: int) -> dict:
        roster = dashboards.roster_page(actor, organization_id, self._roster_pages.get(organization_id, 1))
        self._roster_pages = {**self._roster_pages, organization_id: roster.page}
        return {"organization_id": str(organization_id), "name": roster.organization_name,
                "rows": roster.rows, "total": roster.total, "page": roster.page, "pages": roster.pages}

    def _turn(self, actor: Actor, which: str, delta: int) -> None:
        setattr(self, which, max(1, getattr(self, which) + delta))
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_NEXT_ORG_PAGE)
    def next_org_page(self, actor: Actor):
        self._turn(actor, "org_page", 1)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.DASHBOARD_PREVIOUS_ORG_PAGE)
    def previous_org_page(self, actor: Actor):
        self._turn(actor, "org_page", -1)

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
        self._refresh(actor)

    # --- Actions on a request ------------------------------------------------------------------

    def _on_screen(self, number: str) -> tuple[int, int]:
        """(id, version) of a request on the caller's dashboard; a number that is not there is
        refused (and, by the guard, recorded)."""
        shown = self._shown_org.get(number) or self._shown_mine.get(number)
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
