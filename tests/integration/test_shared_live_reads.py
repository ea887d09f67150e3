"""Live dashboards share one read per change per view, and never hand one person's view to another.

The tabs are real page states (``DashboardState``, ``StaffQueueState``) on a real database, woken the
way ``watch_live`` wakes them: the caller re-derived from each tab's own session cookie, then the
page's shared re-read. The statements are counted on the engine itself.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlmodel import select

from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestStatus
from immtrax_portal.domain.models import Grant, Person, SupervisorLink, WebSession, utcnow
from immtrax_portal.services.change_feed import Change
from immtrax_portal.ui.state import live
from immtrax_portal.ui.state.dashboard import DashboardState
from immtrax_portal.ui.state.staff_queue import StaffQueueState
from tests.integration.test_staff_page_handlers import state_for
from tests.support.databases import fresh_database_url, use_database
from tests.support.queue_world import add_request, build_queue_world


def _person(session, email: str, first: str, last: str) -> int:
    person = Person(email=email, first_name=first, last_name=last)
    session.add(person)
    session.flush()
    return person.id


@pytest.fixture
def world(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        world = build_queue_world()
        alpha, beta = world.orgs["Alpha Clinic"], world.orgs["Beta Health"]
        level = AccessLevel.READ_ONLY_CONSENT
        with session_scope() as session:
            world.alpha_second = _person(session, "ada.second@alpha.example", "Ada", "Second")
            world.beta_supervisor = _person(session, "bea.beta@beta.example", "Bea", "Beta")
            alpha_user = _person(session, "olive.alphauser@alpha.example", "Olive", "Alphauser")
            beta_user = _person(session, "bruno.betauser@beta.example", "Bruno", "Betauser")
            session.add_all([
                SupervisorLink(person_id=world.alpha_second, organization_id=alpha),
                SupervisorLink(person_id=world.beta_supervisor, organization_id=beta),
                Grant(person_id=alpha_user, organization_id=alpha, access_level=level),
                Grant(person_id=beta_user, organization_id=beta, access_level=level),
            ])
        world.alpha_number = add_request(world, org="Alpha Clinic", first="Alma", last="Alphaone")
        world.beta_number = add_request(world, org="Beta Health", first="Berta", last="Betaone")
        live.VIEWS.clear()
        live.SESSIONS.clear()
        yield world


@contextmanager
def counted():
    """How many SQL statements the portal's engine sends inside the block."""
    seen = {"statements": 0}

    def count(*_args):
        seen["statements"] += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def open_tabs(state_class, person_id: int, path: str, count: int) -> list:
    tabs = []
    for _ in range(count):   # each tab with a session of its own, as separate browsers have
        tab = state_for(state_class, person_id, path)
        tab.load()
        tabs.append(tab)
    return tabs


async def _wake(tab, changes: list[Change]):
    """What ``watch_live`` does for one tab once a change it shows arrives."""
    actor = await tab._shared_live_actor(changes[-1].id)
    if actor is None:
        return None
    await tab._refresh_live_shared(actor, changes)
    return actor


def wake_all(tabs, changes: list[Change]) -> list:
    async def main():
        return await asyncio.gather(*(_wake(tab, changes) for tab in tabs))
    return asyncio.run(main())


def everything_changed(change_id: int) -> list[Change]:
    return [Change(id=change_id, touches_everything=True)]


def numbers(tab) -> set[str]:
    return ({r["number"] for r in tab.org_rows} | {r["number"] for r in tab.closed_rows}
            | {r["number"] for r in tab.needs_rows if "number" in r})


def roster_names(tab) -> set[str]:
    return {row["name"] for roster in tab.rosters for row in roster["rows"]}


def test_fifty_open_dashboards_of_one_supervisor_cost_no_more_than_two_single_pages(world):
    one = open_tabs(DashboardState, world.supervisor, "/dashboard", 1)
    fifty = open_tabs(DashboardState, world.supervisor, "/dashboard", 50)
    newer = add_request(world, org="Alpha Clinic", first="Nell", last="Newest")

    with counted() as single:
        wake_all(one, everything_changed(101))
    with counted() as many:
        wake_all(fifty, everything_changed(102))

    assert single["statements"] > 0
    assert many["statements"] <= 2 * single["statements"], (single, many)
    assert all(newer in numbers(tab) for tab in one + fifty)


