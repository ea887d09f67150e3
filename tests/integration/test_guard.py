"""The one guard (``ui/state/session.py: guarded``), called as a client would call handlers:
exactly one typed denial row per refused call, the caller never taken from the browser, any
handler kind (plain, generator, coroutine), and repeated refusals counted instead of written."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AuditEvent, Person
from immtrax_portal.services import refusals
from immtrax_portal.ui.state.agreement import AgreementState
from immtrax_portal.ui.state.org_import import OrgImportState
from immtrax_portal.ui.state.organizations import OrganizationsState
from immtrax_portal.ui.state.staff_roles import StaffRolesState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import run, state_as
from tests.support.wizard_world import build_world


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            for key, admin in (("staff", False), ("admin", True), ("admin2", True)):
                person = Person(email=f"{key}@mt.example", first_name=key.title(), last_name="Staff",
                                is_staff=True, is_admin=admin)
                session.add(person)
                session.flush()
                world.users[key] = person.id
        yield world


def denials() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)
                                 .order_by(AuditEvent.id)))


def test_a_guarded_handler_hides_its_caller_argument_from_the_browser():
    handler = OrganizationsState.event_handlers["search"]
    assert list(inspect.signature(handler.fn).parameters) == ["self", "form"]
    assert "actor" not in handler._get_type_hints()
    assert handler.fn.guard_action is AuditAction.ORGANIZATIONS_SEARCH


@pytest.mark.parametrize("who", [None, "sam"])
def test_a_refused_plain_handler_writes_one_typed_row_and_shows_the_message(world, who):
    state = state_as(OrganizationsState, world.sam if who else None)
    state.search({"q": "Alpha"})
    [row] = denials()
    assert row.action == AuditAction.ORGANIZATIONS_SEARCH.value
    assert row.actor_id == (world.sam if who else None)
    assert state.rows == [] and state.message


def test_an_actor_named_in_the_payload_is_ignored(world):
    state = state_as(OrganizationsState, world.sam)
    state.search(actor={"person_id": world.users["staff"], "is_staff": True}, form={"q": "Alpha"})
    assert [r.actor_id for r in denials()] == [world.sam] and state.rows == []


def test_a_refused_coroutine_handler_is_guarded_the_same_way(world):
    state = state_as(OrgImportState, world.sam)
    asyncio.run(state.preview_file(files=[]))
    assert [r.action for r in denials()] == [AuditAction.ORGANIZATIONS_PREVIEW_IMPORT.value]
    assert state.problem and state.file_error == ""


def test_an_allowed_coroutine_handler_gets_the_caller(world):
    state = state_as(OrgImportState, world.users["staff"])
    asyncio.run(state.preview_file(files=[]))
    assert denials() == [] and state.file_error == "Choose a CSV file to preview."


def test_a_refused_generator_handler_is_guarded_the_same_way(world):
    state = state_as(AgreementState, None)
    run(state.sign({"typed_name": "Nobody"}))
    assert [r.action for r in denials()] == [AuditAction.AGREEMENT_SIGN.value]
    assert "session has ended" in state.problem and state.signing is False


def test_a_services_refusal_inside_the_handler_is_recorded_once_with_its_target(world):
    """An admin may not take another admin's staff role: refused, and audited once."""
    state = state_as(StaffRolesState, world.users["admin"])
    state.remove_staff(world.users["admin2"])
    [row] = denials()
    assert (row.action, row.target_type, row.target_id) == (
        AuditAction.STAFF_ROLES_REMOVE_STAFF.value, "person", str(world.users["admin2"]))
    assert "Administrators keep the staff role" in state.message


