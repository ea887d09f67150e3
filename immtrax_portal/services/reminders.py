"""Invitation reminders, expiry, and the supervisor's "Resend invitation".

Tokens are stored only as hashes, so a reminder cannot repeat the original link. A reminder
therefore carries a fresh link: the old invitation is revoked and a new one issued with the
*same* expiry and the reminder count carried over (a reminder never extends the deadline).
The conditional UPDATE that revokes the old invitation is what makes each reminder go out once,
however many workers run. Opening the superseded link says a newer one was sent.

Run ``run_invitation_housekeeping`` every few minutes (next to the delivery loop).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestStatus, Role
from immtrax_portal.domain.models import AccessRequest, Invitation, Person, utcnow
from immtrax_portal.domain.permissions import RESEND, Actor, NotAllowed, require_request_action, status_allows
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services import audit, emails
from immtrax_portal.services.delegations import on_behalf_details
from immtrax_portal.services.invitations import issue_invitation
from immtrax_portal.services.request_store import RequestChanged, save_transition, touch_request
from immtrax_portal.settings import get_settings

_invitations = Invitation.__table__  # type: ignore[attr-defined]
_OPEN = sa.and_(_invitations.c.consumed_at.is_(None), _invitations.c.revoked_at.is_(None))


def _open_invitations_awaiting(session: Session, *where) -> list[tuple[Invitation, AccessRequest]]:
    return list(session.exec(
        select(Invitation, AccessRequest)
        .join(AccessRequest, AccessRequest.id == Invitation.request_id)
        .where(AccessRequest.status == RequestStatus.AWAITING_AGREEMENT,
               Invitation.consumed_at.is_(None), Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
               *where)
        .order_by(Invitation.id)  # type: ignore[arg-type]
    ))


def _round_started(session: Session, invitation: Invitation) -> datetime:
    """When this invitation round was first issued (reminders re-issue with the same expiry)."""
    return session.exec(select(sa.func.min(Invitation.created_at)).where(
        Invitation.request_id == invitation.request_id, Invitation.expires_at == invitation.expires_at,
    )).one() or invitation.created_at


# --- Reminders ----------------------------------------------------------------------------------


def send_due_reminders(now: datetime | None = None) -> list[int]:
    """Send each configured reminder (days after the invitation) once; returns the request ids.

    A worker that was down past several reminder days sends one reminder, not a burst.
    """
    now = now or utcnow()
    days = sorted(d for d in get_settings().invitation_reminder_days if d > 0)
    due: list[tuple[int, int, int, int]] = []
    with session_scope() as session:
        for invitation, request in _open_invitations_awaiting(
                session, Invitation.expires_at > now, Invitation.reminders_sent < len(days)):
            started = _round_started(session, invitation)
            reached = sum(1 for d in days if now >= started + timedelta(days=d))
            if reached > invitation.reminders_sent:
                due.append((request.id, invitation.id, invitation.reminders_sent, reached))
    return [request_id for args in due if (request_id := _send_reminder(*args, now=now))]


def _send_reminder(request_id: int, invitation_id: int, sent_before: int, reached: int, *,
                   now: datetime) -> int | None:
    with session_scope() as session:
        # The request row is locked first, as signing, resend and expiry do: they serialize.
        request = session.get(AccessRequest, request_id, with_for_update=True)
        if request.status != RequestStatus.AWAITING_AGREEMENT:
            return None
        won = session.execute(
            _invitations.update()
            .where(_invitations.c.id == invitation_id, _OPEN,
                   _invitations.c.reminders_sent == sent_before)
            .values(revoked_at=now, reminders_sent=reached)
        ).rowcount
        if won != 1:
            return None
        old = session.get(Invitation, invitation_id)
        invitation, token = issue_invitation(session, request, old.email)
        invitation.expires_at, invitation.reminders_sent = old.expires_at, reached
        emails.invitation_reminder(session, request, to=old.email, token=token, expires_at=old.expires_at)
        audit.record(session, action=AuditAction.INVITATION_REMINDER, actor_id=None, actor_role=Role.SYSTEM,
                     organization_id=request.organization_id, request_id=request.id,
                     target_type="access_request", target_id=request.number,
                     details={"reminder": reached, "replaced_invitation_id": invitation_id})
        return request.id


# --- Expiry -------------------------------------------------------------------------------------


def expire_overdue_invitations(now: datetime | None = None, *, request_id: int | None = None) -> list[int]:
    """Requests whose open invitation ran out move to expired; the supervisor is told. Returns ids.
    ``request_id``: only that request's invitation (the demo world ages one invitation)."""
    now = now or utcnow()
    only = (Invitation.request_id == request_id,) if request_id is not None else ()
    with session_scope() as session:
        overdue = [(i.id, r.id) for i, r in _open_invitations_awaiting(session, Invitation.expires_at <= now,
                                                                          *only)]
    expired = []
    for invitation_id, request_id in overdue:
        try:
            if _expire(invitation_id, request_id):
                expired.append(request_id)
        except RequestChanged:
            continue  # signed, cancelled or resent at this very moment: nothing to expire
    return expired


