"""The admin page for the staff role. Thin: every handler declares its rule (``@guarded``)."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import staff_roles
from immtrax_portal.ui.state.session import SessionState, guarded


class StaffRolesState(SessionState):
    staff: list[dict] = []
    total: int = 0
    email_error: str = ""
    message: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.message = message

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        members, self.total = staff_roles.list_staff(actor)
        self.staff = [{"person_id": m.person_id, "name": m.name, "email": m.email,
                       "is_admin": m.is_admin, "can_remove": m.can_remove} for m in members]

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.STAFF_ROLES_ADD_STAFF)
    def add_staff(self, actor: Actor, form: dict):
        email = str(form.get("email", "") if isinstance(form, dict) else "")[:254]
        try:
            member = staff_roles.grant_staff_role(actor, email, source_ip=self._client_ip())
        except ValueError as problem:
            self.email_error = str(problem)
            return
        self.email_error = ""
        self.message = f"{member.name} is now program staff."
        self._refresh(actor)

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.STAFF_ROLES_REMOVE_STAFF)
    def remove_staff(self, actor: Actor, person_id: int):
        """An admin's staff role stays (the service refuses, the guard records the refusal)."""
        try:
            staff_roles.remove_staff_role(actor, record_id(person_id), source_ip=self._client_ip())
        except ValueError as problem:
            self.message = str(problem)
            return
        self.message = "Staff role removed."
        self._refresh(actor)
