"""The program's clock in business hours: weekends never count, and it stops while the request
waits on the applicant or the supervisor."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.enums import RequestStatus

S = RequestStatus
ZONE = "America/Denver"
HOUR = 3600


def mt(text: str) -> datetime:
    """A wall-clock time in Montana."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONE))


def test_the_clock_runs_only_while_the_request_waits_on_the_program():
    assert clock.runs_in(S.SUBMITTED) and clock.runs_in(S.IN_REVIEW)
    for status in (S.AWAITING_AGREEMENT, S.NEEDS_INFO, S.EXPIRED, S.COMPLETED, S.REJECTED, S.CANCELLED):
        assert not clock.runs_in(status), status


def test_a_weekend_does_not_count():
    friday_4pm, monday_10am = mt("2026-03-13T16:00"), mt("2026-03-16T10:00")
    assert clock.business_seconds_between(friday_4pm, monday_10am, ZONE) == 18 * HOUR
    saturday, sunday = mt("2026-03-14T09:00"), mt("2026-03-15T23:00")
    assert clock.business_seconds_between(saturday, sunday, ZONE) == 0
    friday_midnight = mt("2026-03-14T00:00")
    assert clock.business_seconds_at(saturday, ZONE) == clock.business_seconds_at(friday_midnight, ZONE)


def test_a_whole_week_is_five_business_days_across_a_change_of_clocks():
    # Daylight saving time began on Sunday 2026-03-08: weekday hours are whole days either side.
    before, after = mt("2026-03-04T12:00"), mt("2026-03-11T12:00")
    assert clock.business_seconds_between(before, after, ZONE) == 5 * 24 * HOUR


def test_paused_over_a_weekend_and_a_needs_info_period_then_resumed():
    zone = ZONE
    # Submitted for review on Friday at 4 pm; the program asks a question on Monday at 10 am.
    reading = clock.after_status_change(0, None, None, S.IN_REVIEW, mt("2026-03-13T16:00"), zone)
    assert reading.clock_origin is not None
    asked = clock.after_status_change(reading.program_seconds, S.IN_REVIEW, mt("2026-03-13T16:00"),
                                      S.NEEDS_INFO, mt("2026-03-16T10:00"), zone)
    assert (asked.program_seconds, asked.clock_origin) == (18 * HOUR, None)
    # Waiting on the supervisor until Wednesday noon: the clock stands still.
    assert clock.program_seconds_now(asked.program_seconds, asked.clock_origin, mt("2026-03-18T11:00"),
                                     zone) == 18 * HOUR
    answered = clock.after_status_change(asked.program_seconds, S.NEEDS_INFO, mt("2026-03-16T10:00"),
                                         S.IN_REVIEW, mt("2026-03-18T12:00"), zone)
    assert answered.program_seconds == 18 * HOUR and answered.clock_origin is not None
    # Three more hours with the program on Wednesday afternoon.
    assert clock.program_seconds_now(answered.program_seconds, answered.clock_origin,
                                     mt("2026-03-18T15:00"), zone) == 21 * HOUR
    done = clock.after_status_change(answered.program_seconds, S.IN_REVIEW, mt("2026-03-18T12:00"),
                                     S.COMPLETED, mt("2026-03-18T15:00"), zone)
    assert (done.program_seconds, done.clock_origin) == (21 * HOUR, None)


@pytest.mark.parametrize(("status", "used", "target", "text", "marker"), [
    (S.IN_REVIEW, 20 * HOUR, 48, "28 h left of 48 h", ""),
    (S.IN_REVIEW, 50 * HOUR, 48, "over by 2 h of 48 h", "Over target"),
    (S.IN_REVIEW, 48 * HOUR - 10, 48, "under 1 h left of 48 h", ""),
    (S.NEEDS_INFO, 10 * HOUR, 24, "14 h left of 24 h; paused: waiting on the supervisor", ""),
    (S.AWAITING_AGREEMENT, 0, 24, "24 h left of 24 h; paused: waiting on the applicant", ""),
    (S.COMPLETED, 10 * HOUR, 24, "closed", ""),
])
def test_what_the_queue_says_about_the_clock(status, used, target, text, marker):
    assert clock.clock_text(status, used, target) == (text, marker)


def test_the_supervisors_tracker_rounds_the_typical_time_up_to_business_days():
    assert clock.typical_text(None) == ""
    assert clock.typical_text(5 * HOUR) == "The program usually finishes this step within 1 business day."
    assert clock.typical_text(30 * HOUR) == "The program usually finishes this step within 2 business days."
