"""Timestamps on pages read in the program's time zone (IMMTRAX_BUSINESS_TIME_ZONE), as the README
promises, whether the database handed back an aware or a naive (SQLite) UTC value."""

from __future__ import annotations

from datetime import UTC, datetime

from immtrax_portal.program_time import program_day, program_stamp


def test_a_stamp_is_in_montana_time_with_its_zone_named():
    assert program_stamp(datetime(2026, 12, 1, 23, 5, tzinfo=UTC)) == "2026-12-01 16:05 MST"
    assert program_stamp(datetime(2026, 7, 1, 23, 5, tzinfo=UTC)) == "2026-07-01 17:05 MDT"


def test_a_naive_value_is_read_as_utc_whatever_the_machines_zone():
    assert program_stamp(datetime(2026, 12, 1, 23, 5)) == "2026-12-01 16:05 MST"


def test_the_day_is_montanas_day_not_the_utc_day_that_runs_ahead():
    assert program_day(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)) == "2026-12-01"
