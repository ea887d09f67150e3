"""Who works a request: assigning it (to oneself or a colleague, with a note), and the queue's bulk
actions on selected rows (assign them; reject expired requests and likely duplicates with one
reason).

Every request of a bulk action is decided on its own, in its own transaction: each change leaves
its own audit row, each refusal (the rulebook's ``assign_refusal`` / ``bulk_reject_refusal``) its
own denied row, and one refused request never undoes or blocks the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import AccessRequest, Person
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    assign_refusal,
    bulk_reject_refusal,
    require_staff,
)
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services import audit
from immtrax_portal.services.delegations import on_behalf_details
from immtrax_portal.services.queue_marks import duplicate_of
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.request_store import RequestChanged

NOTE_MAX = 500
REASON_MAX = 2000
MAX_SELECTED = 100
MAX_STAFF_CHOICES = 500


@dataclass(frozen=True)
class Outcome:
    number: str
    done: bool
    message: str


@dataclass(frozen=True)
class BulkResult:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for o in self.outcomes if o.done)

    @property
    def refused(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.done]


def staff_choices(actor: Actor) -> list[tuple[int, str]]:
    """Program staff a request can be assigned to, by name (bounded; the program has a few)."""
    require_staff(actor)
    with session_scope() as session:
        return [(pid, f"{first} {last}") for pid, first, last in session.exec(
            select(Person.id, Person.first_name, Person.last_name)
            .where(sa.or_(Person.is_staff.is_(True), Person.is_admin.is_(True)))  # type: ignore[attr-defined]
            .order_by(Person.last_name, Person.first_name).limit(MAX_STAFF_CHOICES))]


# --- Assigning ----------------------------------------------------------------------------------

def _deny(session: Session, actor: Actor, action: AuditAction, request: AccessRequest, message: str,
          source_ip: str) -> None:
    audit.record(session, action=action, actor_id=actor.person_id, actor_role=actor.role,
                 outcome=AuditOutcome.DENIED, organization_id=request.organization_id,
                 request_id=request.id, target_type="access_request", target_id=request.number,
                 reason=message, source_ip=source_ip)


def _assign_one(session: Session, actor: Actor, request: AccessRequest, assignee: Person | None,
                note: str, source_ip: str, *, audit_refusal: bool) -> Outcome:
    """Assign one request, or say why not (the refusal audited here when ``audit_refusal``; a
    single assignment's refusal is raised, and audited once by the handler's guard)."""
    subject = session.get(Person, request.subject_person_id)
    refusal = assign_refusal(
        actor, request, request_is_open=RequestStatus(request.status).is_open,
        assignee_id=assignee.id if assignee else 0,
        assignee_is_staff=bool(assignee and (assignee.is_staff or assignee.is_admin)),
        assignee_name=assignee.full_name if assignee else "", subject_email=subject.email if subject else "",
        assignee_email=assignee.email if assignee else "")
    if refusal is not None:
        if audit_refusal:
            _deny(session, actor, AuditAction.ASSIGN_OWNER, request, refusal, source_ip)
        return Outcome(request.number, False, refusal)
    if request.owner_id == assignee.id:
        return Outcome(request.number, True, f"already assigned to {assignee.full_name}")
    previous = request.owner_id
    both_names = on_behalf_details(session, actor, request)  # a backup passing on the absent owner's work
    request.owner_id = assignee.id
    session.add(request)
    session.flush()
    audit.record(session, action=AuditAction.ASSIGN_OWNER, actor_id=actor.person_id, actor_role=actor.role,
                 organization_id=request.organization_id, request_id=request.id,
                 target_type="person", target_id=assignee.id, reason=note, source_ip=source_ip,
                 details={"owner": assignee.full_name, "previous_owner_id": previous or "", **both_names})
    return Outcome(request.number, True, f"assigned to {assignee.full_name}")


def assign(actor: Actor, number: str, assignee_id: int, note: str = "", *, source_ip: str = "") -> Outcome:
    """Make ``assignee_id`` the owner of request ``number``; NotAllowed (which the caller's guard
    records) when the rulebook refuses."""
    require_staff(actor)
    note = " ".join(str(note).split())[:NOTE_MAX]
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number[:20])).first()
        if request is None:
            raise NotAllowed("That request does not exist or is not yours to see.",
                             target_type="access_request", target_id=number[:20])
        outcome = _assign_one(session, actor, request, session.get(Person, assignee_id), note, source_ip,
                              audit_refusal=False)
    if not outcome.done:
        raise NotAllowed(outcome.message, target_type="access_request", target_id=number[:20])
    return outcome


def _selected(numbers: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for number in numbers[:MAX_SELECTED]:
        seen.setdefault(str(number)[:20], None)
    return list(seen)


def bulk_assign(actor: Actor, numbers: list[str], assignee_id: int, *, source_ip: str = "") -> BulkResult:
    require_staff(actor)
    outcomes = []
    for number in _selected(numbers):
        with session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).first()
            if request is None:
                outcomes.append(Outcome(number, False, "not found"))
                continue
            outcomes.append(_assign_one(session, actor, request, session.get(Person, assignee_id), "",
                                        source_ip, audit_refusal=True))
    return BulkResult(outcomes)


BULK_REASON_WANTED = "Write the reason the applicants' supervisors will read."


def bulk_reject(actor: Actor, numbers: list[str], reason: str, *, source_ip: str = "") -> BulkResult:
    """Reject each selected request that is expired or a likely duplicate, with the one reason."""
    require_staff(actor)
    reason = str(reason).strip()[:REASON_MAX]
    if not reason:
        raise ValueError(BULK_REASON_WANTED)
    outcomes = []
    for number in _selected(numbers):
        with session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).first()
            if request is None:
                outcomes.append(Outcome(number, False, "not found"))
                continue
            subject = session.get(Person, request.subject_person_id)
            refusal = bulk_reject_refusal(
                actor, request, is_expired=request.status == RequestStatus.EXPIRED,
                is_likely_duplicate=bool(duplicate_of(session, request)),
                subject_email=subject.email if subject else "")
            if refusal is not None:
                _deny(session, actor, AuditAction.REJECT, request, refusal, source_ip)
                outcomes.append(Outcome(number, False, refusal))
                continue
            request_id, version = request.id, request.version
        try:
            act_on_request(actor, request_id, ActionInput(Action.REJECT, version, reason),
                           source_ip=source_ip)
        except (NotAllowed, RequestChanged, IllegalTransition) as refused:
            outcomes.append(Outcome(number, False, str(refused)))
            continue
        outcomes.append(Outcome(number, True, "rejected"))
    return BulkResult(outcomes)
