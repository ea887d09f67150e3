"""Read-side queries for the dashboards: one page of small rows at a time, never a whole table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import program_clock
from immtrax_portal.domain.enums import OPEN_STATUSES, AuditOutcome, RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AuditEvent,
    Grant,
    Invitation,
    Organization,
    Person,
)
from immtrax_portal.domain.permissions import (
    RESEND,
    Actor,
    NotAllowed,
    open_actions,
    require_roster_reader,
    require_staff,
)
from immtrax_portal.domain.tracker import Viewer, stage_index, stages, waiting_on, waiting_text
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_date, program_stamp, program_time
from immtrax_portal.services import clock_figures
from immtrax_portal.services.inactivity import describe_last_activity, last_activity_subquery
from immtrax_portal.services.signing import masked_email

PAGE_SIZE = 20


@dataclass(frozen=True)
class RequestRow:
    """What a request list shows, already formatted: the browser receives nothing more."""

    id: int
    number: str
    type_label: str
    person: str
    organization: str
    status: str
    status_label: str
    waiting_on: str
    updated: str

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


@dataclass(frozen=True)
class RequestPage:
    rows: list[RequestRow]
    total: int
    page: int
    pages: int


# Whose move it is, as the staff queue on the dashboard says it (a question waits on the
# supervisor who must answer it, not on the staff member reading the queue).
WAITING_ON = {
    RequestStatus.SUBMITTED: "the program",
    RequestStatus.AWAITING_AGREEMENT: "the applicant",
    RequestStatus.IN_REVIEW: "the program",
    RequestStatus.NEEDS_INFO: "the supervisor",
}


def _page_of_requests(session: Session, condition, page: int) -> tuple[list, int, int, int]:
    """(request, first name, last name, organization) rows of one page matching ``condition``,
    newest change first, with the total and the page numbers clamped to what exists."""
    subject = aliased(Person)
    total = session.exec(select(sa.func.count()).select_from(AccessRequest).where(condition)).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    listed = session.exec(
        select(AccessRequest, subject.first_name, subject.last_name, Organization.name)
        .join(subject, subject.id == AccessRequest.subject_person_id)
        .join(Organization, Organization.id == AccessRequest.organization_id)
        .where(condition)
        .order_by(AccessRequest.updated_at.desc(), AccessRequest.id.desc())  # type: ignore[union-attr]
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return listed, total, page, pages


def _rows(session: Session, condition, page: int) -> RequestPage:
    """One page of rows matching ``condition``, newest change first (ix_*_created indexes)."""
    listed, total, page, pages = _page_of_requests(session, condition, page)
    rows = [
        RequestRow(
            id=request.id, number=request.number, type_label=request.request_type.label,
            person=f"{first} {last}", organization=org_name, status=request.status.value,
            status_label=request.status.label,
            waiting_on=WAITING_ON.get(request.status, "nobody (closed)"),
            updated=program_stamp(request.updated_at),
        )
        for request, first, last, org_name in listed
    ]
    return RequestPage(rows=rows, total=total, page=page, pages=pages)


def staff_queue(actor: Actor, page: int = 1, open_only: bool = True) -> RequestPage:
    require_staff(actor)
    with session_scope() as session:
        condition = (AccessRequest.status.in_(OPEN_STATUSES) if open_only  # type: ignore[attr-defined]
                     else sa.true())
        return _rows(session, condition, page)


# --- The supervisor's and the applicant's tracked requests ----------------------------------------

@dataclass(frozen=True)
class TrackedPage:
    rows: list[dict]
    total: int
    page: int
    pages: int
    # number -> (id, version): what an action from this page expects to change (never sent out).
    versions: dict[str, tuple[int, int]]


def _questions_and_endings(session: Session, request_ids: list[int]
                           ) -> tuple[dict[int, AuditEvent], dict[int, AuditEvent]]:
    """Per request: the program's latest question, and the move that rejected or cancelled it."""
    ended = [RequestStatus.REJECTED.value, RequestStatus.CANCELLED.value]
    questions: dict[int, AuditEvent] = {}
    endings: dict[int, AuditEvent] = {}
    if not request_ids:
        return questions, endings
    for event in session.exec(
        select(AuditEvent).where(AuditEvent.request_id.in_(request_ids),  # type: ignore[union-attr]
                                 AuditEvent.outcome == AuditOutcome.SUCCESS,
                                 sa.or_(AuditEvent.action == Action.ASK_FOR_INFO.value,
                                        AuditEvent.to_status.in_(ended)))  # type: ignore[union-attr]
        .order_by(AuditEvent.id)  # type: ignore[arg-type]
    ):
        (questions if event.action == Action.ASK_FOR_INFO.value else endings)[event.request_id] = event
    return questions, endings


def _open_invitations(session: Session, request_ids: list[int]) -> dict[int, Invitation]:
    if not request_ids:
        return {}
    invitations = session.exec(
        select(Invitation).where(Invitation.request_id.in_(request_ids),  # type: ignore[attr-defined]
                                 Invitation.consumed_at.is_(None),  # type: ignore[union-attr]
                                 Invitation.revoked_at.is_(None))  # type: ignore[union-attr]
        .order_by(Invitation.id)  # type: ignore[arg-type]
    ).all()
    return {invitation.request_id: invitation for invitation in invitations}


