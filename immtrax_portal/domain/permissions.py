"""Who may do what to which request: the only place those rules live.

Callers pass what they know about the actor (an ``Actor``), built from the database on every
call, never from client state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from immtrax_portal.domain.enums import Role


class NotAllowed(PermissionError):
    """The caller may not do this; the message is safe to show them."""


@dataclass(frozen=True)
class Actor:
    person_id: int
    email: str
    is_staff: bool = False
    is_admin: bool = False
    supervised_org_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def role(self) -> Role:
        if self.is_admin:
            return Role.ADMIN
        if self.is_staff:
            return Role.STAFF
        if self.supervised_org_ids:
            return Role.SUPERVISOR
        return Role.APPLICANT

    @property
    def is_program_staff(self) -> bool:
        return self.is_staff or self.is_admin


def require_supervisor(actor: Actor) -> None:
    """Requests are made by supervisors the program has registered for an organization."""
    if not actor.supervised_org_ids:
        raise NotAllowed("Only supervisors registered with the program can submit requests.")


def require_supervisor_of(actor: Actor, organization_id: int) -> None:
    if organization_id not in actor.supervised_org_ids:
        raise NotAllowed("You are not registered as a supervisor of that organization.")


def require_not_about_self(actor: Actor, subject_person_id: int | None, subject_email: str) -> None:
    """A supervisor can never request, approve or act on their own access."""
    if subject_person_id == actor.person_id or subject_email.strip().lower() == actor.email:
        raise NotAllowed("You cannot submit or act on a request about your own access. "
                         "Ask another supervisor or the program.")


def require_staff(actor: Actor) -> None:
    if not actor.is_program_staff:
        raise NotAllowed("Only Montana Immunization Program staff can do this.")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only program administrators can do this.")


def may_view_request(actor: Actor, organization_id: int, subject_person_id: int,
                     submitter_id: int) -> bool:
    return (
        actor.is_program_staff
        or organization_id in actor.supervised_org_ids
        or subject_person_id == actor.person_id
        or submitter_id == actor.person_id
    )