def test_a_supervisor_of_another_organization_never_gets_the_cached_rows(world):
    alpha_tabs = open_tabs(DashboardState, world.supervisor, "/dashboard", 3)
    second_alpha = open_tabs(DashboardState, world.alpha_second, "/dashboard", 1)
    beta_tabs = open_tabs(DashboardState, world.beta_supervisor, "/dashboard", 3)
    changes = everything_changed(201)

    wake_all(alpha_tabs, changes)                 # Alpha's views are now in the cache
    shared_before = live.VIEWS.shared
    wake_all(second_alpha, changes)
    assert live.VIEWS.shared > shared_before, "Alpha's other supervisor should share Alpha's roster read"
    assert roster_names(second_alpha[0]) == {"Olive Alphauser"}
    wake_all(beta_tabs, changes)

    for tab in alpha_tabs:
        assert world.alpha_number in numbers(tab) and world.beta_number not in numbers(tab)
        assert roster_names(tab) == {"Olive Alphauser"}
    for tab in beta_tabs:
        assert world.alpha_number not in numbers(tab), "a Beta supervisor saw Alpha's request"
        assert "Olive Alphauser" not in roster_names(tab), "a Beta supervisor saw Alpha's roster"
        assert world.beta_number in numbers(tab)
        assert roster_names(tab) == {"Bruno Betauser"}
        assert [r["organization_id"] for r in tab.rosters] == [str(world.orgs["Beta Health"])]


def test_a_tab_whose_session_ended_gets_nothing_while_the_others_share_their_read(world):
    tabs = open_tabs(DashboardState, world.supervisor, "/dashboard", 4)
    ended = tabs[2]
    before = list(ended.org_rows)
    with session_scope() as session:
        for web_session in session.exec(select(WebSession)).all():
            if web_session.id_hash == _hash_of_tab(ended):
                web_session.revoked_at = utcnow()
                session.add(web_session)
    add_request(world, org="Alpha Clinic", first="Nell", last="Newest")

    reads_before = live.SESSIONS.reads
    actors = wake_all(tabs, everything_changed(301))

    assert live.SESSIONS.reads == reads_before + 1, "the four sessions should be checked together"
    assert actors[2] is None and all(actors[i] is not None for i in (0, 1, 3))
    assert ended.org_rows == before, "the signed-out tab received new rows"


def _hash_of_tab(tab) -> str:
    from immtrax_portal.auth.sessions import session_hash_from_cookie_header
    return session_hash_from_cookie_header(tab.router.headers.cookie)


def test_the_staff_queue_default_page_is_one_read_for_every_staff_member_but_mine_is_each_ones(world):
    with session_scope() as session:
        other = Person(email="sid.staff@mt.example", first_name="Sid", last_name="Staffer", is_staff=True)
        session.add(other)
        session.flush()
        other_staff = other.id
    default = (open_tabs(StaffQueueState, world.staff, "/staff/queue", 3)
               + open_tabs(StaffQueueState, other_staff, "/staff/queue", 3))
    add_request(world, org="Zeta Pharmacy", first="Zed", last="Zetaone", status=RequestStatus.SUBMITTED)

    reads_before = live.VIEWS.reads
    wake_all(default, everything_changed(401))
    # one queue read, and one caller read per person
    assert live.VIEWS.reads - reads_before == 1 + 2
    assert len({tuple(r["number"] for r in tab.rows) for tab in default}) == 1
    mine = open_tabs(StaffQueueState, world.staff, "/staff/queue?owner=mine", 1)
    theirs = open_tabs(StaffQueueState, other_staff, "/staff/queue?owner=mine", 1)
    reads_before = live.VIEWS.reads
    wake_all(mine + theirs, everything_changed(402))
    assert live.VIEWS.reads - reads_before == 2 + 2, "each one's own 'Mine' is a view of its own"
    labels = {c["label"] for c in theirs[0].staff_choices}
    assert "Sid Staffer (me)" in labels and "Stella Staffer (me)" not in labels
