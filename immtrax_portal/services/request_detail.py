"""One request as a person allowed to see it sees it: its fields, its timeline, their next actions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus, RequestType
from immtrax_portal.domain.event_sentences import EventFacts, sentence, status_after
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AgreementVersion,
    AuditEvent,
    Grant,
    Organization,
    OutboundEmail,
    Person,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    assign_refusal,
    covering_owner,
    decisions_withheld,
    may_view_request,
)
from immtrax_portal.domain.validation import shown_phone
from immtrax_portal.domain.workflow import Action, legal_actions, reason_wanted
from immtrax_portal.program_time import calendar_day, program_stamp
from immtrax_portal.services import clock_figures
from immtrax_portal.services.provisioning import sheet_text, worksheet
from immtrax_portal.services.request_actions import ActionInput, act_on_request, may_act
from immtrax_portal.services.staff_notes import NOTE_ADDED, notes_of

# Staff-only history: internal notes, who owns the request (and the note handing it on), and the
# program clock's notices.
STAFF_ONLY_EVENTS = frozenset({NOTE_ADDED, AuditAction.ASSIGN_OWNER, AuditAction.CLOCK_NOTICE,
                               AuditAction.SET_CLOCK_TARGET})

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
    # Program staff only (empty for everyone else): who works it, whether the caller may take it
    # on, the provisioning worksheet, and the program's clock.
    owner: str = ""
    may_assign: bool = False
    may_take: bool = False
    worksheet: list[dict[str, str]] = field(default_factory=list)
    worksheet_text: str = ""
    clock: str = ""
    # The absent colleague whose assigned request this is, when the caller stands in for them.
    covering_for: str = ""


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
        ("Phone", shown_phone(request.phone) if request.phone else ""), ("Job title", request.job_title),
        *_level_rows(session, request),
        ("Start date", calendar_day(request.start_date)),
        ("Last day", calendar_day(request.last_day)),
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


def _level_rows(session, request: AccessRequest) -> list[tuple[str, str]]:
    """A Permissions Change says from which level to which ("Read Only with Consent → Record
    Maintenance"); other requests the level asked for."""
    if request.access_level is None:
        return []
    if request.request_type != RequestType.PERMISSIONS_CHANGE:
        return [("Access level", request.access_level.label)]
    before = request.previous_access_level
    if before is None and request.status.is_open:   # submitted before the level was kept
        grant = session.exec(select(Grant).where(Grant.person_id == request.subject_person_id,
                                                 Grant.organization_id == request.organization_id)).first()
        before = grant.access_level if grant else None
    if before is None:
        return [("New access level", request.access_level.label)]
    return [("Access level change", f"{before.label} → {request.access_level.label}")]


def _history_entry(event: AuditEvent, first: str | None, last: str | None,
                   request_type: str) -> dict[str, str]:
    """One line of the history, in words (``domain.event_sentences``)."""
    facts = EventFacts(action=event.action, actor_name=f"{first or ''} {last or ''}".strip(),
                       actor_role=event.actor_role, outcome=AuditOutcome(event.outcome).value,
                       reason=event.reason, to_status=event.to_status, request_type=request_type)
    return {"when": program_stamp(event.occurred_at), "what": sentence(facts),
            "status": status_after(facts)}


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
        timeline = [_history_entry(e, first, last, request.request_type.value)
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
        staff_view = _staff_view(session, actor, request, subject) if actor.is_program_staff else {}
    notes = [n.as_dict() for n in notes_of(actor, request.id)] if actor.is_program_staff else []
    return RequestDetail(request.id, request.version, fields, timeline, emails,
                         _allowed_actions(actor, request), notes,
                         decisions_withheld(actor, request, subject.email), **staff_view)


def _staff_view(session, actor: Actor, request: AccessRequest, subject: Person) -> dict:
    owner = session.get(Person, request.owner_id) if request.owner_id else None
    is_open = RequestStatus(request.status).is_open
    may_assign = assign_refusal(actor, request, request_is_open=is_open, assignee_id=-1,
                                assignee_is_staff=True, assignee_name="", subject_email=subject.email) is None
    may_take = may_assign and request.owner_id != actor.person_id and assign_refusal(
        actor, request, request_is_open=is_open, assignee_id=actor.person_id, assignee_is_staff=True,
        assignee_name="", subject_email=subject.email, assignee_email=actor.email) is None
    sheet = worksheet(session, actor, request)
    zone = clock_figures.zone()
    hours = clock_figures.targets(session).get(RequestType(request.request_type), clock.DEFAULT_TARGET_HOURS)
    used = clock.program_seconds_now(request.program_seconds, request.clock_origin, utcnow(), zone)
    clock_line, marker = clock.clock_text(RequestStatus(request.status), used, hours)
    spent = f"{clock.hours_text(used)} with the program"
    return {"owner": owner.full_name if owner else "", "may_assign": may_assign, "may_take": may_take,
            "covering_for": owner.full_name if owner and covering_owner(actor, owner.id) else "",
            "worksheet": [{"key": f.key, "label": f.label, "value": f.value} for f in sheet],
            "worksheet_text": sheet_text(sheet),
            "clock": f"{spent}; {clock_line}" + (f" — {marker}" if marker else "")}


# What an empty or too long text box says, at the field (never the lifecycle's own wording).
TEXT_MAX = 2000
# What the page says once an action is taken (its history says who did it, and when).
DONE_TEXT = {
    Action.QUEUE_FOR_REVIEW: "The review has started.",
    Action.ASK_FOR_INFO: "Your question is sent to the supervisor.",
    Action.ANSWER_INFO: "Your answer is sent to the program, and the review goes on.",
    Action.PROVISION: "The request is complete: the person's access is active.",
    Action.APPLY_LEVEL: "The request is complete: the new access level is applied.",
    Action.CONFIRM_DELETION: "The request is complete: the access removal is confirmed.",
    Action.REJECT: "The request is rejected; the supervisor is emailed your reason.",
    Action.CANCEL: "The request is cancelled.",
}
# Decisions that cannot be undone: the page asks before it takes them.
CONFIRMED_ACTIONS = frozenset({Action.REJECT, Action.CANCEL, Action.CONFIRM_DELETION})


class ActionInvalid(ValueError):
    """The action's form is not filled in as it must be: field -> message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def action_problems(given: ActionInput, *, credentials_sent: bool) -> dict[str, str]:
    """field -> message for the request page's action form ("text", "username", "credentials_sent")."""
    problems: dict[str, str] = {}
    text = given.reason.strip()
    if not text and (wanted := reason_wanted(given.action)):
        problems["text"] = wanted
    elif len(text) > TEXT_MAX:
        problems["text"] = f"Keep the text to {TEXT_MAX} characters or fewer (it has {len(text)})."
    if given.action == Action.PROVISION:
        if not given.immtrax_username.strip():
            problems["username"] = "Enter the imMTrax username you created for this person."
        if not credentials_sent:
            problems["credentials_sent"] = ("Tick \u201cLogin credentials sent\u201d once you have sent "
                                            "them. The portal does not send credentials itself.")
    return problems


@dataclass(frozen=True)
class Confirmation:
    title: str
    body: str
    yes: str
    no: str


def confirmation_for(detail_fields: list[dict[str, str]], given: ActionInput) -> Confirmation | None:
    """What the page asks before a decision that cannot be undone (None: no question needed)."""
    if given.action not in CONFIRMED_ACTIONS:
        return None
    shown = {f["label"]: f["value"] for f in detail_fields}
    number, person = shown.get("Request", "this request"), shown.get("Person", "the person")
    reason = given.reason.strip()
    if given.action == Action.REJECT:
        return Confirmation(
            f"Reject request {number}?",
            f"The request for {person} closes as rejected and cannot be reopened; any invitation "
            f"link stops working. The supervisor is emailed your reason: \u201c{reason}\u201d",
            "Yes, reject the request", "No, go back")
    if given.action == Action.CANCEL:
        return Confirmation(
            f"Cancel request {number}?",
            f"The program stops working on the request for {person}, and any invitation link stops "
            "working. This cannot be undone; you can submit a new request later.",
            "Yes, cancel the request", "No, keep it")
    return Confirmation(
        f"Confirm that {person}'s access is removed?",
        f"Request {number} is completed and {person} no longer holds imMTrax access at this "
        "organization. This cannot be undone; giving access again takes a new request.",
        "Yes, access is removed", "No, go back")


def check_action(actor: Actor, request_id: int, given: ActionInput, *, credentials_sent: bool) -> None:
    """Raise ActionInvalid (field messages) or NotAllowed before anything is asked or done."""
    if problems := action_problems(given, credentials_sent=credentials_sent):
        raise ActionInvalid(problems)
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        if request is None:
            raise NotAllowed("That request does not exist or is not yours to see.",
                             target_type="access_request", target_id=request_id)
        may_act(actor, request, given.action)


def take_action(actor: Actor, request_id: int, given: ActionInput, *, credentials_sent: bool,
                source_ip: str = "") -> AccessRequest:
    """An action from the request page. Provisioning also needs "login credentials sent" ticked:
    the portal never sends credentials itself, so staff confirm they did."""
    if problems := action_problems(given, credentials_sent=credentials_sent):
        raise ActionInvalid(problems)
    return act_on_request(actor, request_id, given, source_ip=source_ip)
