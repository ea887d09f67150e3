"""The staff pages' live re-reads, called as the watcher calls them: new rows and tab counts
arrive, and nothing the person is typing into a filter or edit form is redrawn away."""

from __future__ import annotations

import pytest

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.change_feed import Change
from immtrax_portal.ui.state.staff_metrics import StaffMetricsState
from immtrax_portal.ui.state.staff_queue import StaffQueueState
from tests.integration.test_staff_page_handlers import state_for
from tests.support.databases import fresh_database_url, use_database
from tests.support.queue_world import add_request, build_queue_world


@pytest.fixture
def world(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        yield build_queue_world()


CHANGE = [Change(id=1, organization_id=1, request_id=1, action="submit")]


def staff_actor(world):
    with session_scope() as session:
        return load_actor(session, world.staff)


def counts(state) -> dict[str, str]:
    return {tab["key"]: tab["count"] for tab in state.tabs}


def test_the_queue_shows_a_new_request_and_its_count_without_redrawing_the_filters(world):
    state = state_for(StaffQueueState, world.staff, "/staff/queue?q=nora")
    state.load()
    assert state.rows == [] and counts(state)["open"] == "0"
    form_key = state.form_key
    number = add_request(world, first="Nora", last="Newhire", status=RequestStatus.SUBMITTED)
    state._refresh_live(staff_actor(world), CHANGE)
    assert [r["number"] for r in state.rows] == [number]
    assert counts(state)["open"] == "1" and counts(state)["submitted"] == "1"
    assert state.form_key == form_key, "a live update redrew the filter form"


def test_the_metrics_follow_a_new_request(world):
    state = state_for(StaffMetricsState, world.staff, "/staff/metrics")
    state.load()
    before = {row["label"]: int(row["count"]) for row in state.by_status}
    add_request(world, status=RequestStatus.IN_REVIEW)
    state._refresh_live(staff_actor(world), CHANGE)
    after = {row["label"]: int(row["count"]) for row in state.by_status}
    assert after["In review"] == before.get("In review", 0) + 1


def test_the_queue_watches_for_staff_only_and_for_requests_and_organizations(world):
    state = state_for(StaffQueueState, world.staff, "/staff/queue")
    scope = state._live_scope(staff_actor(world))
    assert scope.everything and {k.value for k in scope.shows} == {"requests", "roster"}
    assert state._live_rule().value == "staff"


# --- One organization's page ---------------------------------------------------------------------


@pytest.fixture
def org_world(tmp_path):
    from tests.support.wizard_world import add_staff_member, build_world

    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        world = build_world()
        add_staff_member(world)
        yield world


def test_an_organization_page_shows_a_new_open_request_without_redrawing_its_edit_form(org_world):
    from immtrax_portal.services.requests import submit_request
    from immtrax_portal.ui.state.organizations import OrganizationState
    from tests.integration.test_organization_handlers import state_for as org_state_for
    from tests.support.wizard_world import new_access

    world = org_world
    state = org_state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert "watch_live" in str(state.load()) and state.open_requests == ""
    revision = state.revision
    scope = state._live_scope(staff_actor_of(world.user("staff")))
    assert scope.organization_ids == frozenset({world.alpha}) and not scope.everything
    number = submit_request(world.sam, new_access(world.alpha), "live-org-page-key-0001").number
    state._refresh_live(staff_actor_of(world.user("staff")), CHANGE)
    assert state.open_requests == number
    assert state.revision == revision, "a live update redrew the edit form"


def staff_actor_of(person_id: int):
    with session_scope() as session:
        return load_actor(session, person_id)
