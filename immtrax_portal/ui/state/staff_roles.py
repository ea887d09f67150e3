"""The admin page for the staff role. Thin: every handler re-derives the caller from the cookie."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.services import staff_roles
from immtrax_portal.ui.state.session import SessionState


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only program administrators can change who is staff.")


class StaffRolesState(SessionState):
    staff: list[dict] = []
    total: int = 0
    email_error: str = ""
    message: str = ""

    @rx.event
    def load(self):
        outcome = self._guard("admin")
        if not isinstance(outcome, Actor):
            return outcome
        self._refresh(outcome)

    def _refresh(self, actor: Actor) -> None:
        members, self.total = staff_roles.list_staff(actor)
        self.staff = [{"person_id": m.person_id, "name": m.name, "email": m.email,
                       "is_admin": m.is_admin} for m in members]

    def _admin(self, action: str) -> Actor | None:
        try:
            return self._require_allowed(action, _require_admin)
        except NotAllowed as refused:
            self.message = str(refused)
            return None

    @rx.event
    def add_staff(self, form: dict):
        actor = self._admin("staff_roles.add_staff")
        if actor is None:
            return
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
    def remove_staff(self, person_id: int):
        actor = self._admin("staff_roles.remove_staff")
        if actor is None:
            return
        try:
            staff_roles.remove_staff_role(actor, int(person_id), source_ip=self._client_ip())
        except (ValueError, TypeError, NotAllowed) as problem:
            self.message = str(problem)
            return
        self.message = "Staff role removed."
        self._refresh(actor)
