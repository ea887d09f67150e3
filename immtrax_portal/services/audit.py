"""Writing the audit log: every state change and every denial goes through this module.

``record`` builds an event; ``record_move`` takes the event a lifecycle move produced
(``domain.workflow.transition``). Both add it to the caller's session, so it commits with the
change it describes. As each row is inserted it is linked into the hash chain
(``services.audit_chain``); the database refuses UPDATE and DELETE on ``audit_event``
(triggers from migration 0002), so an event, once written, stays as written.
"""

from __future__ import annotations

import json

from sqlalchemy import event as sa_event
from sqlmodel import Session

from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import AuditEvent, utcnow
from immtrax_portal.services import audit_chain


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None,
    actor_role: Role | str,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    organization_id: int | None = None,
    request_id: int | None = None,
    target_type: str = "",
    target_id: str | int = "",
    reason: str = "",
    source_ip: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Add one audit event to ``session``; it commits with the change it describes."""
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_role=str(actor_role),
        organization_id=organization_id,
        request_id=request_id,
        action=action[:60],
        target_type=target_type[:40],
        target_id=str(target_id)[:64],
        outcome=outcome,
        reason=reason[:2000],
        source_ip=source_ip[:64],
        details=json.dumps(details or {}, sort_keys=True, default=str),
    )
    session.add(event)
    return event


def record_move(session: Session, move: AuditEvent) -> AuditEvent:
    """Add the event of a lifecycle move (built by ``domain.workflow.transition``)."""
    session.add(move)
    return move


@sa_event.listens_for(AuditEvent, "before_insert")
def _link_into_chain(_mapper, connection, target: AuditEvent) -> None:
    audit_chain.link_event(connection, target)
