"""Acting on a submitted request: staff review actions and the supervisor's cancel and answer.

Every action goes through ``workflow.transition`` and is written with
``UPDATE ... WHERE version = <what the actor saw>``: when two people act at once, the second is
told who changed the request, and nothing is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import grant_change_for
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    Person,
    SupervisorLink,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    REVIEW_ACTIONS,
    SUPERVISOR_ACTIONS,
    Actor,
    NotAllowed,
    require_request_action,
)
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.program_time import program_stamp
from immtrax_portal.services import access_ends, audit, emails, succession
from immtrax_portal.services.automatic_deletion import is_system_submitted
from immtrax_portal.services.delegations import on_behalf_details
from immtrax_portal.services.request_store import RequestChanged, save_transition

# The actions this module applies (resending an invitation is services/reminders.py's).
REQUEST_PAGE_ACTIONS = REVIEW_ACTIONS | SUPERVISOR_ACTIONS


@dataclass(frozen=True)
class ActionInput:
    action: Action
    expected_version: int
    reason: str = ""
    immtrax_username: str = ""


def may_act(actor: Actor, request: AccessRequest, action: Action) -> None:
    """Raise NotAllowed unless ``actor`` may take ``action`` on ``request`` (the rulebook's
    ``request_action_refusal``; four eyes on every decision)."""
    if action not in REQUEST_PAGE_ACTIONS:
        raise NotAllowed("That action is not available here.", target_type="access_request",
                         target_id=request.number)
    require_request_action(actor, action, request)


def act_on_request(actor: Actor, request_id: int, given: ActionInput, *,
                   source_ip: str = "") -> AccessRequest:
    """Apply one action, its grant changes and its emails in one transaction."""
    if given.action == Action.PROVISION and not given.immtrax_username.strip():
        raise IllegalTransition("Enter the imMTrax username before marking credentials sent.")
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        if request is None:
            raise NotAllowed("That request does not exist or is not yours to see.",
                             target_type="access_request", target_id=request_id)
        may_act(actor, request, given.action)
        if given.action == Action.PROVISION:
            request.immtrax_username = given.immtrax_username.strip()[:100]
        try:
            save_transition(session, request, given.action, actor_id=actor.person_id,
                            actor_role=actor.role, reason=given.reason, source_ip=source_ip,
                            expected_version=given.expected_version,
                            details=on_behalf_details(session, actor, request) or None)
        except RequestChanged:
            raise RequestChanged(_changed_message(session, request.id)) from None
        _apply_grant_changes(session, request, given.action, actor, source_ip)
        _tell_people(session, request, given)
        return request


def _changed_message(session: Session, request_id: int) -> str:
    last = session.exec(
        select(AuditEvent, Person.first_name, Person.last_name)
        .join(Person, Person.id == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.request_id == request_id)
        .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
    ).first()
    who = f"{last[1]} {last[2]}" if last and last[1] else "someone else"
    when = program_stamp(last[0].occurred_at) if last else "just now"
    return (f"This request changed: {who} updated it at {when}. Reload to see the new state "
            "before you act.")


def _grant(session: Session, person_id: int, organization_id: int) -> Grant | None:
    return session.exec(select(Grant).where(Grant.person_id == person_id,
                                            Grant.organization_id == organization_id)).first()


def _apply_grant_changes(session: Session, request: AccessRequest, action: Action, actor: Actor,
                         source_ip: str) -> None:
    """The registry follows the request: provisioning, level changes, and deletions."""
    now = utcnow()
    grant = _grant(session, request.subject_person_id, request.organization_id)
    if action == Action.PROVISION:
        if grant is None:
            grant = Grant(person_id=request.subject_person_id, organization_id=request.organization_id,
                          access_level=request.access_level)
        grant.access_level, grant.active, grant.since, grant.until = request.access_level, True, now, None
        grant.immtrax_username = request.immtrax_username
        session.add(grant)
        session.flush()
        access_ends.schedule_after_provision(session, request, grant, actor_id=actor.person_id,
                                             actor_role=actor.role, source_ip=source_ip)
        if request.request_type == RequestType.CHANGE_EMPLOYER and request.former_organization_id:
            _end_former_grant(session, request, now)
    elif action == Action.APPLY_LEVEL and grant is not None:
        grant.access_level = request.access_level
        session.add(grant)
    elif action == Action.CONFIRM_DELETION and grant is not None:
        # The deletion stands: a supervisor whose own access it removed no longer supervises the
        # organization (usually done at submission already, when access was suspended; a no-op then).
        succession.after_access_ended(session, grant, now)
        return
    elif action in (Action.REJECT, Action.CANCEL) and request.request_type == RequestType.ACCESS_DELETION:
        # A scheduled removal goes with its request (the grant was never suspended).
        access_ends.cancel_for_request(session, request, actor_id=actor.person_id, actor_role=actor.role,
                                       source_ip=source_ip)
        # The deletion was the only reason access was suspended: restore it.
        if grant is not None and not grant.active:
            grant.active, grant.until = True, None
            session.add(grant)
    else:
        return
    # The grant changes because of the actor's action: the event names them and their address.
    audit.record(session, action=grant_change_for(action.value), actor_id=actor.person_id,
                 actor_role=actor.role, organization_id=request.organization_id,
                 request_id=request.id, target_type="grant", target_id=grant.id if grant else "",
                 source_ip=source_ip)


def _end_former_grant(session: Session, request: AccessRequest, now) -> None:
    former = _grant(session, request.subject_person_id, request.former_organization_id)
    if former is None or not former.active:
        return
    former.active, former.until = False, now
    session.add(former)
    for email in _supervisor_emails(session, request.former_organization_id):
        emails.former_employer_notice(session, request, to=email)


def _supervisor_emails(session: Session, organization_id: int) -> list[str]:
    return list(session.exec(
        select(Person.email).join(SupervisorLink, SupervisorLink.person_id == Person.id)
        .where(SupervisorLink.organization_id == organization_id)
    ))


def _tell_people(session: Session, request: AccessRequest, given: ActionInput) -> None:
    # A request the portal opened itself has no one to tell as its submitter (its mailbox is .invalid).
    if given.action in emails.NOTICE_ACTIONS and not is_system_submitted(session, request):
        emails.action_notice(session, request, given.action, given.reason)
