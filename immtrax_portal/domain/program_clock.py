"""The program's clock: how long a request has been with the program, in business hours.

Business time is weekday time in the program's time zone (Monday 00:00 to Friday 24:00), as in
``business_days.py``: a business day is 24 business hours, Saturdays and Sundays do not count.
The clock runs only while the request waits on the program (the stage tracker's "waiting on",
``tracker.waiting_on``); while it waits on the applicant or the supervisor it is paused.

Each request keeps two numbers (``AccessRequest.program_seconds`` and ``.clock_origin``, kept by
``models`` whenever a request is written):
- ``program_seconds``: business seconds with the program before its current status began;
- ``clock_origin``: while the clock runs, the business instant the clock would have started at had
  it never paused (``business_seconds_at(status_changed_at) - program_seconds``); None while paused.

Business instants are seconds on one line that skips weekends (``business_seconds_at``), so "time
with the program now" is ``business_seconds_at(now) - clock_origin`` for every running request at
once, and "time left" sorts in SQL as ``target + clock_origin`` (see ``services/queue.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.tracker import Party, Viewer, waiting_on

# A Monday long before the portal: business instants count from its midnight.
EPOCH = date(2000, 1, 3)
DAY_SECONDS = 86_400
HOUR = 3600
SATURDAY = 5

# Targets a type has until staff set one (business hours).
DEFAULT_TARGET_HOURS = 48
MAX_TARGET_HOURS = 24 * 60
# The notices: at half, three quarters and all of the target (in that order).
NOTICE_LEVELS: tuple[tuple[str, int], ...] = (("half", 50), ("three_quarters", 75), ("breach", 100))


def runs_in(status: RequestStatus) -> bool:
    """Whether the clock runs in ``status``: the request waits on the program."""
    return waiting_on(status, Viewer.SUPERVISOR) == Party.PROGRAM


def _weekdays_between(start: date, end: date) -> int:
    """Weekdays in [start, end)."""
    days = (end - start).days
    full_weeks, rest = divmod(days, 7)
    counted = full_weeks * 5
    first = start.weekday()
    counted += sum(1 for offset in range(rest) if (first + offset) % 7 < SATURDAY)
    return counted


def business_seconds_at(moment: datetime, time_zone: str) -> int:
    """The business instant of ``moment``: weekday seconds since ``EPOCH`` (wall clock of the
    program's zone; a weekend moment is the end of the Friday before)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(time_zone))
    day = local.date()
    seconds = _weekdays_between(EPOCH, day) * DAY_SECONDS
    if day.weekday() < SATURDAY:
        seconds += local.hour * HOUR + local.minute * 60 + local.second
    return seconds


def business_seconds_between(start: datetime, end: datetime, time_zone: str) -> int:
    return max(0, business_seconds_at(end, time_zone) - business_seconds_at(start, time_zone))


@dataclass(frozen=True)
class ClockReading:
    program_seconds: int
    clock_origin: int | None


def after_status_change(program_seconds: int, old_status: RequestStatus | None,
                        old_since: datetime | None, new_status: RequestStatus,
                        new_since: datetime, time_zone: str) -> ClockReading:
    """The clock's numbers once a request moved from ``old_status`` (entered at ``old_since``) to
    ``new_status`` at ``new_since``; ``old_status`` None for a new request."""
    total = max(0, int(program_seconds or 0))
    if old_status is not None and old_since is not None and runs_in(old_status):
        total += business_seconds_between(old_since, new_since, time_zone)
    origin = business_seconds_at(new_since, time_zone) - total if runs_in(new_status) else None
    return ClockReading(total, origin)


def program_seconds_now(program_seconds: int, clock_origin: int | None, now: datetime,
                        time_zone: str) -> int:
    """Business seconds with the program so far."""
    if clock_origin is None:
        return max(0, int(program_seconds or 0))
    return max(0, business_seconds_at(now, time_zone) - clock_origin)


def default_targets() -> dict[RequestType, int]:
    return {kind: DEFAULT_TARGET_HOURS for kind in RequestType}


def hours_text(seconds: float) -> str:
    """"under 1 business hour", "5 business hours", "2 business days 3 hours"."""
    hours = int(seconds // HOUR)
    if hours < 1:
        return "under 1 business hour"
    days, rest = divmod(hours, 24)
    if days == 0:
        return f"{hours} business hour{'s' if hours != 1 else ''}"
    text = f"{days} business day{'s' if days != 1 else ''}"
    return f"{text} {rest} hour{'s' if rest != 1 else ''}" if rest else text


def _hours(seconds: int) -> str:
    hours = seconds // HOUR
    return "under 1 h" if hours < 1 else f"{hours} h"


def clock_text(status: RequestStatus, used_seconds: int, target_hours: int) -> tuple[str, str]:
    """What the queue shows for a request's clock (business hours), and its marker ("" within
    target): "40 h left of 48 h", "over by 2 h of 48 h", with "paused: waiting on …" after."""
    target = target_hours * HOUR
    if not status.is_open:
        return "closed", ""
    left = target - used_seconds
    state = "" if runs_in(status) else "; paused: waiting on " + (
        "the applicant" if status == RequestStatus.AWAITING_AGREEMENT else "the supervisor")
    if left < 0:
        return f"over by {_hours(-left)} of {target_hours} h{state}", "Over target"
    return f"{_hours(left)} left of {target_hours} h{state}", ""


def typical_text(seconds: float | None) -> str:
    """The program's typical time for a step, for the supervisor's tracker."""
    if seconds is None:
        return ""
    days = max(1, -(-int(seconds) // DAY_SECONDS))
    return f"The program usually finishes this step within {days} business day{'s' if days != 1 else ''}."