def test_repeated_identical_refusals_from_one_connection_are_counted_not_written(world):
    state = state_as(OrganizationsState, None)
    calls = refusals.ROWS_PER_CONNECTION + refusals.SUMMARY_EVERY
    for _ in range(calls):
        state.search({"q": "x"})
    rows = denials()
    singles = [r for r in rows if r.action == AuditAction.ORGANIZATIONS_SEARCH.value]
    summaries = [r for r in rows if r.action == AuditAction.REFUSALS_AGGREGATED.value]
    assert len(singles) == refusals.ROWS_PER_CONNECTION
    assert [json.loads(s.details)["count"] for s in summaries] == [refusals.SUMMARY_EVERY]
    assert json.loads(summaries[0].details)["refused_action"] == AuditAction.ORGANIZATIONS_SEARCH.value


def test_a_connection_refused_past_the_limit_is_recorded_as_dropped(world):
    state = state_as(OrganizationsState, None)
    for n in range(refusals.DROP_CONNECTION_AFTER + 1):
        state.search({"q": f"x{n % 3}"}) if n % 2 else state.next_page()
    rows = denials()
    assert [r.action for r in rows].count(AuditAction.CONNECTION_DROPPED.value) == 1
    assert len(rows) < refusals.DROP_CONNECTION_AFTER // 2


# --- Off the event loop: what Reflex runs on the worker's one loop thread -------------------------


@contextmanager
def statement_threads():
    """The threads the portal's SQL statements run on while the block runs."""
    seen: list[threading.Thread] = []

    def note(*_args) -> None:
        seen.append(threading.current_thread())

    engine = get_engine()
    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)


async def as_reflex_runs(answer) -> list:
    """What a handler's answer yields when Reflex processes the event (``process_event``)."""
    if inspect.isasyncgen(answer):
        return [update async for update in answer]
    if inspect.iscoroutine(answer):
        return [await answer]
    return list(answer) if inspect.isgenerator(answer) else [answer]


def test_a_plain_handler_run_by_reflex_reads_the_database_in_a_worker_thread(world):
    state = state_as(OrganizationsState, world.users["staff"])

    async def one_event():
        answer = state.search({"q": "Alpha"})
        assert inspect.isasyncgen(answer), "on the event loop a plain handler must leave it"
        await as_reflex_runs(answer)
        return threading.current_thread()

    with statement_threads() as threads:
        loop_thread = asyncio.run(one_event())
    assert threads and loop_thread not in threads
    assert [row["name"] for row in state.rows] == ["Alpha Clinic"] and denials() == []


def test_a_generator_handler_keeps_its_caller_across_steps_in_worker_threads(world):
    """``sign`` yields once ("Signing…"), then asks the guard for its caller: the second step
    must still see the person the door let in, though each step may run in another thread."""
    state = state_as(AgreementState, world.sam)

    async def one_event():
        return await as_reflex_runs(state.sign({"typed_name": ""}))

    with statement_threads() as threads:
        updates = asyncio.run(one_event())
    assert threads and threading.main_thread() not in threads
    assert len(updates) == 2 and state.errors and state.signing is False and denials() == []


def test_a_slow_handler_leaves_the_event_loop_free_for_other_tabs(world):
    """While one tab's handler waits on a slow database, the loop keeps ticking (it would serve
    every other tab of the worker); before, the loop stood still for as long as the handler."""
    slow = state_as(OrganizationsState, world.users["staff"])
    pause = 0.2

    def slow_statement(*_args) -> None:
        time.sleep(pause)

    async def one_slow_event_and_a_ticker():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.perf_counter()
        await as_reflex_runs(slow.search({"q": "Alpha"}))
        took = time.perf_counter() - started
        ticker.cancel()
        return ticks, took

    engine = get_engine()
    sa_event.listen(engine, "before_cursor_execute", slow_statement)
    try:
        ticks, took = asyncio.run(one_slow_event_and_a_ticker())
    finally:
        sa_event.remove(engine, "before_cursor_execute", slow_statement)
    assert took >= pause
    assert ticks >= took / 0.01 / 4, f"the loop ticked {ticks} times in {took:.2f} s"
