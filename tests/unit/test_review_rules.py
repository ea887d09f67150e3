"""The rules of roster reviews and of the inactivity report that need no database: the schedule's
months, who may answer for whom, and the report's parser (bounded, linear, an error per row)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from immtrax_portal.domain.enums import AccessLevel
from immtrax_portal.domain.permissions import CONFIRM_SELF, Actor, review_answer_refusal
from immtrax_portal.services.inactivity import ImportFileRejected, parse_last_login, parse_report
from immtrax_portal.services.review_schedule import defaults
from immtrax_portal.services.reviews import add_months, months_between_reviews

NOW = datetime(2026, 6, 15, 18, 0, tzinfo=UTC)


def test_months_are_calendar_months_with_the_day_kept_or_clamped_to_the_months_end():
    assert add_months(datetime(2026, 1, 31, 9, tzinfo=UTC), 1) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(2027, 2, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 3, 31, tzinfo=UTC), -13) == datetime(2025, 2, 28, tzinfo=UTC)


def test_vaccine_management_is_reviewed_every_3_months_and_the_other_levels_every_12():
    """The settings' defaults (what applies until staff save a schedule on /staff/reviews)."""
    schedule = defaults()
    assert months_between_reviews(AccessLevel.VACCINE_MANAGEMENT, schedule) == 3
    assert months_between_reviews(AccessLevel.RECORD_MAINTENANCE, schedule) == 12
    assert months_between_reviews(AccessLevel.READ_ONLY_CONSENT, schedule) == 12
    assert (schedule.window_days, schedule.reminder_days, schedule.grace_days) == (14, (7, 2), 7)


def test_only_a_supervisor_of_the_organization_answers_and_never_for_themselves():
    sam = Actor(person_id=1, email="sam@alpha.example", supervised_org_ids=frozenset({10}))
    staff = Actor(person_id=2, email="stella@mt.example", is_staff=True)
    assert review_answer_refusal(sam, 10, 5) is None
    assert review_answer_refusal(sam, 11, 5) == "You are not registered as a supervisor of that organization."
    assert review_answer_refusal(sam, 10, 1) == CONFIRM_SELF
    assert review_answer_refusal(staff, 10, 5) is not None


def test_a_last_login_is_read_as_a_day_in_the_program_time_zone():
    assert parse_last_login("2026-03-01") == datetime(2026, 3, 1, 7, tzinfo=UTC)     # MST
    assert parse_last_login("07/04/2026") == datetime(2026, 7, 4, 6, tzinfo=UTC)     # MDT
    assert parse_last_login("2026-03-01 14:05:09") == datetime(2026, 3, 1, 21, 5, 9, tzinfo=UTC)
    for bad in ("2026-02-30", "yesterday", "1" * 40, ""):
        with pytest.raises(ValueError):
            parse_last_login(bad)


def test_each_bad_row_gets_its_own_error_and_good_rows_are_kept():
    parsed = parse_report(b"Username,Last_Login\nAHolm,2026-03-01\n,2026-03-01\nbad name,2026-01-01\n"
                          b"ok,2030-01-01\nx,1,2\nAHOLM,2026-04-01\n", now=NOW)
    assert [(r.row, r.username) for r in parsed.rows] == [(2, "aholm")]
    assert [e.row for e in parsed.errors] == [3, 4, 5, 6, 7]
    assert "in the future" in parsed.errors[2].message
    assert "already on row 2" in parsed.errors[4].message


def test_the_parser_stays_linear_on_hostile_input():
    """A megabyte of one quoted field, of commas, of digits: refused or read in a few seconds at most
    on a busy machine (one pass; a backtracking parser would take minutes)."""
    for data in (b'username,last_login\n"' + b"a" * 999_000 + b'",2026-01-01\n',
                 b"username,last_login\n" + b"," * 999_000 + b"\n",
                 b"username,last_login\n" + b"a" * 40 + b"," + b"9" * 999_000 + b"\n"):
        started = time.perf_counter()
        try:
            parse_report(data, now=NOW)
        except ImportFileRejected:
            pass
        assert time.perf_counter() - started < 3.0
    with pytest.raises(ImportFileRejected, match="larger than 1 MB"):
        parse_report(b"username,last_login\n" + b"a,2026-01-01\n" * 100_000, now=NOW)


def test_the_review_inactivity_and_clock_jobs_are_leased_housekeeping_jobs():
    from immtrax_portal.services.housekeeping import JOBS
    from immtrax_portal.services.inactivity import run_inactivity
    from immtrax_portal.services.program_clock import run_clock_notices
    from immtrax_portal.services.reviews import run_roster_reviews

    jobs = {job.run for job in JOBS}
    assert {run_roster_reviews, run_inactivity, run_clock_notices} <= jobs
