""" "Same level as a colleague" on the wizard's level step: picking someone on the roster suggests
their level and says why, but the three least-privilege questions still decide; never a blind copy."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AuditEvent
from immtrax_portal.services import drafts
from immtrax_portal.ui.state.wizard import WizardState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import state_as
from tests.support.wizard_world import build_world, in_days


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield build_world()


def at_level_step(person_id: int) -> WizardState:
    state = state_as(WizardState, person_id, path="/requests/new")
    state.open_wizard()
    state.choose_type("new_access")
    state.continue_step({})
    for name, value in {
        "first_name": "Nora",
        "last_name": "Newhire",
        "email": "nora.newhire@alpha.example",
        "phone": "406-555-0142",
        "job_title": "Nurse",
        "start_date": in_days(3),
    }.items():
        state.set_field(name, value)
    state.continue_step({})
    assert state.step == 3
    return state


def denials() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)))


def test_the_level_step_lists_the_organizations_people_but_not_the_supervisor(world):
    state = at_level_step(world.sam)
    labels = [m["label"] for m in state.colleague_matches]
    assert labels == ["Ana Lopez (Record Maintenance)", "Ben Ortiz (Read Only with Consent)"]
    state.search_colleagues("ben")
    assert [m["label"] for m in state.colleague_matches] == ["Ben Ortiz (Read Only with Consent)"]


def test_picking_a_colleague_suggests_their_level_and_says_why_but_chooses_nothing(world):
    state = at_level_step(world.sam)
    state.choose_colleague(str(world.user("ana.lopez@alpha.example")))
    assert state.colleague_name == "Ana Lopez" and state.colleague_level == "record_maintenance"
    assert state.access_level == ""
    assert "Ana Lopez has Record Maintenance" in state.colleague_note
    assert "follows from the answers" in state.colleague_note


def test_the_questions_must_be_answered_before_a_colleagues_level_is_taken(world):
    state = at_level_step(world.sam)
    state.choose_colleague(str(world.user("ana.lopez@alpha.example")))
    state.choose_level("record_maintenance")
    state.continue_step({})
    assert state.step == 3 and "Answer the three questions" in state.errors["access_level"]


def test_a_colleagues_higher_level_is_refused_when_the_answers_need_less(world):
    state = at_level_step(world.sam)
    state.choose_colleague(str(world.user("ana.lopez@alpha.example")))
    state.answer_question("q_lookup", "yes")
    assert (
        "need only Read Only with Consent, less than Ana Lopez's Record Maintenance" in state.colleague_note
    )
    state.choose_level("record_maintenance")
    state.continue_step({})
    assert state.step == 3 and "need only Read Only with Consent" in state.errors["access_level"]
    state.use_recommended_level()
    state.continue_step({})
    assert state.step == 4 and state.access_level == "read_only_consent"


def test_answers_that_fit_the_colleague_lead_to_their_level(world):
    state = at_level_step(world.sam)
    state.choose_colleague(str(world.user("ana.lopez@alpha.example")))
    state.answer_question("q_records", "yes")
    assert state.colleague_note.startswith("Your answers fit Ana Lopez's level, Record Maintenance")
    state.use_recommended_level()
    state.continue_step({})
    assert state.step == 4 and state.access_level == "record_maintenance"


@pytest.mark.parametrize("forged", ["dora.beta@beta.example", "sam"])
def test_a_colleague_from_another_organization_or_oneself_is_refused_and_recorded(world, forged):
    state = at_level_step(world.sam)
    person = world.sam if forged == "sam" else world.user(forged)
    state.choose_colleague(str(person))
    assert state.colleague_person_id == "" and state.colleague_name == ""
    assert [d.action for d in denials()] == ["wizard.choose_colleague"]


def test_the_colleague_is_kept_in_the_draft_and_re_read_from_the_roster(world):
    state = at_level_step(world.sam)
    state.choose_colleague(str(world.user("ana.lopez@alpha.example")))
    assert json.loads(json.dumps(drafts.load_draft(world.sam)))["colleague_person_id"] == str(
        world.user("ana.lopez@alpha.example")
    )
    again = state_as(WizardState, world.sam, path="/requests/new")
    again.open_wizard()
    assert again.step == 3 and again.colleague_name == "Ana Lopez"
    state.choose_colleague("")
    assert state.colleague_person_id == "" and state.colleague_note == ""