def _expire(invitation_id: int, request_id: int) -> bool:
    with session_scope() as session:
        request = session.get(AccessRequest, request_id, with_for_update=True)
        if request.status != RequestStatus.AWAITING_AGREEMENT:
            return False
        save_transition(session, request, Action.EXPIRE_INVITATION, actor_id=None, actor_role=Role.SYSTEM,
                        details={"invitation_id": invitation_id})
        emails.invitation_expired(session, request)
        return True


# --- Resend -------------------------------------------------------------------------------------


def require_may_resend(actor: Actor, request: AccessRequest | None, subject: Person | None) -> None:
    """The rulebook's resend rule: the organization's supervisors and staff, never about oneself."""
    if request is None or subject is None:
        raise NotAllowed("That request does not exist or is not yours to act on.")
    require_request_action(actor, RESEND, request, subject.email)


def require_resendable(request: AccessRequest) -> None:
    """Only a request waiting for the agreement, or one whose invitation expired."""
    if not status_allows(RESEND, request):
        raise IllegalTransition(
            f"Request {request.number} is {request.status.label.lower()}: only a request waiting for "
            "the agreement, or one whose invitation expired, can have its invitation resent.")


def resend_invitation(actor: Actor, request_id: int, expected_version: int | None = None, *,
                      source_ip: str = "") -> AccessRequest:
    """Send the applicant a new link (the old one stops working) and return the request.

    Waiting for the agreement: same status, audited as resend_invitation. Expired: the request
    is reissued back to awaiting_agreement. Raises NotAllowed, IllegalTransition or RequestChanged
    (someone acted first: reload).
    """
    with session_scope() as session:
        request = session.get(AccessRequest, request_id, with_for_update=True)
        subject = session.get(Person, request.subject_person_id) if request else None
        require_may_resend(actor, request, subject)
        if expected_version is not None and request.version != expected_version:
            raise RequestChanged()
        require_resendable(request)
        both_names = on_behalf_details(session, actor, request) or None
        if request.status == RequestStatus.AWAITING_AGREEMENT:
            touch_request(session, request)
            audit.record(session, action=AuditAction.RESEND_INVITATION, actor_id=actor.person_id,
                         actor_role=actor.role,
                         organization_id=request.organization_id, request_id=request.id,
                         target_type="access_request", target_id=request.number, source_ip=source_ip,
                         details=both_names)
        else:   # expired (require_resendable allowed no other status)
            save_transition(session, request, Action.REISSUE_INVITATION, actor_id=actor.person_id,
                            actor_role=actor.role, source_ip=source_ip, details=both_names)
        invitation, token = issue_invitation(session, request, subject.email)
        emails.invitation(session, request, to=subject.email, token=token,
                          expires_at=invitation.expires_at, first=False)
        return request


def run_invitation_housekeeping(now: datetime | None = None) -> dict[str, list[int]]:
    """Expire what is overdue, then remind what is due: one call for a periodic job."""
    now = now or utcnow()
    return {"expired": expire_overdue_invitations(now), "reminded": send_due_reminders(now)}


def run_invitation_jobs(now: datetime) -> int:
    """The housekeeping job (services/housekeeping.py): how many invitations expired or were reminded."""
    done = run_invitation_housekeeping(now)
    return len(done["expired"]) + len(done["reminded"])
