"""The roster reviews' schedule set by staff (issue 16 item 1): checked in plain words field by
field, saved with one audit event, and followed by the reviews that start afterwards (their due
date, window, reminders and grace), with a controllable clock."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import AuditEvent, ReviewSchedule, RosterReview
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import review_schedule
from immtrax_portal.services.review_schedule import ScheduleProblems, current_schedule, parse_schedule
from immtrax_portal.services.reviews import run_roster_reviews, start_extra_review
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.review_world import T0, build_review_world, days
from tests.support.wizard_world import actor

DEFAULT_FORM = {"every_months_vaccine_management": "3", "every_months_other_levels": "12",
                "window_days": "14", "first_reminder_days": "7", "second_reminder_days": "2",
                "grace_days": "7"}


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_review_world()


def schedule_events() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.SET_REVIEW_SCHEDULE.value)))


def stored_rows() -> int:
    with session_scope() as session:
        return len(session.exec(select(ReviewSchedule)).all())


def save(world, **changes) -> int:
    return review_schedule.save_schedule(actor(world.users["staff"]),
                                         parse_schedule({**DEFAULT_FORM, **changes}))


def test_each_bad_value_is_named_at_its_field_in_plain_words_and_nothing_is_saved(world):
    with pytest.raises(ScheduleProblems) as bad:
        parse_schedule({"every_months_vaccine_management": "three", "every_months_other_levels": "37",
                        "window_days": "14", "first_reminder_days": "14", "second_reminder_days": "-2",
                        "grace_days": "91"})
    assert bad.value.problems == {
        "every_months_vaccine_management":
            "Enter the months between Vaccine Management reviews as a whole number from 1 to 36.",
        "every_months_other_levels":
            "Enter the months between reviews of the other levels as a whole number from 1 to 36.",
        "first_reminder_days":
            "Enter the first reminder as a whole number of days before the end, from 1 to 13.",
        "second_reminder_days":
            "Enter the second reminder as a whole number of days before the end, from 1 to 13, "
            "or leave it empty.",
        "grace_days": "Enter the grace period as a whole number of days from 0 to 90.",
    }
    with pytest.raises(ScheduleProblems) as bad:
        parse_schedule({**DEFAULT_FORM, "window_days": "0", "first_reminder_days": "", "grace_days": "1.5"})
    assert set(bad.value.problems) == {"window_days", "first_reminder_days", "grace_days"}
    assert bad.value.problems["window_days"] == ("Enter the review window as a whole number of days "
                                                 "from 1 to 90.")
    with pytest.raises(ScheduleProblems) as bad:
        parse_schedule({**DEFAULT_FORM, "first_reminder_days": "5", "second_reminder_days": "5"})
    assert bad.value.problems == {"second_reminder_days": (
        "The second reminder is on the same day as the first: enter a different number of days, "
        "or leave it empty.")}
    with pytest.raises(ScheduleProblems) as bad:
        parse_schedule({**DEFAULT_FORM, "window_days": "1"})
    assert "leaves no day for a reminder" in bad.value.problems["first_reminder_days"]
    # Nothing was stored by any of it: the settings' schedule still applies.
    assert stored_rows() == 0 and schedule_events() == []
    assert current_schedule() == review_schedule.defaults()


def test_staff_save_the_schedule_with_one_audit_event_and_read_it_back(world):
    assert save(world) == 0                     # the defaults as they are: nothing changed, nothing written
    assert stored_rows() == 0 and schedule_events() == []

    assert save(world, window_days="21", first_reminder_days="10", second_reminder_days="",
                grace_days="0") == 4
    found = current_schedule()
    assert (found.window_days, found.reminder_days, found.grace_days) == (21, (10,), 0)
    assert found.as_form() == {**DEFAULT_FORM, "window_days": "21", "first_reminder_days": "10",
                               "second_reminder_days": "", "grace_days": "0"}
    (event,) = schedule_events()
    assert event.actor_id == world.users["staff"] and event.target_type == "review_schedule"
    changed = json.loads(event.details)["changed"]
    assert changed["window_days"] == {"from": 14, "to": 21}
    assert changed["second_reminder_days"] == {"from": 2, "to": None}
    with session_scope() as session:
        (row,) = session.exec(select(ReviewSchedule)).all()
        assert row.updated_by_id == world.users["staff"]

    # The same again: "Nothing changed", no second event; reminders in either order are the same.
    assert save(world, window_days="21", first_reminder_days="10", second_reminder_days="",
                grace_days="0") == 0
    assert save(world, first_reminder_days="2", second_reminder_days="7") == 4
    assert current_schedule().reminder_days == (7, 2)
    assert save(world) == 0
    assert len(schedule_events()) == 2 and stored_rows() == 1


def test_only_staff_save_the_schedule(world):
    with pytest.raises(NotAllowed):
        review_schedule.save_schedule(actor(world.sam), parse_schedule({**DEFAULT_FORM, "grace_days": "9"}))
    assert stored_rows() == 0 and schedule_events() == []


def test_reviews_started_after_a_change_follow_the_stored_schedule(world):
    # Everyone was granted 13 months ago; every 24 months for all levels: nobody is due yet.
    save(world, every_months_vaccine_management="24", every_months_other_levels="24")
    assert run_roster_reviews(T0) == 0
    # Every 13 months, a 30-day window, reminders 10 and 3 days before its end, 2 days of grace.
    save(world, every_months_vaccine_management="13", every_months_other_levels="13", window_days="30",
         first_reminder_days="10", second_reminder_days="3", grace_days="2")
    assert run_roster_reviews(T0) == 2
    with session_scope() as session:
        started = list(session.exec(select(RosterReview).order_by(RosterReview.id)))
        assert all(r.ends_at == days(30) and r.grace_ends_at == days(32) for r in started)
        assert all("every 13 months" in r.rule for r in started)
    assert run_roster_reviews(days(19.9)) == 0      # not yet 10 days before the end
    assert run_roster_reviews(days(20)) == 2         # the first reminder, to both organizations
    assert run_roster_reviews(days(26.9)) == 0
    assert run_roster_reviews(days(27)) == 2         # the second, 3 days before the end
    assert run_roster_reviews(days(30)) == 2         # overdue: staff told
    assert run_roster_reviews(days(31.9)) == 0       # still in the 2 days of grace
    assert run_roster_reviews(days(32)) >= 1         # grace over: Access Deletions opened
    with session_scope() as session:
        reasons = [e.reason for e in session.exec(select(AuditEvent).where(
            AuditEvent.action.in_([AuditAction.REVIEW_OVERDUE.value,  # type: ignore[attr-defined]
                                   AuditAction.REVIEW_AUTO_DELETION.value])))]
    assert any("Review window of 30 days" in r for r in reasons)
    assert any("then 2 days of grace" in r for r in reasons)


def test_a_review_already_open_keeps_its_window_when_the_schedule_changes(world):
    stella = actor(world.users["staff"])
    before = start_extra_review(stella, "ALPHA-1", now=T0)
    save(world, window_days="45", grace_days="1")
    after = start_extra_review(stella, "BETA-2", now=T0)
    assert (before.ends_at, before.grace_ends_at) == (days(14), days(21))
    assert (after.ends_at, after.grace_ends_at) == (days(45), days(46))


# --- The handler on /staff/reviews, called as any client could ---------------------------------------

def test_the_page_handler_names_a_bad_value_bounds_what_it_keeps_and_says_what_it_saved(world):
    from immtrax_portal.ui.state.staff_reviews import StaffReviewsState
    from tests.integration.test_staff_page_handlers import denials, state_for

    state = state_for(StaffReviewsState, world.users["staff"], "/staff/reviews")
    state.load()
    assert state.schedule_form == DEFAULT_FORM and "every 3 months" in state.schedule
    focus = state.save_schedule({**DEFAULT_FORM, "window_days": "fourteen days, please"})
    assert "schedule-error-summary" in str(focus)
    assert state.schedule_errors == {"window_days": "Enter the review window as a whole number of days "
                                                   "from 1 to 90."}
    assert state.schedule_form["window_days"] == "fourteen"       # bounded: what is kept is 8 characters
    assert state.schedule_message == "" and stored_rows() == 0

    state.save_schedule({**DEFAULT_FORM, "grace_days": "10"})
    assert state.schedule_errors == {} and state.schedule_message == "Saved: 1 value changed."
    assert state.schedule_form["grace_days"] == "10" and "10 days of grace" in state.schedule
    state.save_schedule({**DEFAULT_FORM, "grace_days": "10", "unknown": "x" * 10_000})
    assert state.schedule_message == "Nothing changed." and len(schedule_events()) == 1

    supervisor = state_for(StaffReviewsState, world.sam, "/staff/reviews")
    supervisor.save_schedule({**DEFAULT_FORM, "grace_days": "30"})
    assert supervisor.problem != "" and supervisor.schedule_message == ""
    assert current_schedule().grace_days == 10
    assert len(denials(AuditAction.STAFF_REVIEWS_SAVE_SCHEDULE.value)) == 1
