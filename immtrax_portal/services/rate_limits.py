"""Rate limits: how often one IP address or one person may do one kind of thing.

Fixed windows (``IMMTRAX_RATE_LIMIT_WINDOW_MINUTES``, default 15) counted in the
``rate_limit_counter`` table, so every worker process shares the count. Other code calls one
function before doing the limited thing::

    check_rate("submit_request", person_id=actor.person_id, ip=client_ip, actor_role=actor.role)

It returns quietly, or raises ``RateLimited`` whose message tells the person when to try again
(and ``retry_after_seconds`` for a ``Retry-After`` header). Every refusal is an audit denial.

A limit must not become a way to lock other people out. So the person's own limit is checked
first, and an attempt refused by it is not counted against the address: one person (or one
script with one account) uses up their own budget, never the one their colleagues behind the
same clinic NAT need. Attempts that cost nothing to send and are refused cheaply (a sign-in
callback that matches no sign-in this browser started) have a kind of their own
(``sign_in_unmatched``), so a flood of them never touches the budget of real sign-ins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import RateLimitCounter, utcnow
from immtrax_portal.services import audit
from immtrax_portal.settings import get_settings

_counters = RateLimitCounter.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Kind:
    """What is limited, in words for the message, and the settings that hold its limits."""

    doing: str
    per_person_setting: str | None
    per_ip_setting: str | None


KINDS: dict[str, _Kind] = {
    "sign_in": _Kind("sign-in attempts", None, "rate_limit_sign_in_per_ip"),
    "sign_in_unmatched": _Kind("sign-in answers that match no sign-in", None,
                               "rate_limit_sign_in_unmatched_per_ip"),
    "submit_request": _Kind("requests submitted", "rate_limit_submit_per_person",
                            "rate_limit_submit_per_ip"),
    "redeem_invitation": _Kind("attempts to sign with an invitation", "rate_limit_invitation_per_person",
                               "rate_limit_invitation_per_ip"),
    "registry_lookup": _Kind("look-ups of people in the registry", "rate_limit_registry_lookup_per_person",
                             None),
}


class RateLimited(Exception):
    """Too many of one kind of thing; ``str(error)`` is the message to show the person."""

    def __init__(self, kind: str, retry_after_seconds: int, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after_seconds = retry_after_seconds


def _window_start(now: datetime, minutes: int) -> datetime:
    seconds = minutes * 60
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def _count_hit(session: Session, kind: str, subject: str, window_start: datetime) -> int:
    """Add one hit to (kind, subject, window) and return the new count, in one statement."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(_counters).values(kind=kind, subject=subject, window_start=window_start, hits=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=["kind", "subject", "window_start"], set_={"hits": _counters.c.hits + 1},
    ).returning(_counters.c.hits)
    return int(session.execute(upsert).scalar_one())


def _forget_old_windows(session: Session, kind: str, subjects: list[str], window_start: datetime) -> None:
    session.execute(_counters.delete().where(_counters.c.kind == kind,
                                             _counters.c.subject.in_(subjects),
                                             _counters.c.window_start < window_start))


def _first_over_limit(session: Session, kind: str, checks: list[tuple[str, int, bool]],
                      window: datetime) -> tuple[int, bool] | None:
    """Count the attempt for each subject in order (person before address) and stop at the first
    that is over its limit: later subjects are not charged for an attempt already refused."""
    for subject, limit, per_person in checks:
        if _count_hit(session, kind, subject, window) > limit:
            return limit, per_person
    return None


def _message(kind: _Kind, per_person: bool, wait_seconds: int) -> str:
    minutes = max(1, math.ceil(wait_seconds / 60))
    whose = "from your account" if per_person else "from your network"
    return (f"Too many {kind.doing} {whose} in a short time. For everyone's security, please wait "
            f"{minutes} minute{'s' if minutes != 1 else ''} and try again.")


def check_rate(kind: str, *, person_id: int | None, ip: str, actor_role: Role | str | None = None,
               now: datetime | None = None) -> None:
    """Count one attempt of ``kind`` for the person (if any) and the IP address; raise
    ``RateLimited`` if either is over its limit for the current window."""
    limits = KINDS[kind]
    settings = get_settings()
    now = now or utcnow()
    window = _window_start(now, settings.rate_limit_window_minutes)
    checks: list[tuple[str, int, bool]] = []
    if person_id is not None and limits.per_person_setting:
        checks.append((f"person:{int(person_id)}", getattr(settings, limits.per_person_setting), True))
    if ip and limits.per_ip_setting:
        checks.append((f"ip:{ip[:64]}", getattr(settings, limits.per_ip_setting), False))
    checks = [check for check in checks if check[1] > 0]
    if not checks:
        return
    window_end = window + timedelta(minutes=settings.rate_limit_window_minutes)
    wait = max(1, math.ceil((window_end - now).total_seconds()))
    with session_scope() as session:
        _forget_old_windows(session, kind, [subject for subject, _, _ in checks], window)
        over = _first_over_limit(session, kind, checks, window)
        if over is None:
            return
        limit, per_person = over
        message = _message(limits, per_person, wait)
        audit.record(session, action=f"rate_limited:{kind}", actor_id=person_id,
                     actor_role=actor_role or (Role.ANONYMOUS if person_id is None else "unknown"),
                     outcome=AuditOutcome.DENIED, target_type="rate_limit", target_id=kind,
                     reason=message, source_ip=ip,
                     details={"limited_by": "person" if per_person else "ip", "limit": limit,
                              "window_minutes": settings.rate_limit_window_minutes})
    raise RateLimited(kind, wait, message)
