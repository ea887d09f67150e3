"""The program's clock, read: targets per request type, the queue's "time left" order, the staff
metrics of program and total time, and the supervisor's "usually within N business days".

The clock's arithmetic is ``domain/program_clock.py``; every figure here is computed by the
database over business instants (``clock_origin``, ``program_seconds``), never by loading rows.
Setting targets and sending the clock's notices is ``services/program_clock.py``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestType
from immtrax_portal.domain.models import AccessRequest, ProgramClockTarget, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.settings import get_settings

METRICS_WEEKS = 12
TYPICAL_WINDOW_DAYS = 90
TYPICAL_CACHE_SECONDS = 600


def zone() -> str:
    return get_settings().business_time_zone


# --- Targets --------------------------------------------------------------------------------------

def targets(session: Session) -> dict[RequestType, int]:
    """Each type's target in business hours (the default where staff set none)."""
    found = clock.default_targets()
    rows = session.exec(select(ProgramClockTarget.request_type, ProgramClockTarget.business_hours))
    for kind, hours in rows:
        found[RequestType(kind)] = int(hours)
    return found


def current_targets(actor: Actor) -> dict[RequestType, int]:
    require_staff(actor)
    with session_scope() as session:
        return targets(session)


# --- SQL over the clock -----------------------------------------------------------------------------

def target_seconds_sql(found: dict[RequestType, int]):
    return sa.case(*[(AccessRequest.request_type == kind, hours * clock.HOUR)
                     for kind, hours in found.items()],
                   else_=clock.DEFAULT_TARGET_HOURS * clock.HOUR)


def used_seconds_sql(business_now: int):
    """Business seconds with the program so far, in SQL."""
    return sa.case((AccessRequest.clock_origin.is_(None), AccessRequest.program_seconds),  # type: ignore[union-attr]
                   else_=business_now - AccessRequest.clock_origin)


def time_left_order(session: Session, now: datetime) -> list:
    """ORDER BY terms: least time left first, whether the clock runs or is paused (both come out
    as ``target + origin``, an instant on the business line); closed requests last."""
    business_now = clock.business_seconds_at(now, zone())
    due = target_seconds_sql(targets(session)) + sa.case(
        (AccessRequest.clock_origin.is_(None), business_now - AccessRequest.program_seconds),  # type: ignore[union-attr]
        else_=AccessRequest.clock_origin)
    is_open = AccessRequest.status.in_(list(OPEN_STATUSES))  # type: ignore[attr-defined]
    return [sa.case((is_open, 0), else_=1), due, AccessRequest.id]


# --- Metrics ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimeFigures:
    label: str
    completed: int
    program_median: int | None
    program_p90: int | None
    total_median: float | None     # hours, wall clock
    total_p90: float | None
    within_target: int             # completed within their type's target

    @property
    def share_within_target(self) -> str:
        return f"{round(100 * self.within_target / self.completed)}%" if self.completed else "—"


