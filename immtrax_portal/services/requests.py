"""Submitting requests: validation, the registry's advice, and one transaction per submission.

A submission writes the request, its audit events, its invitation and its outbox emails together,
or nothing at all. The same idempotency key submitted twice yields the one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import validation as v
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import (
    AccessLevel,
    DeletionReason,
    RequestStatus,
    RequestType,
    Role,
)
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Organization,
    Person,
    RequestNumberCounter,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    require_not_about_self,
    require_supervisor_of,
)
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.program_time import program_today
from immtrax_portal.services import access_ends, audit, emails, succession
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.invitations import issue_invitation
from immtrax_portal.services.wizard.answers import RequestDraft
from immtrax_portal.services.wizard.registry import (
    RegistryAdvice,
    active_grants_of,
    open_request_for,
    registry_advice,
)
from immtrax_portal.services.wizard.steps import draft_problems, same_level_problem


@dataclass
class SubmissionRefused(Exception):
    message: str
    problems: dict[str, str] = field(default_factory=dict)
    advice: RegistryAdvice | None = None

    def __str__(self) -> str:
        return self.message


def _next_number(session: Session, year: int) -> str:
    counter = session.get(RequestNumberCounter, year, with_for_update=True)
    if counter is None:
        counter = RequestNumberCounter(year=year, last_value=0)
        session.add(counter)
    counter.last_value += 1
    session.flush()
    return f"IMR-{year}-{counter.last_value:06d}"


def _subject_for_new_person(session: Session, draft: RequestDraft) -> Person:
    email = v.normalize_email(draft.email)
    person = session.exec(select(Person).where(Person.email == email)).first()
    if person is None:
        person = Person(
            email=email,
            first_name=v.tidy_name(draft.first_name),
            last_name=v.tidy_name(draft.last_name),
            phone=v.format_phone(draft.phone),
            job_title=draft.job_title.strip(),
        )
        session.add(person)
        session.flush()
    return person


def _roster_grant(session: Session, draft: RequestDraft) -> Grant:
    grant = session.exec(
        select(Grant).where(
            Grant.person_id == draft.subject_person_id,
            Grant.organization_id == draft.organization_id,
            Grant.active,
        )
    ).first()
    if grant is None:
        raise SubmissionRefused(
            "That person has no active access at this organization.",
            {"subject_person_id": "Choose someone from your organization's current users."},
        )
    return grant


def _create_request(session: Session, actor: Actor, draft: RequestDraft, key: str,
                    today: date, source_ip: str, *, receipt: bool = True) -> AccessRequest:
    """One request with its events, invitation and emails, in the caller's transaction (the
    several-people form sends one receipt for all its requests instead of one each)."""
    require_supervisor_of(actor, draft.organization_id)
    organization = session.get(Organization, draft.organization_id)
    inactive = organization is None or not organization.active
    if inactive and draft.request_type != RequestType.ACCESS_DELETION:
        raise SubmissionRefused(
            "This organization is no longer active with the program, so only Access Deletion requests "
            "can be made for it. Call the program if it should be active again.",
            {"organization_id": "This organization is inactive: only Access Deletion is possible."})
    if problems := draft_problems(draft, today):
        raise SubmissionRefused("Some answers need correcting.", problems)
    grant: Grant | None = None
    former_org: int | None = None
    if draft.request_type.picks_from_roster:
        require_not_about_self(actor, draft.subject_person_id, "")
        grant = _roster_grant(session, draft)
        subject = session.get(Person, draft.subject_person_id)
        if same := same_level_problem(draft.request_type, draft.access_level, grant.access_level.value):
            raise SubmissionRefused("That is already the person's access level.", {"access_level": same})
    else:
        require_not_about_self(actor, None, draft.email)
        advice = registry_advice(session, draft.organization_id, draft.request_type, draft.email)
        if advice and advice.blocking:
            raise SubmissionRefused(advice.message, advice=advice)
        subject = _subject_for_new_person(session, draft)
        if draft.request_type == RequestType.CHANGE_EMPLOYER:
            former_org = next(g.organization_id for g in active_grants_of(session, subject.id)
                              if g.organization_id != draft.organization_id)
    existing = open_request_for(session, subject.id, draft.organization_id)
    if existing:
        raise SubmissionRefused(
            f"There is already an open request ({existing.number}) for this person here.",
            advice=RegistryAdvice("Open request exists.", open_request_number=existing.number),
        )
    now = utcnow()
    request = AccessRequest(
        number=_next_number(session, now.year),
        request_type=draft.request_type,
        status=RequestStatus.SUBMITTED,
        organization_id=draft.organization_id,
        submitter_id=actor.person_id,
        subject_person_id=subject.id,
        former_organization_id=former_org,
        access_level=AccessLevel(draft.access_level) if draft.access_level else None,
        previous_access_level=(grant.access_level if grant is not None
                               and draft.request_type == RequestType.PERMISSIONS_CHANGE else None),
        job_title=draft.job_title.strip(),
        phone=v.format_phone(draft.phone) if draft.phone.strip() else "",
        start_date=v.parse_date(draft.start_date) if draft.start_date else None,
        last_day=v.parse_date(draft.last_day) if draft.last_day else None,
        access_ends_on=v.parse_date(draft.access_ends_on) if draft.access_ends_on else None,
        reason=(DeletionReason(draft.deletion_reason).label if draft.deletion_reason else ""),
        note=draft.note.strip(),
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    session.add(request)
    session.flush()
    _record_submission(session, actor, request, source_ip)
    _route_new_request(session, actor, request, subject, grant, source_ip, receipt=receipt)
    return request


def _record_submission(session: Session, actor: Actor, request: AccessRequest, source_ip: str):
    event = audit.record(
        session, action=AuditAction.SUBMIT, actor_id=actor.person_id, actor_role=actor.role,
        organization_id=request.organization_id, request_id=request.id,
        target_type="access_request", target_id=request.number, source_ip=source_ip,
        details={"type": request.request_type.value},
    )
    event.to_status = RequestStatus.SUBMITTED.value


def _route_new_request(session: Session, actor: Actor, request: AccessRequest, subject: Person,
                       grant: Grant | None, source_ip: str, *, receipt: bool = True) -> None:
    """Move the new request to where it waits next, with the emails that go with it."""
    if request.request_type.needs_agreement:
        invitation, token = issue_invitation(session, request, subject.email)
        audit.record_move(session, transition(request, Action.SEND_INVITATION, actor_id=None,
                               actor_role=Role.SYSTEM, source_ip=source_ip))
        emails.invitation(session, request, to=subject.email, token=token,
                          expires_at=invitation.expires_at, first=True)
    # Permissions changes and deletions wait in "submitted" until staff start the review.
    if request.request_type == RequestType.ACCESS_DELETION and grant is not None \
            and access_ends.is_ahead(request.last_day):
        # A last day still ahead: access ends at the end of that day (the housekeeping job).
        access_ends.schedule(session, grant, access_ends.SCHEDULED_REMOVAL, request.last_day,
                             request=request, actor_id=actor.person_id, actor_role=actor.role,
                             source_ip=source_ip)
    elif request.request_type == RequestType.ACCESS_DELETION and grant is not None:
        grant.active = False
        grant.until = utcnow()
        session.add(grant)
        audit.record(session, action=AuditAction.SUSPEND_GRANT, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=request.organization_id,
                     request_id=request.id, target_type="grant", target_id=grant.id,
                     source_ip=source_ip, reason=request.reason)
        succession.after_access_ended(session, grant, utcnow())
    if receipt:
        emails.submission_receipt(session, request, next_steps(request.request_type, request.last_day))
    session.add(request)


def next_steps(request_type: RequestType, last_day: date | None = None) -> list[str]:
    """What happens after submission, in order, with who acts."""
    if request_type == RequestType.CHANGE_EMPLOYER:
        return [
            "1. The employee receives an email invitation and signs the imMTrax User Agreement for "
            "your organization with their own Okta account.",
            "2. Montana Immunization Program staff review the request.",
            "3. Staff move the employee's imMTrax access to your organization and send them their "
            "login details; their access at the former organization ends.",
        ]
    if request_type == RequestType.ACCESS_DELETION and access_ends.is_ahead(last_day):
        return [
            f"1. The user keeps access until the end of {last_day.strftime('%B %-d, %Y')} (Montana "
            "time); until then you can move that day or cancel this request on your dashboard.",
            "2. Access is suspended automatically when that day ends.",
            "3. Montana Immunization Program staff confirm the removal in imMTrax.",
        ]
    if request_type.needs_agreement:
        return [
            "1. The new user receives an email invitation and signs the imMTrax User Agreement "
            "with their own Okta account.",
            "2. Montana Immunization Program staff review the request.",
            "3. Staff create the imMTrax account and send the login credentials to the user.",
        ]
    if request_type == RequestType.PERMISSIONS_CHANGE:
        return [
            "1. Montana Immunization Program staff review the new access level.",
            "2. Staff apply the change in imMTrax; you see the new level on your roster.",
        ]
    return [
        "1. The user's access was suspended the moment you submitted this request.",
        "2. Montana Immunization Program staff confirm the removal in imMTrax.",
    ]


def submit_request(person_id: int, draft: RequestDraft, idempotency_key: str, *,
                   source_ip: str = "", today: date | None = None) -> AccessRequest:
    """Submit once: a repeated key returns the request the first call created."""
    today = today or program_today()  # the program's calendar day, as the last day is meant
    key = idempotency_key.strip()[:64]
    if len(key) < 16:
        raise SubmissionRefused("This form is out of date. Reload the page and try again.")
    previous = _request_with_key(key, person_id)
    if previous:
        return previous
    try:
        with session_scope() as session:
            actor = load_actor(session, person_id)
            if actor is None:
                raise NotAllowed("Sign in again to submit requests.")
            return _create_request(session, actor, draft, key, today, source_ip)
    except (IntegrityError, SubmissionRefused) as refused:
        # A submit with the same key may have committed after our first look (a double click):
        # it then shows up as a duplicate key, or as "an open request exists". Answer with it.
        previous = _request_with_key(key, person_id)
        if previous:
            return previous
        if isinstance(refused, SubmissionRefused):
            raise
        raise SubmissionRefused("Another request for this person was submitted at the same "
                                "moment. Reload to see it.") from None


def _request_with_key(key: str, person_id: int) -> AccessRequest | None:
    with session_scope() as session:
        found = session.exec(select(AccessRequest).where(AccessRequest.idempotency_key == key)).first()
        if found and found.submitter_id != person_id:
            raise NotAllowed("This form belongs to another person's session.")
        return found
