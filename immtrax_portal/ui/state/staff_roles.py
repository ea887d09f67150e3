"""The admin page for the staff role. Thin: every handler declares its rule (``@guarded``).

Removing someone's role is asked first (``ask_remove_staff``), and the messages say exactly what
happened, to whom."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import staff_roles
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.session import SessionState, guarded

CONFIRM_ID = "remove-staff-confirm-heading"
STATUS_ID = "staff-roles-status"
EMAIL_SUMMARY_ID = "staff-email-summary"


def remove_button_id(person_id: int | str) -> str:
    return f"remove-staff-{person_id}"


class StaffRolesState(SessionState):
    staff: list[dict] = []
    total: int = 0
    email_error: str = ""
    message: str = ""
    add_revision: int = 0
    # The question asked before a role is removed: whose.
    confirm_person_id: int = 0
    confirm_name: str = ""
    confirm_email: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.message = message

    @rx.var
    def email_errors(self) -> dict[str, str]:
        return {"email": self.email_error} if self.email_error else {}

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message, self.email_error = "", ""
        self._forget_question()
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        members, self.total = staff_roles.list_staff(actor)
        self.staff = [{"person_id": m.person_id, "name": m.name, "email": m.email,
                       "is_admin": m.is_admin, "can_remove": m.can_remove} for m in members]

    def _forget_question(self) -> None:
        self.confirm_person_id, self.confirm_name, self.confirm_email = 0, "", ""

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.STAFF_ROLES_ADD_STAFF)
    def add_staff(self, actor: Actor, form: dict):
        email = str(form.get("email", "") if isinstance(form, dict) else "")[:254]
        self.message = ""
        self._forget_question()
        try:
            change = staff_roles.add_staff_role(actor, email, source_ip=self._client_ip())
        except ValueError as problem:
            self.email_error = str(problem)
            return focus_element(EMAIL_SUMMARY_ID)
        self.email_error = ""
        self.add_revision += 1
        member = change.member
        self.message = (f"{member.name} ({member.email}) is now program staff: they can work the queue, "
                        "organizations and agreement versions from their next page load."
                        if change.changed else
                        f"{member.name} ({member.email}) was already program staff. Nothing changed.")
        self._refresh(actor)
        return focus_element(STATUS_ID)

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.STAFF_ROLES_ASK_REMOVE)
    def ask_remove_staff(self, actor: Actor, person_id: int):
        """Ask before removing the role: the question names the person and what they lose."""
        self.message = ""
        try:
            member = staff_roles.staff_member(actor, record_id(person_id))
        except ValueError as problem:
            self._forget_question()
            self.message = str(problem)
            return focus_element(STATUS_ID)
        self.confirm_person_id, self.confirm_name, self.confirm_email = (
            member.person_id, member.name, member.email)
        return focus_element(CONFIRM_ID)

    @rx.event
    def keep_staff(self):
        """"No": nothing changes; focus goes back to the person's button."""
        person_id = self.confirm_person_id
        self._forget_question()
        return focus_element(remove_button_id(person_id)) if person_id else None

    @rx.event
    @guarded(Rule.ADMIN, AuditAction.STAFF_ROLES_REMOVE_STAFF)
    def remove_staff(self, actor: Actor, person_id: int):
        """An admin's staff role stays (the service refuses, the guard records the refusal)."""
        self._forget_question()
        try:
            member = staff_roles.remove_staff_role(actor, record_id(person_id), source_ip=self._client_ip())
        except ValueError as problem:
            self.message = str(problem)
            return focus_element(STATUS_ID)
        self.message = (f"{member.name} ({member.email}) is no longer program staff. They can still "
                        "sign in, and keep any supervisor links they have.")
        self._refresh(actor)
        return focus_element(STATUS_ID)
