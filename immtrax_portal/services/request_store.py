"""Writing a request's move safely: ``UPDATE ... WHERE version = <what the actor saw>``.

Every status change after submission goes through ``save_transition`` (or ``touch_request`` for
a change without a move), so two people acting at once can never overwrite each other.
"""

from __future__ import annotations

from sqlmodel import Session

from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import AccessRequest, AuditEvent, utcnow
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.services import audit

_requests = AccessRequest.__table__  # type: ignore[attr-defined]
_WRITTEN = ("status", "version", "updated_at", "status_changed_at", "completed_at", "rejection_reason",
            "immtrax_username")


class RequestChanged(Exception):
    """Someone else changed the request first; nothing was written."""

    def __init__(self, message: str = "This request changed while you were working on it. "
                                      "Reload and try again.") -> None:
        super().__init__(message)


def _guarded_update(session: Session, request: AccessRequest, expected_version: int) -> None:
    values = {column: getattr(request, column) for column in _WRITTEN}
    values["status"] = request.status.value
    updated = session.execute(
        _requests.update().where(_requests.c.id == request.id, _requests.c.version == expected_version)
        .values(**values)
    ).rowcount
    if updated != 1:
        raise RequestChanged()


def save_transition(session: Session, request: AccessRequest, action: Action, *, actor_id: int | None,
                    actor_role: Role, source_ip: str = "", reason: str = "",
                    details: dict | None = None, expected_version: int | None = None) -> AuditEvent:
    """Apply ``action`` and write it only if nobody moved the request since it was read.

    The request is detached from ``session`` first, so the ORM never writes it unguarded; the
    caller keeps reading it, and must not ``session.add`` it again.
    """
    expected = request.version if expected_version is None else expected_version
    if request in session:
        session.expunge(request)
    if request.version != expected:
        raise RequestChanged()
    event = transition(request, action, actor_id=actor_id, actor_role=actor_role, reason=reason,
                       source_ip=source_ip, details=details)
    _guarded_update(session, request, expected)
    audit.record_move(session, event)
    return event


def touch_request(session: Session, request: AccessRequest, expected_version: int | None = None) -> None:
    """Bump the version without a move (a resend), so concurrent actions on it serialize."""
    expected = request.version if expected_version is None else expected_version
    if request in session:
        session.expunge(request)
    request.version = expected + 1
    request.updated_at = utcnow()
    _guarded_update(session, request, expected)
