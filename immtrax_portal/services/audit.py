"""Writing the audit log: every state change and every denial goes through ``record``."""

from __future__ import annotations

import json

from sqlmodel import Session

from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import AuditEvent, utcnow


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
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        outcome=outcome,
        reason=reason[:2000],
        source_ip=source_ip[:64],
        details=json.dumps(details or {}, sort_keys=True, default=str),
    )
    session.add(event)
    return event
