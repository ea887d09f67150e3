"""The embedded demo only: sign in as someone a supervisor has just invited.

Trying the portal means inviting a new employee and then signing the agreement as that employee,
but the demo sign-in offers only its fixed people. So, in the embedded demo (demo sign-in, development
mode) and nowhere else, the demo provider's page also lists everyone with a pending invitation, under
a demo label, and signs them in with their invited, verified email. Outside the demo this module
lists nobody and vouches for nobody (``demo_invitees_allowed``), whatever the provider is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.demo_identities import DEMO_IDENTITIES, invitee_subject
from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.domain.models import AccessRequest, Invitation, Organization, Person, utcnow
from immtrax_portal.settings import Settings, get_settings

MAX_LISTED = 25


@dataclass(frozen=True)
class PendingInvitee:
    subject: str
    email: str
    first_name: str
    last_name: str
    organization: str
    request_number: str

    @property
    def claims(self) -> dict[str, object]:
        """What the demo provider puts in this person's ID token: the invited email, verified."""
        return {"email": self.email, "email_verified": True, "given_name": self.first_name,
                "family_name": self.last_name, "name": f"{self.first_name} {self.last_name}"}


def demo_invitees_allowed(settings: Settings | None = None) -> bool:
    """Only the embedded demo: the demo sign-in (no real issuer) in development mode."""
    settings = settings or get_settings()
    return settings.uses_demo_sign_in and settings.environment == "development"


def pending_invitees(limit: int = MAX_LISTED) -> list[PendingInvitee]:
    """Newest first: people whose invitation is open (not used, revoked or expired) on a request
    waiting for their agreement, other than the demo's fixed people (they have their own button)."""
    if not demo_invitees_allowed():
        return []
    fixed = {identity.email for identity in DEMO_IDENTITIES}
    with session_scope() as session:
        rows = session.exec(
            select(Person, AccessRequest.number, Organization.name)
            .join(AccessRequest, AccessRequest.subject_person_id == Person.id)
            .join(Invitation, Invitation.request_id == AccessRequest.id)
            .join(Organization, Organization.id == AccessRequest.organization_id)
            .where(AccessRequest.status == RequestStatus.AWAITING_AGREEMENT,
                   Invitation.consumed_at.is_(None), Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
                   Invitation.expires_at > utcnow())
            .order_by(Invitation.id.desc())  # type: ignore[union-attr]
            .limit(limit * 2)).all()
    seen: dict[str, PendingInvitee] = {}
    for person, number, organization in rows:
        if person.email in fixed or person.email in seen:
            continue
        seen[person.email] = PendingInvitee(person.okta_subject or invitee_subject(person.id), person.email,
                                            person.first_name, person.last_name, organization, number)
    return list(seen.values())[:limit]


def pending_invitee(subject: str) -> PendingInvitee | None:
    """The pending invitee the demo page offered as ``subject``, if they are still pending (and this
    is the embedded demo); None for anyone else."""
    if not subject or not demo_invitees_allowed():
        return None
    return next((invitee for invitee in pending_invitees(limit=1000) if invitee.subject == subject), None)
