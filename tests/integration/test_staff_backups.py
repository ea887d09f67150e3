"""Staff backups while away, on SQLite and PostgreSQL under a controllable clock: a colleague named
for some days sees the absent owner's assigned requests under "Mine" (marked), works them with both
names in the audit event, gets the owner's clock notices, and all of it ends by itself and never
passes on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import DelegationKind, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, AuditEvent, OutboundEmail, Person
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import clock_figures, delegations, program_clock, queue_owner, staff_notes
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.delegations import name_backup
from immtrax_portal.services.queue import QueueFilters, queue_page
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.request_detail import request_detail
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import add_request, build_queue_world

MT = ZoneInfo("America/Denver")
MONDAY = datetime(2026, 3, 16, 8, 0, tzinfo=MT)   # Monday 8 am in Montana
STAFF = DelegationKind.STAFF


def day(n: int) -> str:
    return (MONDAY.date() + timedelta(days=n)).isoformat()


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        w = build_queue_world()
        with session_scope() as session:
            lee = Person(email="lee.relief@mt.example", first_name="Lee", last_name="Relief", is_staff=True)
            mo = Person(email="mo.third@mt.example", first_name="Mo", last_name="Third", is_staff=True)
            session.add_all([lee, mo])
            session.flush()
            w.lee, w.mo = lee.id, mo.id
        yield w


def actor(person_id: int, now: datetime):
    with session_scope() as session:
        return load_actor(session, person_id, now)


def stellas_request(world, **kwargs) -> str:
    """An in-review request assigned to Stella (the world's staff member)."""
    number = add_request(world, **kwargs)
    queue_owner.assign(actor(world.staff, MONDAY), number, world.staff)
    return number


def request_of(number: str) -> AccessRequest:
    with session_scope() as session:
        return session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()


def mine(person_id: int, now: datetime) -> dict[str, str]:
    """Number -> "covering for" of the open requests under "Mine"."""
    rows = queue_page(actor(person_id, now), QueueFilters(owner="mine"), now=now).rows
    return {row.number: row.covering_for for row in rows}


def test_the_backup_sees_the_absent_owners_requests_under_mine_only_on_the_named_days(world):
    number = stellas_request(world)
    unowned = add_request(world, first="Ula", last="Unowned")
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(1), day(2), now=MONDAY, kind=STAFF)

    assert mine(world.lee, MONDAY) == {}                                       # not yet
    tuesday, wednesday_late = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2, hours=15)
    assert mine(world.lee, tuesday) == {number: "Stella Staffer"}              # marked as covering
    assert mine(world.lee, wednesday_late) == {number: "Stella Staffer"}       # 11 pm, the last day
    assert mine(world.lee, MONDAY + timedelta(days=3)) == {}                   # ended by itself
    assert mine(world.staff, tuesday) == {number: ""}                          # still Stella's own
    assert unowned not in mine(world.lee, tuesday)
    detail = request_detail(actor(world.lee, tuesday), number)
    assert detail.covering_for == "Stella Staffer"
    assert request_detail(actor(world.lee, MONDAY), number).covering_for == ""


def test_it_does_not_pass_on_to_the_backups_own_backup(world):
    number = stellas_request(world)
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(0), day(2), now=MONDAY, kind=STAFF)
    name_backup(actor(world.lee, MONDAY), None, world.mo, day(0), day(2), now=MONDAY, kind=STAFF)
    assert number in mine(world.lee, MONDAY)
    assert number not in mine(world.mo, MONDAY)


def test_every_action_of_the_backup_records_both_names(world):
    number = stellas_request(world)
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(0), day(2), now=MONDAY, kind=STAFF)
    lee = actor(world.lee, MONDAY)
    request = request_of(number)
    staff_notes.add_note(lee, request.id, "Called the clinic; waiting for the form.")
    act_on_request(lee, request.id, ActionInput(Action.ASK_FOR_INFO, request.version, "Which clinic?"))
    queue_owner.assign(lee, number, world.lee, "Taking it over while Stella is away")
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.request_id == request.id,
                                                       AuditEvent.actor_id == world.lee)
                              .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [AuditAction.STAFF_NOTE_ADDED, AuditAction.ASK_FOR_INFO,
                                          AuditAction.ASSIGN_OWNER]
    for event in events:
        details = json.loads(event.details)
        assert (details["on_behalf_of_id"], details["on_behalf_of"]) == (world.staff, "Stella Staffer")
        assert (details["backup_id"], details["backup"]) == (world.lee, "Lee Relief")
    # Now Lee owns it: what Lee does next is Lee's own, with no one else named.
    request = request_of(number)
    assert request.owner_id == world.lee


