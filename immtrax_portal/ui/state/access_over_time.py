"""States of access over time (issue 16): the staff pages for upcoming removals and supervisor
succession, and the supervisor's and everyone's panel on the dashboard (move a last day, name a
backup supervisor; who one's supervisors are). Expiring access, roster reviews and idle people are
entries of the dashboard's "Needs you" list (``services.needs_you``).

Thin: each handler names its rule with ``@guarded``, calls one service, sets display vars.
"""

from __future__ import annotations

from datetime import date

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.program_time import program_today
from immtrax_portal.services import access_ends, succession
from immtrax_portal.ui.client_input import form_text, turned_page
from immtrax_portal.ui.components.error_summary import focus_error_summary
from immtrax_portal.ui.state.session import SessionState, guarded

STATUS_ID = "lifecycle-status"


def _end_row(row: access_ends.AccessEndRow) -> dict:
    soon = (date.fromisoformat(row.last_day) - program_today()).days <= access_ends.SOON_DAYS
    return {
        "soon": soon,
        "id": str(row.access_end_id),
        "person": row.person_name,
        "email": row.person_email,
        "organization": row.organization_name,
        "kind": row.kind_label,
        "last_day": row.last_day,
        "last_day_label": row.last_day_label,
        "request": row.request_number,
        "may_extend": row.may_extend,
    }


def _clean_id(value: object) -> int:
    text = str(value)[:12]
    return int(text) if text.isdigit() else 0


class AccessEndsState(SessionState):
    """/staff/access-ends: every scheduled removal and end date, soonest first."""

    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    problem: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.page, self.problem = 1, ""
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        view = access_ends.upcoming_for_staff(actor, self.page)
        self.rows = [_end_row(r) for r in view.rows]
        self.total, self.page, self.pages = view.total, view.page, view.pages

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ACCESS_ENDS_TURN_PAGE)
    def turn_page(self, actor: Actor, delta: int):
        self.page = turned_page(self.page, self.pages, delta)
        self._refresh(actor)


class SuccessionState(SessionState):
    """/staff/succession: organizations without a supervisor, those with one, nominations."""

    orphans: list[dict] = []
    single: list[dict] = []
    single_total: int = 0
    single_page: int = 1
    single_pages: int = 1
    nominations: list[dict] = []
    message: str = ""
    problem: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem, self.message = message, ""

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.single_page, self.message, self.problem = 1, "", ""
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        view = succession.succession_view(actor, self.single_page)
        self.orphans = [
            {
                "id": str(o.organization_id),
                "name": o.name,
                "code": o.code,
                "requests": o.open_requests,
                "open_total": str(o.open_total),
                "roster": o.roster,
                "roster_total": str(o.roster_total),
            }
            for o in view.orphans
        ]
        self.single = [
            {"id": str(s.organization_id), "name": s.name, "code": s.code, "supervisor": s.supervisor}
            for s in view.single
        ]
        self.single_total, self.single_page, self.single_pages = (
            view.single_total,
            view.single_page,
            view.single_pages,
        )
        self.nominations = [
            {
                "id": str(n.nomination_id),
                "organization": n.organization_name,
                "person": n.person,
                "by": n.nominated_by,
                "asked_on": n.asked_on,
                "withheld": n.decision_withheld,
            }
            for n in view.nominations
        ]

    @rx.event
    @guarded(Rule.STAFF, AuditAction.SUCCESSION_TURN_PAGE)
    def turn_page(self, actor: Actor, delta: int):
        self.single_page = turned_page(self.single_page, self.single_pages, delta)
        self._refresh(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.SUCCESSION_DECIDE)
    def decide(self, actor: Actor, nomination_id: str, approve: bool):
        done = succession.decide_nomination(
            actor, _clean_id(nomination_id), approve is True, source_ip=self._client_ip()
        )
        self.problem = ""
        self.message = (
            "Approved: the person is now a supervisor of the organization."
            if done == "approved"
            else "Declined: nothing changed."
        )
        self._refresh(actor)


class LifecyclePanelState(SessionState):
    """The dashboard's panel: who my supervisors are; for supervisors, the forms to move a last
    day and to name a backup supervisor ("Extend access" is on the "Needs you" cards)."""

    my_supervisors: list[dict] = []
    expiring: list[dict] = []
    needs_backup: list[dict] = []
    errors: dict[str, str] = {}
    revision: int = 0
    message: str = ""
    problem: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem, self.message = message, ""

    @rx.var
    def needs_backup_names(self) -> str:
        names = [o["name"] for o in self.needs_backup]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""

    @rx.var
    def shows_panel(self) -> bool:
        return bool(self.expiring or self.needs_backup)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.problem, self.errors = "", "", {}
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        self.my_supervisors = [
            {
                "organization": s.organization_name,
                "names": s.names or "No supervisor right now: call the program.",
            }
            for s in succession.my_supervisors(actor.person_id)
        ]
        self.expiring = [_end_row(r) for r in access_ends.upcoming_for_supervisor(actor)]
        self.needs_backup = [
            {"id": str(org_id), "name": name} for org_id, name in succession.needs_backup(actor)
        ]

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.ACCESS_ENDS_MOVE)
    def move(self, actor: Actor, form: dict):
        end_id = _clean_id(form_text(form, "move_access_end", 12))
        day = form_text(form, "move_last_day", 40).strip()
        try:
            end = access_ends.move_last_day(actor, end_id, day, source_ip=self._client_ip())
        except access_ends.AccessEndProblem as problem:
            self.errors = {"move_last_day": str(problem)}
            self.revision += 1
            return focus_error_summary()
        self.errors, self.problem = {}, ""
        self.message = f"Last day moved: access ends at the end of {end.last_day.strftime('%B %-d, %Y')}."
        self._refresh(actor)
        return None

    @rx.event
    @guarded(Rule.SUPERVISOR, AuditAction.SUCCESSION_NOMINATE)
    def nominate(self, actor: Actor, form: dict):
        org_id = _clean_id(form_text(form, "nominate_organization", 12))
        fields = {
            name: form_text(form, f"nominate_{name}", 300) for name in ("email", "first_name", "last_name")
        }
        try:
            succession.nominate_supervisor(
                actor,
                org_id,
                fields["email"],
                fields["first_name"],
                fields["last_name"],
                source_ip=self._client_ip(),
            )
        except succession.NominationInvalid as invalid:
            self.errors = {f"nominate_{name}": message for name, message in invalid.problems.items()}
            self.revision += 1
            return focus_error_summary()
        self.errors, self.problem = {}, ""
        self.message = (
            "Thank you: program staff were asked to add this supervisor. Once they approve, "
            "the new supervisor can sign in and act for the organization."
        )
        self.revision += 1
        self._refresh(actor)
        return None
