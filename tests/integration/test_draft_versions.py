"""One draft, two tabs: a change made in one tab is never silently overwritten by the other.

Each tab saves only over the draft version it read (compare-and-set); the tab that is behind is
told, and shown the newer draft, and may carry on from there. The handlers are called as the two
tabs' websockets would call them, each tab with its own state but the same signed-in browser.
"""

from __future__ import annotations

import pytest

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AccessRequest
from immtrax_portal.services import drafts
from immtrax_portal.services.wizard import flow
from immtrax_portal.ui.state.wizard import WizardState
from tests.integration.test_wizard_handlers import at_review
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import cookie_for, run, state_as, use_cookie
from tests.support.wizard_world import build_world


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield build_world()


def two_tabs(person_id: int) -> tuple[WizardState, WizardState]:
    """Two tabs of one browser (one session cookie), both showing the wizard."""
    cookie = cookie_for(person_id)
    tabs = []
    for _ in range(2):
        tab = state_as(WizardState, None, path="/requests/new")
        use_cookie(tab, cookie, path="/requests/new")
        tab.open_wizard()
        tabs.append(tab)
    return tabs[0], tabs[1]


# --- The service --------------------------------------------------------------------------------


def test_a_save_over_an_older_version_is_refused_with_the_newer_draft(world):
    first = drafts.save_if_unchanged(world.sam, {"first_name": "Nora"}, draft_id=0, version=0)
    assert first.version == 1
    second = drafts.save_if_unchanged(world.sam, {"first_name": "Nina"}, draft_id=first.draft_id,
                                      version=first.version)
    assert (second.draft_id, second.version) == (first.draft_id, 2)
    with pytest.raises(drafts.DraftChanged) as behind:
        drafts.save_if_unchanged(world.sam, {"first_name": "Nell"}, draft_id=first.draft_id, version=1)
    assert behind.value.newer == second
    assert drafts.load_draft(world.sam) == {"first_name": "Nina"}


def test_a_first_save_finds_a_draft_another_tab_already_started(world):
    started = drafts.save_if_unchanged(world.sam, {"first_name": "Nora"}, draft_id=0, version=0)
    with pytest.raises(drafts.DraftChanged) as behind:
        drafts.save_if_unchanged(world.sam, {"first_name": "Nell"}, draft_id=0, version=0)
    assert behind.value.newer == started


def test_a_draft_discarded_elsewhere_is_reported_gone(world):
    started = drafts.save_if_unchanged(world.sam, {"first_name": "Nora"}, draft_id=0, version=0)
    drafts.discard_draft(world.sam)
    with pytest.raises(drafts.DraftChanged) as behind:
        drafts.save_if_unchanged(world.sam, {"first_name": "Nell"}, draft_id=started.draft_id, version=1)
    assert behind.value.newer == drafts.Draft()


def test_cancelling_a_draft_changed_elsewhere_discards_nothing(world):
    started = drafts.save_if_unchanged(world.sam, {"first_name": "Nora"}, draft_id=0, version=0)
    drafts.save_if_unchanged(world.sam, {"first_name": "Nina"}, draft_id=started.draft_id, version=1)
    with pytest.raises(drafts.DraftChanged):
        drafts.cancel_draft(world.sam, draft_id=started.draft_id, version=1)
    assert drafts.load_draft(world.sam) == {"first_name": "Nina"}


# --- Two tabs -------------------------------------------------------------------------------------


def test_the_tab_that_is_behind_is_told_and_shown_the_newer_draft(world):
    first, second = two_tabs(world.sam)
    first.choose_type("new_access")
    first.continue_step({})
    first.set_field("first_name", "Nora")

    second.choose_type("change_employer")  # this tab still shows the empty draft

    assert second.notice == flow.NEWER_DRAFT
    assert (second.request_type, second.first_name, second.step) == ("new_access", "Nora", 2)
    assert drafts.load_draft(world.sam)["request_type"] == "new_access"
    # Now up to date, the second tab carries on; then the first is the one behind.
    second.set_field("last_name", "Newhire")
    assert second.notice == ""
    first.set_field("job_title", "Nurse")
    assert first.notice == flow.NEWER_DRAFT
    assert (first.last_name, first.job_title) == ("Newhire", "")
    assert drafts.load_draft(world.sam)["last_name"] == "Newhire"
    assert "job_title" not in drafts.load_draft(world.sam)


def test_a_tab_behind_cannot_submit_what_it_does_not_show(world):
    first, second = two_tabs(world.sam)
    at_review(first)
    second.open_wizard()  # the second tab follows to the review step
    first.edit_step(3)
    first.choose_level("record_maintenance")
    first.continue_step({})

    run(second.submit())  # the second tab still shows Read Only

    assert second.notice == flow.NEWER_DRAFT and second.access_level == "record_maintenance"
    with session_scope() as session:
        assert session.query(AccessRequest).count() == 0
    run(second.submit())  # shown the newer draft, it may submit it
    with session_scope() as session:
        assert [r.access_level for r in session.query(AccessRequest)] == ["record_maintenance"]


def test_a_tab_behind_asking_to_discard_discards_nothing(world):
    first, second = two_tabs(world.sam)
    first.choose_type("new_access")
    second.ask_to_cancel()
    second.cancel_request()
    assert second.notice == flow.NEWER_DRAFT and second.request_type == "new_access"
    assert drafts.load_draft(world.sam)["request_type"] == "new_access"


def test_a_draft_submitted_in_one_tab_is_not_made_again_by_the_other(world):
    first, second = two_tabs(world.sam)
    at_review(first)
    second.open_wizard()
    run(first.submit())
    second.set_field("note", "one more thing")
    assert second.notice == flow.DRAFT_GONE
    assert drafts.load_draft(world.sam) == {}
