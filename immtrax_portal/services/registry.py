"""The registry's advice: what it already knows about a person that should change a request.

Read-only, so the wizard's look-ups (``services.roster``) and the submission (``services.requests``)
share these rules without the reading side importing the writing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from immtrax_portal.domain import validation as v
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestType
from immtrax_portal.domain.models import AccessRequest, Grant, Organization, Person


@dataclass(frozen=True)
class RegistryAdvice:
    """What the registry says about a person at an organization, for the wizard to offer."""

    message: str
    suggested_type: RequestType | None = None
    open_request_number: str | None = None
    blocking: bool = True


def open_request_for(session: Session, person_id: int, organization_id: int) -> AccessRequest | None:
    return session.exec(
        select(AccessRequest).where(
            AccessRequest.subject_person_id == person_id,
            AccessRequest.organization_id == organization_id,
            AccessRequest.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
        )
    ).first()


def active_grants_of(session: Session, person_id: int) -> list[Grant]:
    return list(session.exec(select(Grant).where(Grant.person_id == person_id, Grant.active)))


def registry_advice(
    session: Session, organization_id: int, request_type: RequestType, email: str
) -> RegistryAdvice | None:
    """What the registry knows that should change a New Access or Change Employer request."""
    person = session.exec(select(Person).where(Person.email == v.normalize_email(email))).first()
    grants = active_grants_of(session, person.id) if person else []
    here = next((g for g in grants if g.organization_id == organization_id), None)
    elsewhere = next((g for g in grants if g.organization_id != organization_id), None)
    if person:
        existing = open_request_for(session, person.id, organization_id)
        if existing:
            return RegistryAdvice(
                f"There is already an open request ({existing.number}) for this person at this "
                "organization. Follow that request instead of starting another.",
                open_request_number=existing.number,
            )
    if here:
        return RegistryAdvice(
            f"This person already has {here.access_level.label} access at this organization. "
            "To give them another level, submit a User Permissions Change instead.",
            suggested_type=RequestType.PERMISSIONS_CHANGE,
        )
    if request_type == RequestType.NEW_ACCESS and elsewhere:
        other = session.get(Organization, elsewhere.organization_id)
        return RegistryAdvice(
            f"This person already holds imMTrax access at {other.name if other else 'another organization'}. "
            "Moving an existing user to your organization is a Change Employer request.",
            suggested_type=RequestType.CHANGE_EMPLOYER,
        )
    if request_type == RequestType.CHANGE_EMPLOYER and not elsewhere:
        return RegistryAdvice(
            "We found no active imMTrax access for this email at another organization. "
            "If the person is new to imMTrax, submit a New Access request.",
            suggested_type=RequestType.NEW_ACCESS,
        )
    return None
