"""Dates and times as the program reads them, in its time zone (``IMMTRAX_BUSINESS_TIME_ZONE``).

The zone is read from the settings on every call, never written out here, so pages, emails and
PDFs all follow the one setting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from immtrax_portal.settings import get_settings


def program_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().business_time_zone)


def program_time(value: datetime) -> str:
    """A timestamp as the program reads it: 'March 3, 2026 at 9:05 AM MST'."""
    return value.astimezone(program_zone()).strftime("%B %-d, %Y at %-I:%M %p %Z")


def program_date(value: datetime) -> str:
    """A day as the program reads it: 'March 3, 2026'."""
    return value.astimezone(program_zone()).strftime("%B %-d, %Y")


def program_stamp(value: datetime) -> str:
    """A compact timestamp for tables and histories: '2026-03-03 09:05 MST'. A naive value (as
    SQLite hands some back) is UTC, like everything the portal stores."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(program_zone()).strftime("%Y-%m-%d %H:%M %Z")


def program_day(value: datetime) -> str:
    """The program's calendar day of a timestamp: '2026-03-03' (not the UTC day, which runs ahead)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(program_zone()).strftime("%Y-%m-%d")


def program_clock(now: datetime | None = None) -> str:
    """The time of day to the second, for "updated at …" notes: '9:05:07 AM MST'."""
    return (now or datetime.now(program_zone())).astimezone(program_zone()).strftime("%-I:%M:%S %p %Z")
