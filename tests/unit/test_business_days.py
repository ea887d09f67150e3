"""Business time for overdue targets: weekends do not count, in the program's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from immtrax_portal.domain.business_days import business_days_waited, waiting_cutoff

MT = ZoneInfo("America/Denver")


def mt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MT)


@pytest.mark.parametrize(("now", "days", "cutoff"), [
    ("2026-03-11 12:00", 1, "2026-03-10 12:00"),  # Wednesday → Tuesday
    ("2026-03-16 10:00", 1, "2026-03-13 10:00"),  # Monday → Friday, the weekend skipped
    ("2026-03-14 15:00", 1, "2026-03-13 00:00"),  # Saturday: Friday as a whole day
    ("2026-03-15 09:00", 2, "2026-03-12 00:00"),  # Sunday, two days: Thursday and Friday
    ("2026-03-18 12:00", 5, "2026-03-11 12:00"),  # a whole working week back
])
def test_the_cutoff_leaves_exactly_the_target_in_weekday_time(now, days, cutoff):
    assert waiting_cutoff(mt(now), days, "America/Denver") == mt(cutoff)


def test_the_cutoff_works_from_utc_input():
    now_utc = datetime.fromisoformat("2026-03-16T16:00:00+00:00")  # Monday 10:00 MDT
    assert waiting_cutoff(now_utc, 1, "America/Denver") == mt("2026-03-13 10:00")


@pytest.mark.parametrize(("since", "now", "waited"), [
    ("2026-03-11 08:00", "2026-03-11 17:00", 0),
    ("2026-03-13 16:00", "2026-03-16 09:00", 1),  # Friday → Monday
    ("2026-03-09 09:00", "2026-03-23 09:00", 10),  # two weeks
])
def test_business_days_waited_counts_weekdays_only(since, now, waited):
    assert business_days_waited(mt(since), mt(now), "America/Denver") == waited


def test_an_unknown_business_time_zone_is_refused_at_start_up(monkeypatch):
    from pydantic import ValidationError

    from immtrax_portal.settings import Settings

    monkeypatch.setenv("IMMTRAX_BUSINESS_TIME_ZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings()
