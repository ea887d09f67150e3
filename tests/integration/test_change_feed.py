"""The live-update watcher on a real database: one poll serves every listener, pages learn only
what concerns them, and the watcher stops when nobody listens."""

from __future__ import annotations

import asyncio

import pytest

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import AccessRequest
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import audit
from immtrax_portal.services.change_feed import (
    MAX_PENDING,
    Change,
    ChangeFeed,
    Scope,
    changes_after,
    newest_change_id,
)
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import actor, add_staff_member, build_world, permissions_change

FAST = 0.02


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        add_staff_member(world)
        yield world



def submit_change_for_ana(world) -> AccessRequest:
    ana = world.user("ana.lopez@alpha.example")
    return submit_request(world.sam, permissions_change(world.alpha, ana), f"change-feed-key-{ana:08d}")


# --- The query ----------------------------------------------------------------------------------


def test_a_submitted_request_appears_in_the_change_log_with_its_organization_and_people(world):
    before = newest_change_id()
    request = submit_change_for_ana(world)
    changes = changes_after(before)
    assert changes, "the submission wrote no change"
    assert {c.request_id for c in changes if c.request_id} == {request.id}
    first = next(c for c in changes if c.request_id == request.id)
    assert first.organization_id == world.alpha
    assert first.subject_person_id == world.user("ana.lopez@alpha.example")
    assert first.submitter_id == world.sam
    assert newest_change_id() == changes[-1].id


def test_sign_ins_and_refusals_are_not_changes_any_dashboard_shows(world):
    before = newest_change_id()
    with session_scope() as session:
        audit.record(session, action="sign_in", actor_id=world.sam, actor_role="supervisor")
        audit.record(session, action="request.act", actor_id=world.sam, actor_role="supervisor",
                     organization_id=world.beta, outcome=AuditOutcome.DENIED, reason="not theirs")
    assert changes_after(before) == []


# --- Who cares about a change -------------------------------------------------------------------


def test_a_scope_is_touched_only_by_changes_it_displays():
    change = Change(id=7, organization_id=1, request_id=10, subject_person_id=5, submitter_id=3)
    assert Scope(organization_ids=frozenset({1})).touches(change)
    assert not Scope(organization_ids=frozenset({2})).touches(change)
    assert Scope(request_ids=frozenset({10})).touches(change)
    assert not Scope(request_ids=frozenset({11})).touches(change)
    assert Scope(person_id=5).touches(change)
    assert not Scope(person_id=6).touches(change)
    assert Scope(everything=True).touches(change)
    assert Scope(person_id=6).touches(Change(id=8, touches_everything=True))


# --- The watcher ------------------------------------------------------------------------------------


def test_one_poll_wakes_every_listener_and_the_poll_count_does_not_grow_with_listeners(world):
    async def scenario():
        feed = ChangeFeed(poll_seconds=FAST)
        listeners = [feed.subscribe() for _ in range(50)]
        await asyncio.sleep(FAST * 3)
        await asyncio.to_thread(submit_change_for_ana, world)
        woken = await asyncio.gather(*(s.next_changes(timeout=5) for s in listeners))
        polls_with_50 = feed.polls
        for s in listeners:
            s.close()
        return woken, polls_with_50

    woken, polls = asyncio.run(scenario())
    assert all(changes and changes[0].organization_id == world.alpha for changes in woken)
    # 50 listeners for a fraction of a second: a handful of polls, not 50 per tick.
    assert 2 <= polls < 50


def test_a_listener_learns_of_a_staff_action_within_a_second(world):
    request = submit_change_for_ana(world)
    staff = actor(world.user("staff"))

    async def scenario():
        feed = ChangeFeed()  # the real poll interval
        listening = feed.subscribe()
        await asyncio.sleep(0.5)  # the watcher has found where the log ends
        started = asyncio.get_running_loop().time()
        await asyncio.to_thread(act_on_request, staff, request.id,
                                ActionInput(Action.REJECT, request.version, reason="Wrong person"))
        changes = await listening.next_changes(timeout=5)
        elapsed = asyncio.get_running_loop().time() - started
        listening.close()
        return changes, elapsed

    changes, elapsed = asyncio.run(scenario())
    assert any(c.request_id == request.id for c in changes)
    assert elapsed < 1.0
    with session_scope() as session:
        assert session.get(AccessRequest, request.id).status == RequestStatus.REJECTED


def test_a_quiet_wait_returns_empty_and_a_closed_subscription_returns_none(world):
    async def scenario():
        feed = ChangeFeed(poll_seconds=FAST)
        listening = feed.subscribe()
        quiet = await listening.next_changes(timeout=0.1)
        listening.close()
        return quiet, await listening.next_changes(timeout=5)

    quiet, closed = asyncio.run(scenario())
    assert quiet == [] and closed is None


def test_the_watcher_stops_polling_when_the_last_listener_leaves(world):
    async def scenario():
        feed = ChangeFeed(poll_seconds=FAST)
        listening = feed.subscribe()
        await asyncio.sleep(FAST * 5)
        listening.close()
        # A poll already in flight may finish on a loaded machine; the watcher must end after it.
        for _ in range(250):
            if not feed.watching:
                break
            await asyncio.sleep(FAST)
        stopped_at = feed.polls
        await asyncio.sleep(FAST * 10)
        return feed.watching, stopped_at, feed.polls, feed.listeners

    still_watching, stopped_at, later, listeners = asyncio.run(scenario())
    assert not still_watching and stopped_at == later and listeners == 0


def test_a_second_subscription_with_the_same_key_closes_the_first(world):
    async def scenario():
        feed = ChangeFeed(poll_seconds=FAST)
        first = feed.subscribe(("tab", "dashboard"))
        waiting = asyncio.create_task(first.next_changes(timeout=10))
        await asyncio.sleep(0)
        second = feed.subscribe(("tab", "dashboard"))
        ended = await asyncio.wait_for(waiting, 1)
        count = feed.listeners
        second.close()
        return ended, count

    ended, count = asyncio.run(scenario())
    assert ended is None and count == 1


def test_a_listener_that_falls_behind_gets_one_look_again_instead_of_a_backlog():
    async def scenario():
        feed = ChangeFeed(poll_seconds=FAST, read_newest=lambda: 0,
                          read_after=lambda last: [Change(id=last + n + 1, organization_id=9)
                                                   for n in range(50)])
        listening = feed.subscribe()
        # Until more than a listener holds has arrived (the first poll only reads the newest id),
        # however slowly a busy machine runs the polls; a fixed sleep was sometimes too short.
        deliveries_to_overflow = MAX_PENDING // 50 + 1
        for _ in range(500):
            if feed.polls > deliveries_to_overflow:
                break
            await asyncio.sleep(FAST)
        changes = await listening.next_changes(timeout=1)
        listening.close()
        return changes

    changes = asyncio.run(scenario())
    assert len(changes) <= MAX_PENDING
    assert Scope(person_id=123).touched_by_any(changes)
