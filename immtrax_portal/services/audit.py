"""Writing the audit log: every state change and every denial goes through this module.

``record`` builds an event; ``record_move`` takes the event a lifecycle move produced
(``domain.workflow.transition``). Both add it to the caller's session, so it commits with the
change it describes. As each row is inserted it is linked into the hash chain
(``services.audit_chain``); the database refuses UPDATE and DELETE on ``audit_event``
(triggers from migration 0002), so an event, once written, stays as written.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import event as sa_event
from sqlmodel import Session

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import AuditEvent, utcnow
from immtrax_portal.services import audit_chain


def record(
    session: Session,
    *,
    action: AuditAction | str,
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
    """Add one audit event to ``session``; it commits with the change it describes.

    ``action`` must be an ``AuditAction`` (or its stored name): a name outside the closed set is a
    programming error, refused here before anything is written."""
    action = AuditAction(action)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_role=str(actor_role),
        organization_id=organization_id,
        request_id=request_id,
        action=action.value,
        target_type=target_type[:40],
        target_id=clean_text(target_id, 64),
        outcome=outcome,
        reason=reason[:2000],
        source_ip=source_ip[:64],
        details=json.dumps(bounded_details(details or {}), sort_keys=True, default=str),
    )
    session.add(event)
    return event


DETAIL_TEXT_MAX = 500
DETAIL_KEYS_MAX = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object, limit: int = DETAIL_TEXT_MAX) -> str:
    """Text that may have come from a client, fit for a log or an audit row: control and
    direction characters escaped (no forged lines, no terminal escapes), at most ``limit`` long."""
    text = str(value)[:limit * 4]
    escaped = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    return escaped[:limit]


def bounded_details(details: dict, depth: int = 0) -> dict:
    """The details as stored: a bounded number of keys, nested at most three deep; every text
    cleaned and bounded (numbers and booleans stay as they are)."""
    return {clean_text(key, 60): _bounded(value, depth)
            for key, value in list(details.items())[:DETAIL_KEYS_MAX]}


def _bounded(value, depth: int):
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth < 3 and isinstance(value, dict):
        return bounded_details(value, depth + 1)
    if depth < 3 and isinstance(value, list | tuple | set | frozenset):
        return [_bounded(item, depth + 1) for item in list(value)[:DETAIL_KEYS_MAX]]
    return clean_text(value)


def record_move(session: Session, move: AuditEvent) -> AuditEvent:
    """Add the event of a lifecycle move (built by ``domain.workflow.transition``)."""
    move.action = AuditAction(move.action).value
    session.add(move)
    return move


@sa_event.listens_for(AuditEvent, "before_insert")
def _link_into_chain(_mapper, connection, target: AuditEvent) -> None:
    audit_chain.link_event(connection, target)
