"""Dates and times as the program reads them, in its time zone (``IMMTRAX_BUSINESS_TIME_ZONE``).

The zone is read from the settings on every call, never written out here, so pages, emails and
PDFs all follow the one setting. There is one way to write a day ("March 3, 2026") and one way
to write a moment ("March 3, 2026 at 9:05 AM MST") on every page and in every email; only files
meant for machines (the CSV export) write ``2026-03-03 09:05`` (still in the program's zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from immtrax_portal.settings import get_settings

DAY = "%B %-d, %Y"
MOMENT = f"{DAY} at %-I:%M %p %Z"
MACHINE_MOMENT = "%Y-%m-%d %H:%M"


def program_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().business_time_zone)


def _in_zone(value: datetime) -> datetime:
    """``value`` in the program's zone; a naive value (as SQLite hands some back) is UTC, like
    everything the portal stores."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(program_zone())


def program_time(value: datetime) -> str:
    """A moment as the program reads it: 'March 3, 2026 at 9:05 AM MST'."""
    return _in_zone(value).strftime(MOMENT)


def program_date(value: datetime) -> str:
    """The program's calendar day of a moment: 'March 3, 2026' (not the UTC day, which runs ahead)."""
    return _in_zone(value).strftime(DAY)


# The same two, under the names the tables and histories used before there was one format.
program_stamp = program_time
program_day = program_date


def calendar_day(value: date | None) -> str:
    """A day that has no time (a start date, a last day): 'March 3, 2026'; '' for none."""
    return value.strftime(DAY) if value else ""


def machine_time(value: datetime) -> str:
    """For files read by programs (CSV): '2026-03-03 09:05', in the program's zone."""
    return _in_zone(value).strftime(MACHINE_MOMENT)


def program_clock(now: datetime | None = None) -> str:
    """The time of day to the second, for "updated at …" notes: '9:05:07 AM MST'."""
    return (now or datetime.now(program_zone())).astimezone(program_zone()).strftime("%-I:%M:%S %p %Z")


def program_today(now: datetime | None = None) -> date:
    """The program's calendar day now (or at ``now``), not the server's or UTC's: a backup's range,
    a last day and an end date start and end by it."""
    return (now or datetime.now(UTC)).astimezone(program_zone()).date()


def end_of_program_day(day: date) -> datetime:
    """The moment ``day`` ends in the program's time zone, in UTC: midnight at the start of the
    next day there. A daylight-saving change that day is the zone's business, not ours: the day
    is 23 or 25 hours long and still ends at the program's midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=program_zone()).astimezone(UTC)