def row_buttons(actor: Actor, viewer: Viewer, request: AccessRequest) -> dict[str, bool]:
    """Which action buttons a dashboard row shows: exactly the actions the rulebook allows
    (``permissions.open_actions``, the same rules the services apply). Only the supervisor's
    side of the dashboard has buttons."""
    allowed = open_actions(actor, request) if viewer == Viewer.SUPERVISOR else frozenset()
    return {"can_cancel": Action.CANCEL in allowed, "can_resend": RESEND in allowed,
            "can_answer": Action.ANSWER_INFO in allowed}


def _typical(request, viewer: Viewer) -> str:
    """While the program works the request: how long it usually takes (the supervisor's tracker)."""
    if viewer != Viewer.SUPERVISOR or not program_clock.runs_in(RequestStatus(request.status)):
        return ""
    return program_clock.typical_text(clock_figures.typical_program_seconds(request.request_type))


def _tracked_rows(session: Session, actor: Actor, viewer: Viewer, condition, page: int) -> TrackedPage:
    listed, total, page, pages = _page_of_requests(session, condition, page)
    ids = [request.id for request, *_ in listed]
    questions, endings = _questions_and_endings(session, ids)
    invitations = _open_invitations(session, ids) if viewer == Viewer.APPLICANT else {}
    rows = []
    for request, first, last, org_name in listed:
        ending = endings.get(request.id)
        reached = (stage_index(request.request_type, RequestStatus(ending.from_status))
                   if ending and ending.from_status else 0)
        question = questions.get(request.id)
        invitation = invitations.get(request.id)
        rows.append({
            "number": request.number, "type_label": request.request_type.label,
            "person": f"{first} {last}", "organization": org_name,
            "status": request.status.value, "status_label": request.status.label,
            "stages": [{"label": s.label, "state": s.state, "state_text": s.state_text}
                       for s in stages(request.request_type, request.status, reached=reached)],
            "waiting_on": waiting_on(request.status, viewer).value,
            "waiting_text": waiting_text(request.status, viewer),
            "typical": _typical(request, viewer),
            "since": program_time(request.status_changed_at),
            "question": (question.reason if question and request.status == RequestStatus.NEEDS_INFO
                         else ""),
            "rejection_reason": request.rejection_reason if request.status == RequestStatus.REJECTED else "",
            "invitation_note": _invitation_note(invitation) if invitation else "",
            **row_buttons(actor, viewer, request),
        })
    return TrackedPage(rows, total, page, pages,
                       {r.number: (r.id, r.version) for r, *_ in listed})


# For the dashboard's other lists (services/supervisor_requests.py): one page of tracked rows.
tracked_page = _tracked_rows


def _invitation_note(invitation: Invitation) -> str:
    return (f"The invitation was emailed to {masked_email(invitation.email)} on "
            f"{program_date(invitation.created_at)} and works until {program_time(invitation.expires_at)}. "
            "Open the link in that email to sign: you cannot sign without it. If you cannot find the "
            "email, ask your supervisor to resend it.")


def tracked_requests_of_supervised_orgs(actor: Actor, page: int = 1) -> TrackedPage:
    """The requests of the organizations the actor supervises, each with its tracker and the
    actions the actor may take on it. Nothing from any other organization."""
    if not actor.supervised_org_ids:
        return TrackedPage([], 0, 1, 1, {})
    with session_scope() as session:
        condition = AccessRequest.organization_id.in_(sorted(actor.supervised_org_ids))  # type: ignore[attr-defined]
        return _tracked_rows(session, actor, Viewer.SUPERVISOR, condition, page)


def tracked_requests_about_me(actor: Actor, page: int = 1) -> TrackedPage:
    """The requests about the actor's own access, read as the applicant."""
    with session_scope() as session:
        return _tracked_rows(session, actor, Viewer.APPLICANT,
                             AccessRequest.subject_person_id == actor.person_id, page)


# --- The supervisor's roster ----------------------------------------------------------------------

@dataclass(frozen=True)
class RosterPage:
    organization_id: int
    organization_name: str
    rows: list[dict]
    total: int
    page: int
    pages: int


def roster_page(actor: Actor, organization_id: int, page: int = 1) -> RosterPage:
    """One page of an organization's users with active access, for a supervisor of it (or staff):
    level, since when, when they signed the User Agreement there, and their last imMTrax sign-in
    as the registry's activity report said it."""
    require_roster_reader(actor, organization_id)
    signed = (
        select(sa.func.max(AgreementSignature.signed_at))
        .join(AccessRequest, AccessRequest.id == AgreementSignature.request_id)
        .where(AccessRequest.subject_person_id == Grant.person_id,
               AccessRequest.organization_id == Grant.organization_id)
        .correlate(Grant)
        .scalar_subquery()
    )
    active = sa.and_(Grant.organization_id == organization_id, Grant.active)
    with session_scope() as session:
        organization = session.get(Organization, organization_id)
        if organization is None:
            raise NotAllowed("That organization does not exist.")
        total = session.exec(select(sa.func.count()).select_from(Grant).where(active)).one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        listed = session.exec(
            select(Person, Grant, signed, last_activity_subquery())
            .join(Grant, Grant.person_id == Person.id)
            .where(active)
            .order_by(Person.last_name, Person.first_name, Person.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        rows = [{
            "person_id": str(person.id), "name": person.full_name, "email": person.email,
            "level": grant.access_level.label, "since": program_date(grant.since),
            "agreement_signed": program_date(_aware(signed_at)) if signed_at else "Not on file",
            "last_activity": describe_last_activity(last_login),
            "is_self": person.id == actor.person_id,
        } for person, grant, signed_at, last_login in listed]
        return RosterPage(organization_id, organization.name, rows, total, page, pages)


def _aware(value):
    """SQLite hands back an aggregate's timestamp as text or naive; make it an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
