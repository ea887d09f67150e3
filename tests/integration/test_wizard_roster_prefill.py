"""The roster's "Change level" and "Remove access" open the wizard with the person chosen, but only
when the wizard's own on_load finds the organization and the person on the caller's roster."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AuditEvent
from immtrax_portal.services import drafts
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.wizard import WizardState
from tests.integration.test_wizard_handlers import CHROME, cookie_for
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import build_world


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield build_world()


def wizard_at(person_id: int, url: str) -> WizardState:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(WizardState.get_full_name().split(".")[1:])
    router_data = {"headers": {"cookie": cookie_for(person_id), "user-agent": CHROME,
                               "origin": "http://localhost:3000"},
                   "pathname": routes.WIZARD, "asPath": url, "ip": "203.0.113.5",
                   "token": "tab-token", "sid": "sid"}
    root.router_data = router_data
    root.router = RouterData.from_router_data(router_data)
    answer = state.open_wizard()
    # Nothing refused; the address is made to name the step shown (the link's parameters used up).
    assert answer is None or "/requests/new?step=" in str(answer), answer
    return state


def test_change_level_opens_the_wizard_with_the_person_chosen_at_the_level_step(world):
    ana = world.user("ana.lopez@alpha.example")
    state = wizard_at(world.sam, routes.wizard_prefill_url("permissions_change", world.alpha, ana))
    assert (state.request_type, state.organization_id, state.subject_person_id) == (
        "permissions_change", str(world.alpha), str(ana))
    assert state.subject_name == "Ana Lopez"
    assert state.step == 3
    assert drafts.load_draft(world.sam)["subject_person_id"] == str(ana)


def test_remove_access_opens_the_deletion_with_the_person_chosen(world):
    ben = world.user("ben.ortiz@alpha.example")
    state = wizard_at(world.sam, routes.wizard_prefill_url("access_deletion", world.alpha, ben))
    assert state.request_type == "access_deletion" and state.subject_name == "Ben Ortiz"
    assert state.step == 3 and state.is_deletion


def test_reloading_the_prefilled_wizard_keeps_what_was_entered_since(world):
    ana = world.user("ana.lopez@alpha.example")
    url = routes.wizard_prefill_url("permissions_change", world.alpha, ana)
    state = wizard_at(world.sam, url)
    state.choose_level("vaccine_management")
    again = wizard_at(world.sam, url)
    assert again.access_level == "vaccine_management" and again.step == 3


@pytest.mark.parametrize("which", ["foreign organization", "foreign person", "inactive grant", "self",
                                   "bad type", "not a number"])
def test_an_invalid_or_foreign_prefill_opens_the_normal_wizard(world, which):
    dora, carla = world.user("dora.beta@beta.example"), world.user("carla.diaz@alpha.example")
    url = {
        "foreign organization": routes.wizard_prefill_url("permissions_change", world.beta, dora),
        "foreign person": routes.wizard_prefill_url("permissions_change", world.alpha, dora),
        "inactive grant": routes.wizard_prefill_url("access_deletion", world.alpha, carla),
        "self": routes.wizard_prefill_url("access_deletion", world.alpha, world.sam),
        "bad type": routes.wizard_prefill_url("new_access", world.alpha,
                                              world.user("ana.lopez@alpha.example")),
        "not a number": f"{routes.WIZARD}?type=access_deletion&org={world.alpha}&person=1%20OR%201",
    }[which]
    state = wizard_at(world.sam, url)
    assert state.step == 1 and state.subject_person_id == "" and state.request_type == ""
    assert "dora" not in state.subject_name.lower()
    assert drafts.load_draft(world.sam).get("subject_person_id") is None


def test_a_foreign_organization_in_the_link_is_recorded_as_refused(world):
    wizard_at(world.sam, routes.wizard_prefill_url("permissions_change", world.beta,
                                                   world.user("dora.beta@beta.example")))
    with session_scope() as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert [e.action for e in refused] == ["wizard.start_from_roster"]