def _total_seconds(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", AccessRequest.completed_at - AccessRequest.created_at)
    return (sa.func.julianday(AccessRequest.completed_at)
            - sa.func.julianday(AccessRequest.created_at)) * 86400.0


def _percentiles(session: Session, group, value, where) -> dict:
    """{group: (count, median, p90)} by nearest rank, in one query with window functions."""
    ranked = (select(group.label("g"), value.label("v"),
                     sa.func.row_number().over(partition_by=group, order_by=value).label("rn"),
                     sa.func.count().over(partition_by=group).label("n"))
              .where(*where).subquery())
    k50 = (ranked.c.n + 1) // 2            # ceil(n/2) in integer arithmetic
    k90 = (9 * ranked.c.n + 9) // 10       # ceil(9n/10)
    rows = session.exec(select(ranked.c.g, ranked.c.n, ranked.c.rn, ranked.c.v)
                        .where(sa.or_(ranked.c.rn == k50, ranked.c.rn == k90))).all()
    result: dict = {}
    for g, n, rn, v in rows:
        count, median, p90 = result.get(g, (n, None, None))
        if rn == (n + 1) // 2:
            median = v
        if rn == (9 * n + 9) // 10:
            p90 = v
        result[g] = (n, median, p90)
    return result


def week_starts(now: datetime, weeks: int = METRICS_WEEKS) -> list[datetime]:
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _figures(session: Session, group, labels: dict, where, found) -> list[TimeFigures]:
    """Per group: count, median and 90th percentile of program time and of total time, and how
    many were within target, in one pass (window functions, nearest rank)."""
    total = _total_seconds(session)
    within = sa.case((AccessRequest.program_seconds <= target_seconds_sql(found), 1), else_=0)
    ranked = (select(group.label("g"), AccessRequest.program_seconds.label("p"), total.label("t"),
                     sa.func.row_number().over(partition_by=group,
                                               order_by=AccessRequest.program_seconds).label("rp"),
                     sa.func.row_number().over(partition_by=group, order_by=total).label("rt"),
                     sa.func.count().over(partition_by=group).label("n"),
                     sa.func.sum(within).over(partition_by=group).label("w"))
              .where(*where).subquery())
    k50, k90 = (ranked.c.n + 1) // 2, (9 * ranked.c.n + 9) // 10
    rows = session.exec(select(ranked.c.g, ranked.c.n, ranked.c.w, ranked.c.rp, ranked.c.p, ranked.c.rt,
                               ranked.c.t)
                        .where(sa.or_(ranked.c.rp == k50, ranked.c.rp == k90,
                                      ranked.c.rt == k50, ranked.c.rt == k90))).all()
    seen: dict = {}
    for g, n, w, rp, p, rt, t in rows:
        found_row = seen.setdefault(g, {"n": n, "w": int(w or 0)})
        for rank, value, name in ((rp, p, "p"), (rt, t, "t")):
            if rank == (n + 1) // 2:
                found_row[f"{name}50"] = value
            if rank == (9 * n + 9) // 10:
                found_row[f"{name}90"] = value

    def hours(value) -> float | None:
        return None if value is None else round(float(value) / 3600, 1)

    figures = []
    for key, label in labels.items():
        row = seen.get(key, {"n": 0, "w": 0})
        figures.append(TimeFigures(label, row["n"], row.get("p50"), row.get("p90"), hours(row.get("t50")),
                                   hours(row.get("t90")), row["w"]))
    return figures


def clock_metrics(session: Session, now: datetime) -> tuple[list[TimeFigures], list[TimeFigures]]:
    """Program time and total time of the requests completed in the last ``METRICS_WEEKS`` weeks:
    per type, and per week of completion (program weeks start on Monday, UTC)."""
    found = targets(session)
    starts = week_starts(now)
    where = (AccessRequest.completed_at >= starts[0],)
    per_type = _figures(session, AccessRequest.request_type, {k.value: k.label for k in RequestType},
                        where, found)
    week = sa.case(*[(AccessRequest.completed_at >= start, index)
                     for index, start in reversed(list(enumerate(starts)))], else_=-1)
    per_week = _figures(session, week, {i: f"Week of {s:%Y-%m-%d}" for i, s in enumerate(starts)},
                        where, found)
    return per_type, per_week


def clock_metrics_for(now: datetime) -> tuple[list[TimeFigures], list[TimeFigures]]:
    """``clock_metrics`` in a session of its own (the caller has checked the staff role)."""
    with session_scope() as session:
        return clock_metrics(session, now)


# --- The supervisor's "usually within" --------------------------------------------------------------

_TYPICAL: dict[str, tuple[float, int | None]] = {}
_TYPICAL_LOCK = threading.Lock()


def typical_program_seconds(request_type: RequestType, now: datetime | None = None) -> int | None:
    """The median time with the program of this type's requests completed in the last 90 days
    (None when there are none), kept for ten minutes per process."""
    key = f"{get_engine().url}|{request_type.value}"
    with _TYPICAL_LOCK:
        cached = _TYPICAL.get(key)
        if cached and time.monotonic() - cached[0] < TYPICAL_CACHE_SECONDS:
            return cached[1]
    now = now or utcnow()
    with session_scope() as session:
        where = (AccessRequest.completed_at >= now - timedelta(days=TYPICAL_WINDOW_DAYS),
                 AccessRequest.request_type == request_type)
        n, median, _ = _percentiles(session, AccessRequest.request_type, AccessRequest.program_seconds,
                                    where).get(request_type.value, (0, None, None))
    value = int(median) if median is not None else None
    with _TYPICAL_LOCK:
        _TYPICAL[key] = (time.monotonic(), value)
    return value


def forget_typical() -> None:
    """After a change of targets: the next reading asks the database again."""
    with _TYPICAL_LOCK:
        _TYPICAL.clear()
