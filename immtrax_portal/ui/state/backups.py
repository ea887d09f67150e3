"""The backups page: name another supervisor of your organization as your backup while you are
away, end it early, and see whom you stand in for and their open requests. Thin: the rules are
``domain.permissions`` (``cover_refusal``, ``may_act_for``) and ``services.delegations``."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction as A
from immtrax_portal.domain.enums import DelegationKind
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.program_time import program_today
from immtrax_portal.services import delegations, roster
from immtrax_portal.services.delegations import BackupRefused
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.state.session import SessionState, guarded


class BackupsPageMixin(rx.State, mixin=True):
    """What the supervisors' and the staff's backups pages share: their vars, and saving and ending
    a backup once the event has read the form its own way."""

    organizations: list[dict[str, str]] = []
    choices: list[dict[str, str]] = []   # "value", "label"
    named: list[dict[str, str]] = []
    covering: list[dict[str, str]] = []
    covered_requests: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    message: str = ""
    problem: str = ""
    today: str = ""
    form_revision: int = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    def _refresh(self, actor: Actor) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        self.message, self.problem, self.errors = "", "", {}

    def _name(self, actor: Actor, organization: str | None, person: str, form: dict, kind: DelegationKind,
              done: str):
        """Name ``person`` (a record id once checked) as the caller's backup for the form's days."""
        if not record_id(person) or (organization is not None and not record_id(organization)):
            self.errors = {"delegate_id": "Choose who stands in for you."}
            return focus_error_summary()
        try:
            delegations.name_backup(actor, organization, person, str(form.get("starts_on", ""))[:10],
                                    str(form.get("ends_on", ""))[:10], source_ip=self._client_ip(),
                                    kind=kind)
        except BackupRefused as refused:
            self.errors = {refused.field or "delegate_id": str(refused)}
            return focus_error_summary()
        self._refresh(actor)
        self.form_revision += 1
        self.message = done
        return focus_element("backups-message")

    def _end(self, actor: Actor, delegation_id: str):
        delegations.end_backup(actor, delegation_id, source_ip=self._client_ip())
        self._refresh(actor)
        self.message = "That backup has ended."
        return focus_element("backups-message")


class BackupsState(BackupsPageMixin, SessionState):
    def _refresh(self, actor: Actor) -> None:
        orgs = roster.organization_choices(actor.supervised_org_ids)
        self.organizations = [{"id": str(i), "name": n} for i, n in orgs]
        several = len(orgs) > 1
        self.choices = [{"value": f"{org_id}:{c.person_id}",
                         "label": f"{c.name} ({name})" if several else c.name}
                        for org_id, name in orgs for c in delegations.backup_choices(actor, org_id)]
        mine, theirs = delegations.backups_of(actor, kind=DelegationKind.SUPERVISOR)
        self.named = [_shown(row, who=row.delegate) for row in mine]
        self.covering = [_shown(row, who=row.delegator) for row in theirs]
        self.covered_requests = delegations.covered_requests(actor)
        self.today = program_today().isoformat()

    @rx.event
    @guarded(Rule.SUPERVISOR, A.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._clear()
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BACKUPS_SAVE)
    def save(self, actor: Actor, form: dict):
        """Name the chosen supervisor (``<organization>:<person>``) as backup for the days given."""
        self._clear()
        form = form if isinstance(form, dict) else {}
        organization, _, person = str(form.get("backup", ""))[:40].partition(":")
        return self._name(actor, organization, person, form, DelegationKind.SUPERVISOR,
                          "Your backup is named. They can act on your open requests on those days.")

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BACKUPS_END)
    def end(self, actor: Actor, delegation_id: str):
        self._clear()
        return self._end(actor, delegation_id)


def _shown(row: delegations.BackupRow, *, who: str) -> dict[str, str]:
    return {"id": str(row.id), "who": who, "organization": row.organization, "days": row.days,
            "state": row.state}


class StaffBackupsState(BackupsPageMixin, SessionState):
    """The staff variant (/staff/backups): another member of program staff works the caller's
    assigned requests while they are away (``DelegationKind.STAFF``, no organization)."""

    def _refresh(self, actor: Actor) -> None:
        self.choices = [{"value": str(c.person_id), "label": c.name}
                        for c in delegations.staff_backup_choices(actor)]
        mine, theirs = delegations.backups_of(actor, kind=DelegationKind.STAFF)
        self.named = [_shown(row, who=row.delegate) for row in mine]
        self.covering = [_shown(row, who=row.delegator) for row in theirs]
        self.covered_requests = delegations.covered_assigned_requests(actor)
        self.today = program_today().isoformat()

    @rx.event
    @guarded(Rule.STAFF, A.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._clear()
        self._refresh(actor)

    @rx.event
    @guarded(Rule.STAFF, A.BACKUPS_SAVE)
    def save(self, actor: Actor, form: dict):
        """Name the chosen colleague as backup for the days given."""
        self._clear()
        form = form if isinstance(form, dict) else {}
        return self._name(actor, None, str(form.get("backup", ""))[:20], form, DelegationKind.STAFF,
                          "Your backup is named. On those days they see your assigned requests under "
                          "\"Mine\" and can work them.")

    @rx.event
    @guarded(Rule.STAFF, A.BACKUPS_END)
    def end(self, actor: Actor, delegation_id: str):
        self._clear()
        return self._end(actor, delegation_id)
