"""Figures for program staff: counts, time to completion, overdue requests, requests per week.

Everything is computed by the database: counts by GROUP BY, and the median and 90th percentile
by nearest rank (``ORDER BY duration LIMIT 1 OFFSET k``, on ``ix_access_request_completed``), so
no request row is ever loaded into Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.services import clock_figures
from immtrax_portal.services.queue import STATUS_ORDER, overdue_condition

WINDOWS_DAYS = (30, 90)
WEEKS_SHOWN = 12


@dataclass(frozen=True)
class CompletionTimes:
    days: int
    completed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class WeekCount:
    week_start: datetime
    count: int


@dataclass(frozen=True)
class Metrics:
    by_status: list[tuple[RequestStatus, int]]
    by_type: list[tuple[RequestType, int]]
    completion: list[CompletionTimes]
    overdue: int
    weeks: list[WeekCount]
    # The program's clock: program time and total time per type and per week of completion.
    clock_by_type: list[clock_figures.TimeFigures] = field(default_factory=list)
    clock_by_week: list[clock_figures.TimeFigures] = field(default_factory=list)


def _duration_seconds(session: Session):
    """completed_at − created_at in seconds, in this database's own SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", AccessRequest.completed_at - AccessRequest.created_at)
    return (sa.func.julianday(AccessRequest.completed_at)
            - sa.func.julianday(AccessRequest.created_at)) * 86400.0


def _nearest_rank(fraction: float, count: int) -> int:
    """The 0-based offset of the ``fraction`` percentile among ``count`` sorted values."""
    return max(0, math.ceil(fraction * count) - 1)


def completion_times(session: Session, days: int, now: datetime) -> CompletionTimes:
    # completed_at is written only by the move to "completed" (and never cleared), so the range
    # alone picks the completed requests, straight from ix_access_request_completed.
    completed_since = (AccessRequest.completed_at >= now - timedelta(days=days),)
    count = session.exec(select(sa.func.count()).select_from(AccessRequest).where(*completed_since)).one()
    if not count:
        return CompletionTimes(days, 0, None, None)
    duration = _duration_seconds(session)

    def percentile(fraction: float) -> float:
        seconds = session.exec(select(duration).where(*completed_since).order_by(duration)
                               .offset(_nearest_rank(fraction, count)).limit(1)).one()
        return round(float(seconds) / 3600.0, 1)

    return CompletionTimes(days, count, percentile(0.5), percentile(0.9))


def week_starts(now: datetime, weeks: int = WEEKS_SHOWN) -> list[datetime]:
    """Mondays 00:00 UTC of the last ``weeks`` weeks, oldest first (this week included)."""
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def requests_per_week(session: Session, now: datetime, weeks: int = WEEKS_SHOWN) -> list[WeekCount]:
    """Requests submitted per week: one query with one SUM(CASE) per week, on the created_at index."""
    starts = week_starts(now, weeks)
    ends = [*starts[1:], starts[-1] + timedelta(weeks=1)]
    sums = [sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(AccessRequest.created_at >= start, AccessRequest.created_at < end), 1), else_=0)), 0)
        for start, end in zip(starts, ends, strict=True)]
    counts = session.exec(select(*sums).where(AccessRequest.created_at >= starts[0])).one()
    return [WeekCount(start, int(count)) for start, count in zip(starts, counts, strict=True)]


def _grouped(session: Session, column) -> dict[str, int]:
    rows = session.exec(select(column, sa.func.count()).group_by(column)).all()
    return {str(getattr(key, "value", key)): count for key, count in rows}


def staff_metrics(actor: Actor, now: datetime | None = None) -> Metrics:
    """All figures of the metrics page, for program staff only."""
    require_staff(actor)
    now = now or utcnow()
    with session_scope() as session:
        statuses = _grouped(session, AccessRequest.status)
        types = _grouped(session, AccessRequest.request_type)
        overdue = session.exec(select(sa.func.count()).select_from(AccessRequest)
                               .where(overdue_condition(now))).one()
        clock_by_type, clock_by_week = clock_figures.clock_metrics(session, now)
        return Metrics(
            clock_by_type=clock_by_type, clock_by_week=clock_by_week,
            by_status=[(s, statuses.get(s.value, 0)) for s in STATUS_ORDER],
            by_type=[(t, types.get(t.value, 0)) for t in RequestType],
            completion=[completion_times(session, days, now) for days in WINDOWS_DAYS],
            overdue=overdue,
            weeks=requests_per_week(session, now),
        )


def hours_text(hours: float | None) -> str:
    """"5.5 hours" below two days, "3.2 days" above; "—" when nothing was completed."""
    if hours is None:
        return "no completed requests"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"
