"""The program's clock on SQLite and PostgreSQL, under a controlled clock: it runs with the program,
pauses over the weekend and while the supervisor answers, and tells the owner at 50% and 75% and
the owner and the staff inbox at breach, each exactly once; the queue sorts by time left; staff
set targets; the metrics show program time and total time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.enums import RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, AuditEvent, ClockNotice, OutboundEmail
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import clock_figures, program_clock, queue_owner
from immtrax_portal.services.queue import QueueFilters, queue_page
from immtrax_portal.services.request_store import save_transition
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import add_request, build_queue_world
from tests.support.wizard_world import actor

S, T = RequestStatus, RequestType
HOUR = 3600
MT = ZoneInfo("America/Denver")


def mt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MT)


class Clock:
    """The time the lifecycle reads (``workflow.utcnow``), moved by the test."""

    def __init__(self, monkeypatch, start: datetime) -> None:
        self.now = start
        monkeypatch.setattr("immtrax_portal.domain.workflow.utcnow", lambda: self.now)

    def set(self, text: str) -> datetime:
        self.now = mt(text)
        return self.now


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_queue_world()



def placed(world, number: str, status: RequestStatus, since: datetime) -> None:
    """Put a request into ``status`` since ``since`` as if it had just moved there."""
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
        reading = clock.after_status_change(0, None, None, status, since, clock_figures.zone())
        request.status, request.status_changed_at = status, since
        request.program_seconds, request.clock_origin = reading.program_seconds, reading.clock_origin
        session.add(request)


def move(number: str, action: Action, reason: str = "") -> None:
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
        save_transition(session, request, action, actor_id=None, actor_role=Role.SYSTEM, reason=reason)


def reading(number: str) -> AccessRequest:
    with session_scope() as session:
        return session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()


def test_the_clock_pauses_over_a_weekend_and_while_the_supervisor_answers(world, monkeypatch):
    now = Clock(monkeypatch, mt("2026-03-13T16:00"))          # Friday 4 pm
    number = add_request(world, status=S.SUBMITTED, kind=T.PERMISSIONS_CHANGE)
    placed(world, number, S.SUBMITTED, now.now)
    now.set("2026-03-16T10:00")                                # Monday 10 am: 8 + 10 hours
    move(number, Action.QUEUE_FOR_REVIEW)
    assert reading(number).program_seconds == 18 * HOUR
    now.set("2026-03-16T12:00")
    move(number, Action.ASK_FOR_INFO, "Which clinic?")        # paused from Monday noon
    paused = reading(number)
    assert (paused.program_seconds, paused.clock_origin) == (20 * HOUR, None)
    later = mt("2026-03-18T09:00")
    assert clock.program_seconds_now(paused.program_seconds, paused.clock_origin, later, "America/Denver") \
        == 20 * HOUR
    now.set("2026-03-18T12:00")                                # Wednesday noon: answered
    move(number, Action.ANSWER_INFO, "Alpha Clinic")
    resumed = reading(number)
    assert resumed.program_seconds == 20 * HOUR and resumed.clock_origin is not None
    now.set("2026-03-18T15:00")
    move(number, Action.APPLY_LEVEL)
    done = reading(number)
    assert (done.program_seconds, done.clock_origin) == (23 * HOUR, None)


def notices(number: str) -> list[tuple[str, bool]]:
    with session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.number == number)).one()
        return [(n.level, n.emailed) for n in session.exec(
            select(ClockNotice).where(ClockNotice.request_id == request_id).order_by(ClockNotice.id))]


def mail_to(number: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.number == number)).one()
        return [(m.kind, m.to_address) for m in session.exec(
            select(OutboundEmail).where(OutboundEmail.request_id == request_id,
                                        OutboundEmail.kind.in_(["clock_notice", "clock_breach"]))
            .order_by(OutboundEmail.id))]


def test_half_three_quarters_and_breach_are_each_told_once(world):
    staff = actor(world.staff)
    program_clock.save_targets(staff, {T.NEW_ACCESS: 10})
    number = add_request(world)
    start = mt("2026-03-16T08:00")                              # Monday 8 am, in review
    placed(world, number, S.IN_REVIEW, start)
    queue_owner.assign(staff, number, world.staff)
    stella, inbox = "stella.staff@mt.example", get_settings().program_inbox

    assert program_clock.run_clock_notices(start + timedelta(hours=4)) == 0      # 40%
    assert program_clock.run_clock_notices(start + timedelta(hours=5)) == 1      # 50%
    assert program_clock.run_clock_notices(start + timedelta(hours=6)) == 0      # told already
    assert mail_to(number) == [("clock_notice", stella)]
    assert program_clock.run_clock_notices(start + timedelta(hours=7, minutes=30)) == 1
    assert program_clock.run_clock_notices(start + timedelta(hours=8)) == 0
    assert program_clock.run_clock_notices(start + timedelta(hours=10)) == 1     # breach
    assert program_clock.run_clock_notices(start + timedelta(hours=30)) == 0
    assert mail_to(number) == [("clock_notice", stella), ("clock_notice", stella),
                               ("clock_breach", stella), ("clock_breach", inbox)]
    assert notices(number) == [("half", True), ("three_quarters", True), ("breach", True)]
    with session_scope() as session:
        told = session.exec(select(AuditEvent.reason).where(AuditEvent.action == "clock_notice")
                            .order_by(AuditEvent.id)).all()
    assert told == ["50% of the target", "75% of the target", "100% of the target"]


def test_a_request_that_jumped_past_every_level_gets_one_breach_email(world):
    number = add_request(world)
    start = mt("2026-03-16T08:00")
    placed(world, number, S.IN_REVIEW, start)
    assert program_clock.run_clock_notices(start + timedelta(hours=60)) == 1
    assert program_clock.run_clock_notices(start + timedelta(hours=61)) == 0
    assert mail_to(number) == [("clock_breach", get_settings().program_inbox)]   # nobody owns it
    assert notices(number) == [("half", False), ("three_quarters", False), ("breach", True)]


def test_a_paused_clock_tells_nobody_and_a_second_runner_sends_nothing_twice(world):
    waiting = add_request(world, status=S.NEEDS_INFO)
    placed(world, waiting, S.NEEDS_INFO, mt("2026-03-02T08:00"))
    assert program_clock.run_clock_notices(mt("2026-03-20T08:00")) == 0
    running = add_request(world)
    placed(world, running, S.IN_REVIEW, mt("2026-03-16T08:00"))
    level_index = 0
    found = {kind: 48 for kind in T}
    later = mt("2026-03-17T08:00")
    business_now = clock.business_seconds_at(later, "America/Denver")
    with session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.number == running)).one()
    # Two processes found the same due notice: the unique (request, level) lets one through.
    assert program_clock._notify_one(request_id, level_index, business_now, found, later) is True
    assert program_clock._notify_one(request_id, level_index, business_now, found, later) is False
    assert len(mail_to(running)) == 1


def test_the_queue_sorts_by_time_left_running_or_paused(world):
    staff = actor(world.staff)
    program_clock.save_targets(staff, {T.PERMISSIONS_CHANGE: 8})
    now = mt("2026-03-18T12:00")
    roomy = add_request(world)                                   # 48 h target, 4 h used
    placed(world, roomy, S.IN_REVIEW, now - timedelta(hours=4))
    tight = add_request(world, kind=T.PERMISSIONS_CHANGE)       # 8 h target, 6 h used
    placed(world, tight, S.IN_REVIEW, now - timedelta(hours=6))
    paused = add_request(world, status=S.NEEDS_INFO)             # 48 h target, 0 used, paused
    placed(world, paused, S.NEEDS_INFO, now - timedelta(hours=30))
    rows = queue_page(staff, QueueFilters(sort="time_left"), now=now).rows
    assert [r.number for r in rows] == [tight, roomy, paused]
    assert rows[0].clock == "2 h left of 8 h"
    assert rows[2].clock.endswith("; paused: waiting on the supervisor")


def test_targets_are_set_by_staff_checked_and_audited(world):
    staff = actor(world.staff)
    with pytest.raises(program_clock.TargetProblems) as bad:
        program_clock.parse_targets({"target_new_access": "abc", "target_change_employer": "0",
                                     "target_permissions_change": "24", "target_access_deletion": "9999"})
    assert set(bad.value.problems) == {"new_access", "change_employer", "access_deletion"}
    chosen = program_clock.parse_targets({f"target_{k.value}": "24" for k in T})
    assert program_clock.save_targets(staff, chosen) == 4
    assert program_clock.save_targets(staff, chosen) == 0          # nothing changed: nothing written
    assert clock_figures.current_targets(staff) == {k: 24 for k in T}
    with session_scope() as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "set_clock_target")).all()) == 4
    with pytest.raises(NotAllowed):
        program_clock.save_targets(actor(world.supervisor), chosen)


def test_metrics_show_program_and_total_time_per_type_and_week_and_the_share_within_target(world):
    now = mt("2026-03-18T12:00")
    for hours_with_program, total_hours in ((2, 30), (4, 50), (60, 80)):
        number = add_request(world, status=S.COMPLETED, created_days_ago=3,
                             completed_after_hours=total_hours)
        with session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
            request.program_seconds = hours_with_program * HOUR
            request.completed_at = now - timedelta(days=1)
            request.created_at = request.completed_at - timedelta(hours=total_hours)
            session.add(request)
    per_type, per_week = clock_figures.clock_metrics_for(now)
    new_access = next(f for f in per_type if f.label == T.NEW_ACCESS.label)
    assert (new_access.completed, new_access.program_median, new_access.program_p90) \
        == (3, 4 * HOUR, 60 * HOUR)
    assert (new_access.total_median, new_access.total_p90) == (50.0, 80.0)
    assert new_access.share_within_target == "67%"
    assert per_week[-1].completed == 3 and per_week[0].completed == 0
    assert clock_figures.typical_program_seconds(T.NEW_ACCESS, now) == 4 * HOUR


def test_only_staff_read_the_targets(world):
    with pytest.raises(NotAllowed):
        clock_figures.current_targets(actor(world.supervisor))


def test_the_supervisors_tracker_shows_the_programs_typical_time_for_the_step(world):
    """Item 5's last sentence, end to end through the supervisor's dashboard service: a request
    the program is working says how long that usually takes; one waiting on the supervisor not."""
    from immtrax_portal.services import dashboards

    clock_figures.forget_typical()
    for hours_with_program in (2, 4, 30):   # the median: 4 hours, within 1 business day
        number = add_request(world, status=S.COMPLETED, created_days_ago=3, completed_after_hours=40)
        with session_scope() as session:
            request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
            request.program_seconds = hours_with_program * HOUR
            request.completed_at = datetime.now(MT) - timedelta(days=1)   # within the last 90 days
            session.add(request)
    working = add_request(world, status=S.IN_REVIEW)
    asked = add_request(world, status=S.NEEDS_INFO, first="Quin", last="Question")
    rows = {row["number"]: row for row in dashboards.tracked_requests_of_supervised_orgs(
        actor(world.supervisor)).rows}
    clock_figures.forget_typical()
    assert rows[working]["typical"] == "The program usually finishes this step within 1 business day."
    assert rows[asked]["typical"] == ""
