"""Business time for the queue's targets: Monday to Friday in the program's time zone.

A target of N business days is met while less than N × 24 hours of weekday time has passed since
the request entered its status; Saturdays and Sundays do not count. ``waiting_cutoff`` turns that
into one instant per target, so the same rule works in SQL (``status_changed_at < cutoff``) and
for a single row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5


def _is_weekend(moment: datetime) -> bool:
    return moment.weekday() >= SATURDAY


def waiting_cutoff(now: datetime, business_days: int, time_zone: str) -> datetime:
    """The instant before which a request has waited more than ``business_days`` business days."""
    cursor = now.astimezone(ZoneInfo(time_zone))
    if _is_weekend(cursor):
        # Weekend time does not count: start from the end of the Friday before (Saturday 00:00).
        midnight = cursor.replace(hour=0, minute=0, second=0, microsecond=0)
        cursor = midnight - timedelta(days=cursor.weekday() - SATURDAY)
    for _ in range(business_days):
        cursor -= timedelta(days=1)
        while _is_weekend(cursor):
            cursor -= timedelta(days=1)
    return cursor


def business_days_waited(since: datetime, now: datetime, time_zone: str) -> int:
    """Whole business days between ``since`` and ``now`` (0 on the first day), for display."""
    zone = ZoneInfo(time_zone)
    start, end = since.astimezone(zone).date(), now.astimezone(zone).date()
    if end <= start:
        return 0
    days = (end - start).days
    full_weeks, rest = divmod(days, 7)
    counted = full_weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=full_weeks * 7 + offset)).weekday() < SATURDAY:
            counted += 1
    return counted
