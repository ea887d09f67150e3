"""Writing a request's move safely, with SQLAlchemy's own optimistic locking.

``AccessRequest.version`` is the mapper's ``version_id_col``: every UPDATE of a request is
``... WHERE id = ? AND version = <the version this session loaded>`` and sets the next version, and
SQLAlchemy raises ``StaleDataError`` when no row matched (someone wrote the request in between).
Here that becomes ``RequestChanged``. The version the actor *saw* (in their browser) is compared
with the loaded one first, so a decision taken on an old page is refused too.

Every status change after submission goes through ``save_transition`` (or ``touch_request`` for a
change without a move), which flushes at once so the refusal comes here, not at commit.
"""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import AccessRequest, AuditEvent, utcnow
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.services import audit


class RequestChanged(Exception):
    """Someone else changed the request first; nothing was written."""

    def __init__(self, message: str = "This request changed while you were working on it. "
                                      "Reload and try again.") -> None:
        super().__init__(message)


def _require_seen_version(request: AccessRequest, expected_version: int | None) -> None:
    if expected_version is not None and request.version != expected_version:
        raise RequestChanged()


def _write(session: Session, request: AccessRequest) -> None:
    """Flush the request now; a lost race rolls the unit of work back and says so.

    After the rollback the session can still read (the caller names who changed the request),
    and the caller's ``session_scope`` ends the unit of work with nothing written."""
    session.add(request)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise RequestChanged() from None


def save_transition(session: Session, request: AccessRequest, action: Action, *, actor_id: int | None,
                    actor_role: Role, source_ip: str = "", reason: str = "",
                    details: dict | None = None, expected_version: int | None = None) -> AuditEvent:
    """Apply ``action`` and write it only if nobody moved the request since it was read (and,
    given ``expected_version``, since the actor saw it)."""
    _require_seen_version(request, expected_version)
    event = transition(request, action, actor_id=actor_id, actor_role=actor_role, reason=reason,
                       source_ip=source_ip, details=details)
    _write(session, request)
    audit.record_move(session, event)
    return event


def touch_request(session: Session, request: AccessRequest, expected_version: int | None = None) -> None:
    """Bump the version without a move (a resend), so concurrent actions on it serialize."""
    _require_seen_version(request, expected_version)
    request.updated_at = utcnow()
    _write(session, request)
