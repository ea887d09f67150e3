"""Leases that make each housekeeping job run once per interval, however many processes tick.

Each job has one ``job_lease`` row. A run claims it with one guarded UPDATE: it wins only when the
lease is free (expired) and the job is due (``next_run_at`` reached). Both databases decide that
UPDATE atomically (PostgreSQL by the row lock, SQLite by its single writer), so of several
processes ticking at the same moment exactly one runs the job. The lease carries an expiry: a
process killed half-way leaves a lease that runs out, and the next run (any process) does the
rest of the work; each effect is idempotent, so nothing is doubled.

The holder is a fresh random token per claim, so a run whose lease already ran out and was taken
over cannot release the newer holder's lease.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import JobLease

_leases = JobLease.__table__  # type: ignore[attr-defined]
_NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def new_holder() -> str:
    """Who holds a lease: host, process and a random part that is new for every claim."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(8)}"


def _ensure_row(name: str) -> None:
    try:
        with session_scope() as session:
            if session.get(JobLease, name) is None:
                session.add(JobLease(name=name, lease_expires_at=_NEVER, next_run_at=_NEVER))
    except IntegrityError:
        pass  # another process made the row at the same moment: it is there now


def claim(name: str, holder: str, now: datetime, *, lease: timedelta) -> bool:
    """Take the lease of job ``name`` for ``lease`` if it is free and the job is due."""
    _ensure_row(name)
    with session_scope() as session:
        won = session.execute(
            _leases.update()
            .where(_leases.c.name == name, _leases.c.lease_expires_at <= now,
                   _leases.c.next_run_at <= now)
            .values(holder=holder, lease_expires_at=now + lease, last_started_at=now)
        ).rowcount
    return won == 1


def release(name: str, holder: str, now: datetime, *, next_run_at: datetime, effects: int = 0,
            error: str = "") -> bool:
    """Free the lease after a run (ok when ``error`` is empty) and say when the job is due next.
    False when the lease was no longer ours (it ran out and another process took it)."""
    with session_scope() as session:
        values: dict = dict(holder="", lease_expires_at=now, next_run_at=next_run_at,
                            last_finished_at=now)
        if error:
            values.update(failures_in_a_row=_leases.c.failures_in_a_row + 1, last_error=error[:500])
        else:
            values.update(failures_in_a_row=0, last_error="", last_effects=effects)
        done = session.execute(
            _leases.update().where(_leases.c.name == name, _leases.c.holder == holder).values(**values)
        ).rowcount
    return done == 1


def lease_row(name: str) -> JobLease | None:
    with session_scope() as session:
        return session.get(JobLease, name)
