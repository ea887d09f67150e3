"""One request as a person allowed to see it sees it: its fields, its timeline, their next actions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AgreementVersion,
    AuditEvent,
    Organization,
    OutboundEmail,
    Person,
)
from immtrax_portal.domain.permissions import Actor, NotAllowed, decisions_withheld, may_view_request
from immtrax_portal.domain.workflow import Action, IllegalTransition, legal_actions
from immtrax_portal.program_time import program_stamp
from immtrax_portal.services.request_actions import ActionInput, act_on_request, may_act
from immtrax_portal.services.staff_notes import NOTE_ADDED, notes_of

STAFF_ONLY_EVENTS = frozenset({NOTE_ADDED})

ACTION_LABELS = {
    Action.QUEUE_FOR_REVIEW: "Start review",
    Action.ASK_FOR_INFO: "Ask the supervisor a question",
    Action.ANSWER_INFO: "Answer the program's question",
    Action.PROVISION: "Mark login credentials sent and complete",
    Action.APPLY_LEVEL: "Apply the new level and complete",
    Action.CONFIRM_DELETION: "Confirm access removed and complete",
    Action.REJECT: "Reject with a reason",
    Action.CANCEL: "Cancel this request",
}
NEEDS_TEXT = {Action.ASK_FOR_INFO: "Question", Action.ANSWER_INFO: "Answer", Action.REJECT: "Reason",
              Action.CANCEL: "Why (optional)"}


@dataclass(frozen=True)
class RequestDetail:
    id: int
    version: int
    fields: list[dict[str, str]]
    timeline: list[dict[str, str]]
    emails: list[dict[str, str]]
    actions: list[dict[str, str]]
    notes: list[dict[str, str]]
    # Why staff see no decision here (four eyes), or "".
    withheld: str = ""


def _fields(session, actor: Actor, request: AccessRequest, subject: Person,
            org: Organization) -> list[dict[str, str]]:
    submitter = session.get(Person, request.submitter_id)
    # Where a Change Employer's person worked before is for program staff and the person: the new
    # organization's supervisors learn only that they held access elsewhere (as in the wizard).
    shows_former = actor.is_program_staff or actor.person_id == request.subject_person_id
    former = (session.get(Organization, request.former_organization_id)
              if request.former_organization_id and shows_former else None)
    signed = session.exec(
        select(AgreementSignature, AgreementVersion.label)
        .join(AgreementVersion, AgreementVersion.id == AgreementSignature.agreement_version_id)
        .where(AgreementSignature.request_id == request.id)
    ).first()
    rows = [
        ("Request", request.number), ("Type", request.request_type.label),
        ("Status", request.status.label), ("Organization", org.name),
        ("Person", subject.full_name), ("Work email", subject.email),
        ("Phone", request.phone), ("Job title", request.job_title),
        ("Access level", request.access_level.label if request.access_level else ""),
        ("Start date", request.start_date.isoformat() if request.start_date else ""),
        ("Last day", request.last_day.isoformat() if request.last_day else ""),
        ("Reason", request.reason), ("Note", request.note),
        ("Rejection reason", request.rejection_reason), ("imMTrax username", request.immtrax_username),
        ("Former organization", former.name if former else ""),
        ("Submitted by", f"{submitter.full_name} ({submitter.email})" if submitter else ""),
        ("Submitted", program_stamp(request.created_at)),
        ("In this status since", program_stamp(request.status_changed_at)),
        ("Completed on", program_stamp(request.completed_at) if request.completed_at else ""),
        ("Agreement signed", f"{program_stamp(signed[0].signed_at)} by {signed[0].typed_name}, "
                             f"version {signed[1]}" if signed else ""),
    ]
    return [{"label": label, "value": value} for label, value in rows if value]


def _allowed_actions(actor: Actor, request: AccessRequest) -> list[dict[str, str]]:
    allowed = []
    for action in legal_actions(request.request_type, request.status):
        try:
            may_act(actor, request, action)
        except NotAllowed:
            continue
        allowed.append({"action": action.value, "label": ACTION_LABELS[action],
                        "text_label": NEEDS_TEXT.get(action, ""),
                        "needs_username": "yes" if action == Action.PROVISION else ""})
    return allowed


def request_detail(actor: Actor, number: str) -> RequestDetail:
    """The request numbered ``number`` if ``actor`` may see it; NotAllowed otherwise (whether or
    not it exists, so numbers cannot be probed)."""
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number[:20])).first()
        if request is None or not may_view_request(actor, request.organization_id,
                                                   request.subject_person_id, request.submitter_id):
            raise NotAllowed("That request does not exist or is not yours to see.")
        subject = session.get(Person, request.subject_person_id)
        org = session.get(Organization, request.organization_id)
        events = session.exec(
            select(AuditEvent, Person.first_name, Person.last_name)
            .join(Person, Person.id == AuditEvent.actor_id, isouter=True)
            .where(AuditEvent.request_id == request.id).order_by(AuditEvent.id)  # type: ignore[arg-type]
        ).all()
        timeline = [{"when": program_stamp(e.occurred_at),
                     "who": f"{first} {last}" if first else e.actor_role.capitalize(),
                     "what": e.action.replace("_", " "),
                     "move": f"{e.from_status or ''} → {e.to_status}" if e.to_status else "",
                     "reason": e.reason}
                    for e, first, last in events
                    if actor.is_program_staff or e.action not in STAFF_ONLY_EVENTS]
        emails = []
        if actor.is_program_staff:
            emails = [{"to": m.to_address, "subject": m.subject, "status": m.status.value,
                       "when": program_stamp(m.created_at),
                       "detail": (f"sent {program_stamp(m.sent_at)}" if m.sent_at
                                  else f"{m.attempts} attempts, last error: {m.last_error}" if m.last_error
                                  else "")}
                      for m in session.exec(select(OutboundEmail)
                                            .where(OutboundEmail.request_id == request.id)
                                            .order_by(OutboundEmail.id))]  # type: ignore[arg-type]
        fields = _fields(session, actor, request, subject, org)
    notes = [n.as_dict() for n in notes_of(actor, request.id)] if actor.is_program_staff else []
    return RequestDetail(request.id, request.version, fields, timeline, emails,
                         _allowed_actions(actor, request), notes,
                         decisions_withheld(actor, request, subject.email))


def take_action(actor: Actor, request_id: int, given: ActionInput, *, credentials_sent: bool,
                source_ip: str = "") -> AccessRequest:
    """An action from the request page. Provisioning also needs "login credentials sent" ticked:
    the portal never sends credentials itself, so staff confirm they did."""
    if given.action == Action.PROVISION and not credentials_sent:
        raise IllegalTransition("Tick \"Login credentials sent\" once you have sent them; the portal "
                                "does not send credentials itself.")
    return act_on_request(actor, request_id, given, source_ip=source_ip)