def test_an_action_on_the_owners_request_after_the_range_names_nobody_else(world):
    number = stellas_request(world)
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(0), day(0), now=MONDAY, kind=STAFF)
    request = request_of(number)
    staff_notes.add_note(actor(world.lee, MONDAY + timedelta(days=1)), request.id, "A look after the range.")
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.request_id == request.id,
                                                      AuditEvent.actor_id == world.lee)).one()
    assert event.details in (None, "", "null", "{}")


def clock_mail(number: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.number == number)).one()
        return [(m.kind, m.to_address) for m in session.exec(
            select(OutboundEmail).where(OutboundEmail.request_id == request_id,
                                        OutboundEmail.kind.in_(["clock_notice", "clock_breach"]))
            .order_by(OutboundEmail.id))]


def test_the_clock_notices_reach_the_backup_while_covering_and_only_then(world):
    program_clock.save_targets(actor(world.staff, MONDAY), {RequestType.NEW_ACCESS: 10})
    number = stellas_request(world)
    with session_scope() as session:   # in review since Monday 8 am, its clock running
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
        reading = clock.after_status_change(0, None, None, RequestStatus.IN_REVIEW, MONDAY,
                                            clock_figures.zone())
        request.status_changed_at = MONDAY
        request.program_seconds, request.clock_origin = reading.program_seconds, reading.clock_origin
        session.add(request)
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(0), day(0), now=MONDAY, kind=STAFF)
    stella, lee, inbox = "stella.staff@mt.example", "lee.relief@mt.example", get_settings().program_inbox

    assert program_clock.run_clock_notices(MONDAY + timedelta(hours=5)) == 1     # 50%, Monday
    assert clock_mail(number) == [("clock_notice", stella), ("clock_notice", lee)]
    assert program_clock.run_clock_notices(MONDAY + timedelta(hours=6)) == 0     # once only
    assert program_clock.run_clock_notices(MONDAY + timedelta(hours=7, minutes=30)) == 1    # 75%
    # Tuesday 9 am (10 business hours after Monday's 9): the breach, but the range ended with Monday.
    assert program_clock.run_clock_notices(MONDAY + timedelta(days=1, hours=1)) == 1
    assert clock_mail(number) == [("clock_notice", stella), ("clock_notice", lee),
                                  ("clock_notice", stella), ("clock_notice", lee),
                                  ("clock_breach", stella), ("clock_breach", inbox)]
    with session_scope() as session:
        first = session.exec(select(AuditEvent).where(AuditEvent.action == "clock_notice")
                             .order_by(AuditEvent.id)).first()
    assert json.loads(first.details)["backup_ids"] == [world.lee]


def test_the_staff_backups_page_lists_the_staff_side_only(world):
    number = stellas_request(world)
    name_backup(actor(world.staff, MONDAY), None, world.lee, day(0), day(1), now=MONDAY, kind=STAFF)
    named, covering = delegations.backups_of(actor(world.staff, MONDAY), MONDAY, kind=STAFF)
    assert [(r.delegate, r.organization) for r in named] == [("Lee Relief", "")] and covering == []
    assert delegations.backups_of(actor(world.staff, MONDAY), MONDAY,
                                  kind=DelegationKind.SUPERVISOR) == ([], [])
    assert [r["number"] for r in delegations.covered_assigned_requests(actor(world.lee, MONDAY))] == [number]
    assert [c.name for c in delegations.staff_backup_choices(actor(world.staff, MONDAY))] == [
        "Lee Relief", "Mo Third"]
