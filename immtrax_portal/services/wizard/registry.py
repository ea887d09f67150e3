"""What the registry of grants says about the person of a request: the wizard's step-2 look-up.

The look-up tells a supervisor whether the email they typed already has access here (then it is a
Permissions Change), elsewhere (then it is a Change Employer) or nowhere, or has an open request
here. It never says *where* else: that a person holds access elsewhere is all the supervisor needs
to pick the right request, and which organization employs them is not theirs to learn from a typed
email. Each look-up about someone outside the supervisor's organization answers a question about a
stranger, so it is audited (who asked about which email) and counted per supervisor
(``IMMTRAX_RATE_LIMIT_REGISTRY_LOOKUP_PER_PERSON``), which stops one account walking a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import validation as v
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestType
from immtrax_portal.domain.models import AccessRequest, Grant, Person
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_not_about_self, require_supervisor_of
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import audit
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.roster import RosterEntry, roster_entry, search_roster
from immtrax_portal.services.wizard.answers import Answers, RequestDraft
from immtrax_portal.services.wizard.steps import REGISTRY

# The request types whose person is chosen from the organization's roster.
ROSTER_TYPES = (RequestType.PERMISSIONS_CHANGE.value, RequestType.ACCESS_DELETION.value)


@dataclass(frozen=True)
class RegistryAdvice:
    """What the registry says about a person at an organization, for the wizard to offer."""

    message: str
    suggested_type: RequestType | None = None
    open_request_number: str | None = None
    blocking: bool = True


@dataclass(frozen=True)
class RegistryCheck:
    """Step 2's verdict: problems to show (empty: carry on) and the advice that goes with them."""

    problems: dict[str, str] = field(default_factory=dict)
    advice: RegistryAdvice | None = None


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


def _open_request_advice(number: str) -> RegistryAdvice:
    return RegistryAdvice(f"There is already an open request ({number}) for this person at this "
                          "organization. Follow that request instead of starting another.",
                          open_request_number=number)


def registry_advice(
    session: Session, organization_id: int, request_type: RequestType, email: str
) -> RegistryAdvice | None:
    """What the registry knows that should change a New Access or Change Employer request."""
    person = session.exec(select(Person).where(Person.email == v.normalize_email(email))).first()
    grants = active_grants_of(session, person.id) if person else []
    here = next((g for g in grants if g.organization_id == organization_id), None)
    elsewhere = any(g.organization_id != organization_id for g in grants)
    if person and (existing := open_request_for(session, person.id, organization_id)):
        return _open_request_advice(existing.number)
    if here:
        return RegistryAdvice(
            f"This person already has {here.access_level.label} access at this organization. "
            "To give them another level, submit a User Permissions Change instead.",
            suggested_type=RequestType.PERMISSIONS_CHANGE,
        )
    if request_type == RequestType.NEW_ACCESS and elsewhere:
        return RegistryAdvice(
            "This person already holds imMTrax access at another organization. "
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


def advice_for_new_person(organization_id: int, request_type: RequestType,
                          email: str) -> RegistryAdvice | None:
    """``registry_advice`` in its own session, without the audit and the count of ``check_person``."""
    with session_scope() as session:
        return registry_advice(session, organization_id, request_type, email)


def open_request_number(organization_id: int, person_id: int) -> str | None:
    """The number of the person's open request at this organization, if there is one."""
    with session_scope() as session:
        existing = open_request_for(session, person_id, organization_id)
        return existing.number if existing else None


def pickable_user(actor: Actor, organization_id: int, person_id: int) -> RosterEntry | None:
    """The person as a current user of the organization, unless it is the supervisor themselves."""
    entry = roster_entry(organization_id, person_id) if organization_id and person_id else None
    return entry if entry is not None and entry.person_id != actor.person_id else None


def check_person(actor: Actor, draft: RequestDraft, *, source_ip: str = "") -> RegistryCheck:
    """Step 2's look-ups: a request about oneself, an open request, the person's access elsewhere."""
    try:
        require_not_about_self(actor, draft.subject_person_id, draft.email)
    except NotAllowed as refused:
        return RegistryCheck({"subject_person_id" if draft.subject_person_id else "email": str(refused)})
    if draft.request_type.picks_from_roster:
        number = open_request_number(draft.organization_id, draft.subject_person_id or 0)
        advice = _open_request_advice(number) if number else None
    else:
        try:
            advice = look_up_new_person(actor, draft, source_ip=source_ip)
        except RateLimited as limited:  # already an audit denial
            return RegistryCheck({REGISTRY: str(limited)})
    return RegistryCheck({REGISTRY: advice.message} if advice else {}, advice)


def look_up_new_person(actor: Actor, draft: RequestDraft, *, source_ip: str = "") -> RegistryAdvice | None:
    """The registry's advice about a typed email, counted against the supervisor's limit (raises
    ``RateLimited``) and recorded in the audit log with what it answered."""
    check_rate("registry_lookup", person_id=actor.person_id, ip=source_ip, actor_role=actor.role)
    email = v.normalize_email(draft.email)
    with session_scope() as session:
        advice = registry_advice(session, draft.organization_id, draft.request_type, email)
        audit.record(session, action=AuditAction.WIZARD_REGISTRY_LOOKUP, actor_id=actor.person_id,
                     actor_role=actor.role,
                     target_type="email", target_id=email, source_ip=source_ip,
                     details={"email": email, "organization_id": draft.organization_id,
                              "request_type": draft.request_type.value,
                              "suggested_type": advice.suggested_type.value
                              if advice and advice.suggested_type else "",
                              "open_request": advice.open_request_number or "" if advice else ""})
    return advice


def pickable_users(actor: Actor, organization_id: int, query: str) -> list[RosterEntry]:
    """The organization's current users matching ``query`` that the supervisor may choose (not
    themselves); nothing without an organization."""
    if not organization_id:
        return []
    return [entry for entry in search_roster(organization_id, query) if entry.person_id != actor.person_id]


def roster_prefill(actor: Actor, kind: str, organization: str, person: str) -> Answers | None:
    """The dashboard roster's "Change level" / "Remove access" link (``?type=&org=&person=``) as
    answers, or None when it names no such request for a current user (not the supervisor).

    Raises NotAllowed when the organization is not the supervisor's: a forged link, worth a record.
    """
    organization_id, person_id = record_id(organization), record_id(person)
    if kind not in ROSTER_TYPES or not organization_id or not person_id:
        return None
    require_supervisor_of(actor, organization_id)
    if pickable_user(actor, organization_id, person_id) is None:
        return None
    return Answers(organization_id=str(organization_id), request_type=kind, subject_person_id=str(person_id))
