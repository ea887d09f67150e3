"""Timestamps on pages read in the program's time zone (IMMTRAX_BUSINESS_TIME_ZONE), as the README
promises, whether the database handed back an aware or a naive (SQLite) UTC value; and every page
and email writes a day one way ("March 3, 2026") and a moment one way ("… at 9:05 AM MST")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from immtrax_portal import program_time
from immtrax_portal.program_time import (
    calendar_day,
    machine_time,
    program_date,
    program_day,
    program_stamp,
)
from immtrax_portal.program_time import (
    program_time as moment,
)


def test_a_stamp_is_in_montana_time_with_its_zone_named():
    assert program_stamp(datetime(2026, 12, 1, 23, 5, tzinfo=UTC)) == "December 1, 2026 at 4:05 PM MST"
    assert program_stamp(datetime(2026, 7, 1, 23, 5, tzinfo=UTC)) == "July 1, 2026 at 5:05 PM MDT"


def test_a_naive_value_is_read_as_utc_whatever_the_machines_zone():
    assert program_stamp(datetime(2026, 12, 1, 23, 5)) == "December 1, 2026 at 4:05 PM MST"


def test_the_day_is_montanas_day_not_the_utc_day_that_runs_ahead():
    assert program_day(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)) == "December 1, 2026"


@pytest.mark.parametrize("value", [datetime(2026, 3, 3, 16, 5, tzinfo=UTC), datetime(2026, 3, 3, 16, 5)])
def test_one_format_for_moments_and_one_for_days_whatever_the_caller(value):
    assert program_stamp(value) == moment(value) == "March 3, 2026 at 9:05 AM MST"
    assert program_day(value) == program_date(value) == calendar_day(date(2026, 3, 3)) == "March 3, 2026"


def test_only_files_for_programs_use_digits_and_they_are_in_the_programs_zone_too():
    assert machine_time(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)) == "2026-12-01 20:00"
    assert calendar_day(None) == ""


def test_the_zone_follows_the_settings(monkeypatch):
    class Other:
        business_time_zone = "America/New_York"
    monkeypatch.setattr(program_time, "get_settings", lambda: Other())
    assert program_stamp(datetime(2026, 12, 1, 23, 5, tzinfo=UTC)) == "December 1, 2026 at 6:05 PM EST"
