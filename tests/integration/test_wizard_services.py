"""The wizard's own services: drafts kept on the server, and the roster search."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestType
from immtrax_portal.domain.models import AuditEvent, WizardDraft
from immtrax_portal.services import drafts, roster
from immtrax_portal.services.wizard import registry
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_world(extra_alpha_users=25)


# --- Drafts ---------------------------------------------------------------------------------------


def test_a_saved_draft_comes_back_for_the_same_supervisor(world):
    drafts.save_draft(world.sam, {"step": "2", "request_type": "new_access", "first_name": "Nora"})
    assert drafts.load_draft(world.sam) == {"step": "2", "request_type": "new_access",
                                            "first_name": "Nora"}


def test_saving_again_replaces_the_draft_in_one_row(world):
    drafts.save_draft(world.sam, {"first_name": "Nora"})
    drafts.save_draft(world.sam, {"first_name": "Nina", "last_name": "Newhire"})
    assert drafts.load_draft(world.sam) == {"first_name": "Nina", "last_name": "Newhire"}
    with session_scope() as session:
        assert len(session.exec(select(WizardDraft)).all()) == 1


def test_one_supervisors_draft_is_never_anothers(world):
    drafts.save_draft(world.sam, {"first_name": "Nora"})
    assert drafts.load_draft(world.tess) == {}
    drafts.save_draft(world.tess, {"first_name": "Tina"})
    assert drafts.load_draft(world.sam) == {"first_name": "Nora"}


def test_unknown_keys_and_non_string_values_are_not_stored(world):
    stored = drafts.save_draft(world.sam, {
        "first_name": "Nora", "is_admin": "yes", "supervisor_id": "99", "step": 3,
        "email": ["a@b.c"], "note": {"x": 1}, "__proto__": "x",
    })
    assert stored == {"first_name": "Nora"}
    with session_scope() as session:
        row = session.exec(select(WizardDraft)).one()
        assert json.loads(row.data) == {"first_name": "Nora"}


def test_overlong_values_are_cut_to_their_limit(world):
    stored = drafts.save_draft(world.sam, {"first_name": "N" * 500, "note": "x" * 10_000,
                                           "idempotency_key": "k" * 300})
    assert len(stored["first_name"]) == 100
    assert len(stored["note"]) == 2000
    assert len(stored["idempotency_key"]) == 64


def test_a_draft_that_is_not_a_dict_stores_nothing(world):
    assert drafts.save_draft(world.sam, ["first_name", "Nora"]) == {}  # type: ignore[arg-type]
    assert drafts.load_draft(world.sam) == {}


def test_a_corrupt_stored_draft_reads_as_empty(world):
    drafts.save_draft(world.sam, {"first_name": "Nora"})
    with session_scope() as session:
        row = session.exec(select(WizardDraft)).one()
        row.data = "{not json"
        session.add(row)
    assert drafts.load_draft(world.sam) == {}


def test_discarding_removes_the_draft(world):
    drafts.save_draft(world.sam, {"first_name": "Nora"})
    assert drafts.discard_draft(world.sam) is True
    assert drafts.load_draft(world.sam) == {}
    assert drafts.discard_draft(world.sam) is False


def test_cancelling_discards_the_draft_and_is_audited(world):
    drafts.save_draft(world.sam, {"request_type": "new_access", "organization_id": str(world.alpha)})
    assert drafts.cancel_draft(world.sam, source_ip="203.0.113.9") is True
    assert drafts.load_draft(world.sam) == {}
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "wizard.cancel")).one()
    assert event.actor_id == world.sam
    assert event.outcome == AuditOutcome.SUCCESS
    assert event.source_ip == "203.0.113.9"
    assert json.loads(event.details)["request_type"] == "new_access"


# --- Roster search --------------------------------------------------------------------------------


def test_roster_search_finds_by_part_of_the_name_in_any_case(world):
    names = [entry.full_name for entry in roster.search_roster(world.alpha, "LOP")]
    assert names == ["Ana Lopez"]
    assert [e.full_name for e in roster.search_roster(world.alpha, "ana lo")] == ["Ana Lopez"]


def test_roster_search_finds_by_email(world):
    [entry] = roster.search_roster(world.alpha, "Ben.Ortiz@")
    assert entry.email == "ben.ortiz@alpha.example"
    assert entry.access_level == "read_only_consent"
    assert entry.access_level_label == "Read Only with Consent"
    assert entry.since


def test_roster_search_only_lists_active_grants(world):
    assert roster.search_roster(world.alpha, "carla") == []


def test_roster_search_never_lists_another_organizations_users(world):
    assert roster.search_roster(world.alpha, "dora") == []
    assert roster.search_roster(world.alpha, "beta.example") == []
    beta_names = [e.full_name for e in roster.search_roster(world.beta, "")]
    assert beta_names == ["Dora Beta"]


def test_roster_search_returns_at_most_twenty_ordered_by_last_name(world):
    everyone = roster.search_roster(world.alpha, "")
    assert len(everyone) == roster.MAX_MATCHES == 20
    last_names = [e.full_name.split()[-1] for e in everyone]
    assert last_names == sorted(last_names)
    assert len(roster.search_roster(world.alpha, "alpha.example", limit=500)) == 20


def test_roster_search_treats_like_wildcards_as_text(world):
    assert roster.search_roster(world.alpha, "%") == []
    assert roster.search_roster(world.alpha, "_") == []
    assert len(roster.search_roster(world.alpha, "user0")) == 10


def test_a_roster_entry_is_found_only_at_its_own_organization(world):
    ana = world.user("ana.lopez@alpha.example")
    assert roster.roster_entry(world.alpha, ana).full_name == "Ana Lopez"
    assert roster.roster_entry(world.beta, ana) is None
    assert roster.roster_entry(world.alpha, world.user("carla.diaz@alpha.example")) is None


def test_organization_choices_are_exactly_the_ones_asked_for(world):
    assert roster.organization_choices({world.alpha}) == [(world.alpha, "Alpha Clinic")]
    assert roster.organization_choices(set()) == []


def test_registry_advice_is_available_without_a_database_session(world):
    advice = registry.advice_for_new_person(world.alpha, RequestType.NEW_ACCESS, "Dora.Beta@beta.example")
    assert advice.suggested_type == RequestType.CHANGE_EMPLOYER
    assert registry.open_request_number(world.alpha, world.user("ana.lopez@alpha.example")) is None
