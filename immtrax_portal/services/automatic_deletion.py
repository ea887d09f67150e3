"""Access Deletions that the portal opens itself (a review left unanswered, a long-idle account).

Such a request is an ordinary Access Deletion: the grant is suspended at once and program staff
confirm it in the queue, as for one a supervisor submitted. Its submitter is the portal's own
system person (not a supervisor, never staff), every audit event names the system as the actor and
the rule that caused it, and the person, the organization's supervisors and the program are emailed, so nobody
loses access silently.

Idempotent by construction: the caller passes a key that names the cause (the review item, or the
username and the last login the report gave); the request's unique ``idempotency_key`` and the
one-open-request-per-person-and-organization index make a second run find the first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import DeletionReason, RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, Grant, Person, SupervisorLink
from immtrax_portal.program_time import program_zone
from immtrax_portal.services import audit, emails, succession
from immtrax_portal.services.requests import _next_number
from immtrax_portal.services.wizard.registry import open_request_for

SYSTEM_EMAIL = "automatic-actions@portal.invalid"  # .invalid: no mailbox can ever have it


def system_person_id(session: Session) -> int:
    """The portal's own person, the submitter of the requests it opens (made on first use)."""
    found = session.exec(select(Person.id).where(Person.email == SYSTEM_EMAIL)).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            person = Person(email=SYSTEM_EMAIL, first_name="imMTrax Access Portal",
                            last_name="(automatic)")
            session.add(person)
            session.flush()
            return person.id
    except IntegrityError:  # another worker made it at this moment
        return session.exec(select(Person.id).where(Person.email == SYSTEM_EMAIL)).one()


def is_system_submitted(session: Session, request: AccessRequest) -> bool:
    submitter = session.get(Person, request.submitter_id)
    return submitter is not None and submitter.email == SYSTEM_EMAIL


def supervisor_emails(session: Session, organization_id: int) -> list[str]:
    return list(session.exec(
        select(Person.email).join(SupervisorLink, SupervisorLink.person_id == Person.id)
        .where(SupervisorLink.organization_id == organization_id).order_by(Person.email)))


def open_automatic_deletion(session: Session, grant: Grant, *, key: str, cause: AuditAction,
                            rule: str, reason: str, now: datetime,
                            details: dict | None = None) -> AccessRequest | None:
    """Open the Access Deletion for ``grant`` in the caller's transaction and return it; None when
    the grant is no longer active or another request for the person is already open there (the
    caller records what that means). ``key`` (at most 64 characters) names the cause once."""
    previous = session.exec(select(AccessRequest).where(AccessRequest.idempotency_key == key)).first()
    if previous is not None:
        return previous
    if not grant.active or open_request_for(session, grant.person_id, grant.organization_id):
        return None
    request = AccessRequest(
        number=_next_number(session, now.year), request_type=RequestType.ACCESS_DELETION,
        status=RequestStatus.SUBMITTED, organization_id=grant.organization_id,
        submitter_id=system_person_id(session), subject_person_id=grant.person_id,
        reason=DeletionReason.NO_LONGER_NEEDS_ACCESS.label, note=reason[:2000],
        last_day=now.astimezone(program_zone()).date(), idempotency_key=key[:64],
        created_at=now, updated_at=now, status_changed_at=now)
    session.add(request)
    session.flush()
    said = {"rule": rule, **(details or {})}
    submitted = audit.record(session, action=AuditAction.SUBMIT, actor_id=None, actor_role=Role.SYSTEM,
                             organization_id=grant.organization_id, request_id=request.id,
                             target_type="access_request", target_id=request.number, reason=rule,
                             details={"type": request.request_type.value, **said})
    submitted.to_status = RequestStatus.SUBMITTED.value
    grant.active, grant.until = False, now
    session.add(grant)
    audit.record(session, action=AuditAction.SUSPEND_GRANT, actor_id=None, actor_role=Role.SYSTEM,
                 organization_id=grant.organization_id, request_id=request.id, target_type="grant",
                 target_id=grant.id, reason=rule, details=said)
    audit.record(session, action=cause, actor_id=None, actor_role=Role.SYSTEM,
                 organization_id=grant.organization_id, request_id=request.id, target_type="grant",
                 target_id=grant.id, reason=rule, details=said)
    # A supervisor whose own access is removed stops supervising there (staff alerted if last).
    succession.after_access_ended(session, grant, now)
    for address in supervisor_emails(session, grant.organization_id):
        emails.automatic_deletion(session, request, to=address, explanation=reason)
    emails.automatic_deletion_person(session, request, explanation=reason)
    emails.automatic_deletion_staff(session, request, explanation=reason)
    return request
