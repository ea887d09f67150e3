"""The wizard's event handlers, called directly as a client would call them, without a browser.

Each state gets a router whose Cookie header carries a real server-side session, so the handlers
re-derive the caller exactly as they do behind the websocket. Swapping the cookie under the same
state is what a replayed tab token presented by another person looks like.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    Person,
    SupervisorLink,
    WizardDraft,
)
from immtrax_portal.services import drafts
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.wizard import answers, flow
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.wizard import WizardState, recommended_level
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import CHROME, SAFARI, cookie_for, run, state_as, use_cookie
from tests.support.wizard_world import build_world, in_days, new_access


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield build_world()


def wizard(person_id: int | None, user_agent: str = CHROME) -> WizardState:
    return state_as(WizardState, person_id, path="/requests/new", user_agent=user_agent)


def opened(person_id: int, user_agent: str = CHROME) -> WizardState:
    """The wizard opened by its supervisor: nothing refused; at most the address is made to name
    the step shown (``/requests/new?step=N``, so the browser's Back button has steps to go to)."""
    state = wizard(person_id, user_agent)
    answer = state.open_wizard()
    assert answer is None or "/requests/new?step=" in str(answer), answer
    assert not isinstance(answer, list) or None not in answer  # Reflex refuses a None in a list
    assert "not-allowed" not in str(answer) and "sign-in" not in str(answer)
    return state


def fill_new_person(state: WizardState, email: str = "nora.newhire@alpha.example") -> None:
    for name, value in {"first_name": "Nora", "last_name": "Newhire", "email": email,
                        "phone": "406-555-0142", "job_title": "Nurse", "start_date": in_days(3)}.items():
        state.set_field(name, value)


def at_review(state: WizardState) -> WizardState:
    """Through steps 1 to 3 with a New Access for Nora Newhire, to the review step."""
    state.choose_type("new_access")
    state.continue_step({})
    fill_new_person(state)
    state.continue_step({})
    state.choose_level("read_only_consent")
    state.continue_step({})
    return state


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def denials() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)))


# --- Opening the page -----------------------------------------------------------------------------


def test_someone_signed_out_is_sent_to_sign_in(world):
    event = wizard(None).open_wizard()
    assert "sign-in" in json.dumps(event.args if hasattr(event, "args") else str(event), default=str)


def test_someone_who_supervises_nothing_is_not_allowed(world):
    event = wizard(world.user("ana.lopez@alpha.example")).open_wizard()
    assert "not-allowed" in str(event)
    assert [(d.action, json.loads(d.details).get("path")) for d in denials()] == [
        ("open_page", "/requests/new")]


def test_a_supervisor_of_one_organization_has_it_chosen_and_sees_only_it(world):
    state = opened(world.sam)
    assert state.organizations == [{"id": str(world.alpha), "name": "Alpha Clinic"}]
    assert state.organization_id == str(world.alpha)
    assert state.step == 1 and state.loaded


def test_the_idempotency_key_is_never_sent_to_the_browser(world):
    state = opened(world.sam)
    state.choose_type("access_deletion")
    state.continue_step({})
    state.choose_person(str(world.user("ana.lopez@alpha.example")))
    state.continue_step({})
    state.choose_deletion_reason("left_employment")
    state.set_field("last_day", in_days(0))
    state.continue_step({})
    key = drafts.load_draft(world.sam)["idempotency_key"]
    assert state._idempotency_key == key
    sent = json.dumps(state._get_root_state().dict(), default=str)
    assert "Ana Lopez" in sent
    assert key not in sent and "idempotency" not in sent


def test_the_state_shows_every_answer_of_the_answers_model_as_text(world):
    assert {name: WizardState.base_vars[name]._var_type for name in answers.NAMES} == dict.fromkeys(
        answers.NAMES, str)


def test_the_state_has_a_browser_var_for_everything_the_wizard_shows(world):
    shown = {*flow.SHOWN, *flow.derived(flow.View())}
    assert shown <= set(WizardState.base_vars) and not any(name.startswith("_") for name in shown)


# --- A whole request through the handlers ---------------------------------------------------------


def test_a_new_access_request_goes_from_step_one_to_the_confirmation(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    assert state.step == 2
    fill_new_person(state)
    state.continue_step({})
    assert state.step == 3 and state.errors == {}
    state.answer_question("q_records", "yes")
    assert state.recommended == "record_maintenance"
    state.use_recommended_level()
    state.continue_step({})
    assert state.step == 4
    key = drafts.load_draft(world.sam)["idempotency_key"]
    assert len(key) >= 24
    run(state.submit())
    assert state.step == 5
    assert state.submitted_number.startswith("IMR-")
    assert state.submitted_steps[0].startswith("The new user receives an email invitation")
    with session_scope() as session:
        request = session.exec(select(AccessRequest)).one()
    assert request.idempotency_key == key
    assert request.status == RequestStatus.AWAITING_AGREEMENT
    assert drafts.load_draft(world.sam) == {}


def test_submitting_twice_makes_one_request(world):
    state = at_review(opened(world.sam))
    run(state.submit())
    run(state.submit())
    assert count(AccessRequest) == 1


def test_a_resent_submit_after_a_lost_reply_finds_the_same_request(world):
    """The reply to the first submit never arrived; the draft (and its key) are still there."""
    state = at_review(opened(world.sam))
    key = drafts.load_draft(world.sam)["idempotency_key"]
    first = submit_request(world.sam, new_access(world.alpha, "nora.newhire@alpha.example",
                                                 access_level="read_only_consent"), key)
    run(state.submit())
    assert state.submitted_number == first.number
    assert count(AccessRequest) == 1


def test_a_failed_submit_keeps_the_draft_and_its_key_and_can_be_retried(world, monkeypatch):
    state = at_review(opened(world.sam))
    key = drafts.load_draft(world.sam)["idempotency_key"]

    def database_down(*_args, **_kwargs):
        raise RuntimeError("database unavailable")

    with monkeypatch.context() as patched:
        patched.setattr("immtrax_portal.ui.state.wizard.submit_request", database_down)
        run(state.submit())
    assert state.step == 4 and not state.submitting
    assert "could not be submitted" in state.notice
    assert drafts.load_draft(world.sam)["idempotency_key"] == key
    run(state.submit())
    assert state.step == 5 and count(AccessRequest) == 1


@pytest.mark.parametrize(("last_day", "active_after"), [(0, 0), (1, 1)])
def test_an_access_deletion_suspends_the_grant_at_once_or_keeps_it_until_a_later_last_day(
        world, last_day, active_after):
    ben = world.user("ben.ortiz@alpha.example")
    state = opened(world.sam)
    state.choose_type("access_deletion")
    state.continue_step({})
    assert [m["full_name"] for m in state.roster_matches] == ["Ana Lopez", "Ben Ortiz"]
    state.choose_person(str(ben))
    state.continue_step({})
    state.choose_deletion_reason("changed_position")
    state.set_field("last_day", in_days(last_day))
    state.continue_step({})
    run(state.submit())
    assert state.step == 5
    # A last day of today ends access now; a later one at the end of that day (access_ends).
    assert count(Grant, Grant.person_id == ben, Grant.active) == active_after


# --- Validation -----------------------------------------------------------------------------------


def test_continue_with_wrong_fields_stays_and_lists_every_problem(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    state.continue_step({"first_name": "N0ra", "email": "nora@", "phone": "123",
                         "start_date": in_days(-31)})
    assert state.step == 2
    assert set(state.errors) == {"first_name", "last_name", "email", "phone", "job_title", "start_date"}
    state.set_field("email", "nora.newhire@alpha.example")
    assert "email" not in state.errors  # corrected fields clear as the supervisor types


def test_the_form_data_of_continue_counts_even_before_the_debounced_typing_arrives(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    state.continue_step({"first_name": "Nora", "last_name": "Newhire", "email": "nora@alpha.example",
                         "phone": "(406) 555-0142", "job_title": "Nurse", "start_date": in_days(0),
                         "is_admin": True})
    assert state.step == 3


def test_unknown_fields_and_non_text_values_are_ignored(world):
    state = opened(world.sam)
    state.set_field("organization_id", str(world.beta))
    state.set_field("_idempotency_key", "x" * 30)
    state.set_field("first_name", {"$gt": ""})
    state.set_field("note", "n" * 5000)
    assert state.organization_id == str(world.alpha)
    assert state.first_name == ""
    assert len(state.note) == 2000
    assert "idempotency_key" not in drafts.load_draft(world.sam)


# --- The registry ---------------------------------------------------------------------------------


def _at_step_two_with(state: WizardState, email: str, request_type: str = "new_access") -> None:
    state.choose_type(request_type)
    state.continue_step({})
    fill_new_person(state, email)
    state.continue_step({})


def test_access_elsewhere_offers_change_employer_and_one_click_switches(world):
    state = opened(world.sam)
    _at_step_two_with(state, "dora.beta@beta.example")
    assert state.step == 2
    assert state.advice_type == "change_employer"
    assert "another organization" in state.advice_message
    assert "registry" in state.errors
    next_event = state.switch_type("change_employer")
    assert state.request_type == "change_employer"
    state.continue_step({})  # what the returned event does
    assert next_event is not None and state.step == 3


def sent_to_browser(state: WizardState) -> str:
    """Every var of the tab as Reflex sends it to the browser (backend-only vars are left out)."""
    return json.dumps(state._get_root_state().dict(), default=str)


def test_access_elsewhere_never_tells_the_supervisor_which_organization_it_is(world):
    state = opened(world.sam)
    _at_step_two_with(state, "dora.beta@beta.example")
    assert state.advice_type == "change_employer"
    assert "Beta Health" not in sent_to_browser(state) and "BETA-2" not in sent_to_browser(state)
    state.switch_type("change_employer")
    state.continue_step({})
    state.choose_level("read_only_consent")
    state.continue_step({})
    assert state.step == 4
    assert "Beta Health" not in sent_to_browser(state)
    run(state.submit())
    assert state.step == 5
    assert "Beta Health" not in sent_to_browser(state)


def test_a_submission_refused_by_the_registry_does_not_name_the_organization_either(world):
    state = at_review(opened(world.sam))
    assert state.step == 4
    # Between the review and the submit, Nora is given access at Beta Health.
    with session_scope() as session:
        nora = Person(email="nora.newhire@alpha.example", first_name="Nora", last_name="Newhire")
        session.add(nora)
        session.flush()
        session.add(Grant(person_id=nora.id, organization_id=world.beta, access_level="read_only_consent"))
    run(state.submit())
    assert state.step == 2 and state.advice_type == "change_employer"
    assert "another organization" in state.advice_message
    assert "Beta Health" not in sent_to_browser(state)


def test_every_registry_look_up_is_audited_with_who_asked_about_which_email(world):
    state = opened(world.sam)
    _at_step_two_with(state, "Dora.Beta@beta.example")
    with session_scope() as session:
        [lookup] = session.exec(select(AuditEvent).where(AuditEvent.action == "wizard.registry_lookup")).all()
    assert (lookup.actor_id, lookup.outcome) == (world.sam, AuditOutcome.SUCCESS)
    assert json.loads(lookup.details)["email"] == "dora.beta@beta.example"
    assert json.loads(lookup.details)["suggested_type"] == "change_employer"


def test_registry_look_ups_are_limited_per_supervisor_with_a_clear_message(world, monkeypatch):
    monkeypatch.setenv("IMMTRAX_RATE_LIMIT_REGISTRY_LOOKUP_PER_PERSON", "2")
    get_settings.cache_clear()
    try:
        state = opened(world.sam)
        state.choose_type("new_access")
        state.continue_step({})
        fill_new_person(state, "someone.one@elsewhere.example")
        state.continue_step({})
        assert state.step == 3
        state.go_back()
        state.continue_step({"email": "someone.two@elsewhere.example"})
        assert state.step == 3
        state.go_back()
        state.continue_step({"email": "dora.beta@beta.example"})
        assert state.step == 2
        assert "Too many look-ups of people in the registry from your account" in state.errors["registry"]
        assert state.advice_type == ""  # the third look-up was not made
        assert [d.action for d in denials()] == ["rate_limited:registry_lookup"]
        other = opened(world.tess)  # another supervisor has a count of their own
        _at_step_two_with(other, "ana.lopez@alpha.example")
        assert other.advice_type == "change_employer"
    finally:
        get_settings.cache_clear()


def test_access_here_offers_a_permissions_change_for_that_user(world):
    state = opened(world.sam)
    _at_step_two_with(state, "ana.lopez@alpha.example")
    assert state.advice_type == "permissions_change"
    state.switch_type("permissions_change")
    state.continue_step({})
    assert state.request_type == "permissions_change"
    assert state.subject_name == "Ana Lopez"
    assert state.step == 3


def test_an_open_request_is_refused_with_a_link_to_it(world):
    first = submit_request(world.sam, new_access(world.alpha, "nora.newhire@alpha.example"),
                           "an-earlier-key-000000001")
    state = opened(world.sam)
    _at_step_two_with(state, "nora.newhire@alpha.example")
    assert state.step == 2
    assert state.advice_request_number == first.number
    assert state.advice_request_link.endswith(first.number)


def test_a_supervisor_cannot_make_a_request_about_themselves(world):
    state = opened(world.sam)
    _at_step_two_with(state, "Sam.Supervisor@alpha.example")
    assert state.step == 2
    assert "your own access" in state.errors["email"]


# --- Permissions on every handler -----------------------------------------------------------------


def test_choosing_an_organization_one_does_not_supervise_is_refused_and_audited(world):
    state = opened(world.sam)
    state.choose_organization(str(world.beta))
    assert state.organization_id == str(world.alpha)
    assert "not registered as a supervisor" in state.notice
    assert [d.action for d in denials()] == ["wizard.choose_organization"]


def test_a_roster_pick_from_another_organization_is_refused(world):
    state = opened(world.sam)
    state.choose_type("permissions_change")
    state.continue_step({})
    state.choose_person(str(world.user("dora.beta@beta.example")))
    assert state.subject_person_id == ""
    assert "subject_person_id" in state.errors
    state.search_people("dora")
    assert state.roster_matches == []


# Every public handler of the wizard with harmless arguments, as a forged client would call it.
CALLS = {
    "open_wizard": (), "choose_organization": ("1",), "choose_type": ("new_access",),
    "set_field": ("first_name", "Nora"), "search_people": ("a",), "search_form": ({"roster_query": "a"},),
    "choose_person": ("3",), "switch_type": ("change_employer",), "choose_level": ("record_maintenance",),
    "answer_question": ("q_records", "yes"), "use_recommended_level": (),
    "choose_deletion_reason": ("left_employment",), "continue_step": ({},), "go_back": (), "edit_step": (1,),
    "submit": (), "ask_to_cancel": (), "keep_editing": (), "cancel_request": (), "start_over": (),
    "search_colleagues": ("a",), "choose_colleague": ("3",),
}


def test_the_list_of_calls_is_every_handler_of_the_wizard():
    assert set(CALLS) == set(WizardState.event_handlers) - set(BrowserGateState.event_handlers)


def call(state: WizardState, handler: str, *args):
    return run(getattr(state, handler)(*(args or CALLS[handler])))


@pytest.mark.parametrize("caller", ["signed out", "not a supervisor"])
@pytest.mark.parametrize("handler", sorted(CALLS))
def test_every_refused_call_leaves_exactly_one_denial(world, caller, handler):
    person = None if caller == "signed out" else world.user("ana.lopez@alpha.example")
    before = len(denials())
    call(wizard(person), handler)
    assert len(denials()) == before + 1


@pytest.mark.parametrize("forged", [lambda w: w.user("dora.beta@beta.example"),       # another organization's
                                    lambda w: str(w.user("dora.beta@beta.example")),
                                    lambda w: w.sam, lambda w: str(w.sam)])             # oneself
def test_a_forged_roster_pick_by_number_or_text_is_refused_with_one_denial(world, forged):
    state = opened(world.sam)
    state.choose_type("permissions_change")
    state.continue_step({})
    before = len(denials())
    state.choose_person(forged(world))
    assert state.subject_person_id == "" and "subject_person_id" in state.errors
    assert [d.action for d in denials()[before:]] == ["wizard.choose_person"]


def test_another_organization_by_number_is_refused_with_one_denial(world):
    state = opened(world.sam)
    state.choose_organization(world.beta)
    assert state.organization_id == str(world.alpha)
    assert [d.action for d in denials()] == ["wizard.choose_organization"]


def test_a_draft_for_an_organization_no_longer_supervised_is_refused_once_per_call(world):
    with session_scope() as session:
        session.add(SupervisorLink(person_id=world.sam, organization_id=world.beta))
    state = opened(world.sam)
    state.choose_organization(str(world.beta))
    with session_scope() as session:
        link = session.exec(select(SupervisorLink).where(SupervisorLink.person_id == world.sam,
                                                         SupervisorLink.organization_id == world.beta)).one()
        session.delete(link)
    state.set_field("first_name", "Nora")
    assert state.organization_id == "" and "no longer registered" in state.notice
    assert [d.action for d in denials()] == ["wizard.set_field"]


@pytest.mark.parametrize("forged", ["²", "１", "99999999999", "2147483648", "-1", "0", " ", "1e3"])
def test_ids_that_are_not_plain_database_ids_pick_nothing_and_raise_nothing(world, forged):
    state = opened(world.sam)
    state.choose_organization(forged)
    assert state.organization_id == str(world.alpha)
    state.choose_type("permissions_change")
    state.continue_step({})
    state.choose_person(forged)
    assert state.subject_person_id == ""


def test_a_supervisor_removed_mid_draft_can_do_nothing_more_and_it_is_audited(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    with session_scope() as session:
        link = session.exec(select(SupervisorLink).where(SupervisorLink.person_id == world.sam)).one()
        session.delete(link)
    state.set_field("first_name", "Nora")
    assert state.first_name == ""
    assert "supervisors" in state.notice
    assert denials()[-1].action == "wizard.set_field"


def test_an_ended_session_can_do_nothing(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    use_cookie(state, "")
    state.set_field("first_name", "Nora")
    run(state.submit())
    assert state.first_name == ""
    assert "Sign in again" in state.notice
    assert count(AccessRequest) == 0


def test_another_person_presenting_the_same_tab_never_sees_the_first_ones_draft(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.set_field("first_name", "Secret")
    use_cookie(state, cookie_for(world.tess))
    state.set_field("last_name", "Overwrite")
    assert state.first_name == "" and state.last_name == ""
    assert state.organization_id == str(world.beta)
    assert drafts.load_draft(world.sam)["first_name"] == "Secret"
    assert "first_name" not in drafts.load_draft(world.tess)
    assert "last_name" not in drafts.load_draft(world.sam)


# --- Drafts survive -------------------------------------------------------------------------------


def test_the_draft_comes_back_after_a_reload_or_a_restart(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    fill_new_person(state)
    state.continue_step({})
    again = opened(world.sam)  # a brand-new state: nothing kept in memory
    assert again.step == 3
    assert (again.first_name, again.email, again.request_type) == ("Nora", "nora.newhire@alpha.example",
                                                                   "new_access")


def test_a_saved_step_is_only_reached_again_if_the_steps_before_it_still_hold(world):
    drafts.save_draft(world.sam, {"step": "4", "request_type": "new_access", "first_name": "Nora"})
    assert opened(world.sam).step == 2


def test_cancelling_discards_the_draft_and_is_audited(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.set_field("first_name", "Nora")
    state.ask_to_cancel()
    assert state.confirm_cancel
    state.cancel_request()
    assert state.first_name == "" and state.request_type == "" and state.step == 1
    assert count(WizardDraft) == 0
    assert count(AuditEvent, AuditEvent.action == "wizard.cancel") == 1


# --- The browser gate -----------------------------------------------------------------------------


def test_safari_is_blocked_by_the_server_and_the_browser_cannot_lift_it(world):
    state = opened(world.sam, SAFARI)
    assert state.gate_blocked and "Safari" in state.gate_message
    state.note_ipad_as_mac(False)
    assert state.gate_blocked


def test_an_ipad_posing_as_a_mac_is_blocked_when_the_browser_says_so(world):
    state = opened(world.sam)
    assert not state.gate_blocked
    state.note_ipad_as_mac("yes")
    assert not state.gate_blocked
    state.note_ipad_as_mac(True)
    assert state.gate_blocked and state.gate_message.startswith(
        "Your browser says it runs on a Mac, but this device has a touch screen")


def test_the_email_link_carries_the_page_address(world):
    state = opened(world.sam, SAFARI)
    state.start_browser_check()
    assert state.gate_page_url.endswith("/requests/new")
    assert state.gate_mailto.startswith("mailto:?subject=")
    assert "%2Frequests%2Fnew" in state.gate_mailto


@pytest.mark.parametrize(("answers", "level"), [
    (("yes", "yes", "yes"), "vaccine_management"),
    (("no", "yes", "yes"), "record_maintenance"),
    (("no", "no", "yes"), "read_only_consent"),
    (("no", "no", "no"), ""),
    (("", "", ""), ""),
])
def test_the_questions_recommend_the_least_level_that_fits(answers, level):
    assert recommended_level(*answers) == level


def arrive_at_address(state: WizardState, step: int) -> None:
    """The browser's on_load for ``/requests/new?step=N``, sent once the address has changed."""
    use_cookie(state, state.router.headers.cookie, path=f"/requests/new?step={step}")
    run(state.open_wizard())


def test_a_late_on_load_of_the_move_before_a_click_does_not_undo_the_click(world):
    """Continue to the review, then "Edit the person" before the review's address has arrived:
    both on_loads come after the edit, and Continue still returns to the review."""
    state = at_review(opened(world.sam))
    assert state.step == flow.REVIEW_STEP
    state.edit_step(2)
    arrive_at_address(state, flow.REVIEW_STEP)
    arrive_at_address(state, 2)
    assert state.step == 2 and state.return_to_review
    state.set_field("job_title", "Nurse Practitioner")
    state.continue_step({})
    assert state.step == flow.REVIEW_STEP


def test_the_browsers_back_button_still_moves_between_steps(world):
    state = at_review(opened(world.sam))
    for step in (2, 3, flow.REVIEW_STEP):
        arrive_at_address(state, step)  # the on_loads of the moves to each step
    arrive_at_address(state, 3)  # the browser's Back
    assert state.step == 3 and not state.return_to_review


def test_a_tab_state_written_by_another_process_is_read_again_from_the_draft(world, monkeypatch):
    """After a restart (the state file a moment behind) or on another instance, the address's
    on_load reads the draft again instead of trusting what the old process said it showed."""
    from immtrax_portal.ui.state import wizard as wizard_state

    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})   # to step 2: its on_load is still to come
    state.set_field("first_name", "Nora")
    drafts.discard_draft(world.sam)   # what the database holds now: no draft at all
    monkeypatch.setattr(wizard_state, "THIS_PROCESS", "another-process")
    arrive_at_address(state, 2)
    assert state.step == 1 and state.first_name == ""


def test_the_same_address_arriving_twice_does_not_undo_what_happened_in_between(world):
    """A step's address can be loaded twice (the router reports it again): the second load finds
    the draft as the tab shows it, so the form is not drawn anew (a redrawn form drops what is
    being typed into it) and "back to the review" holds."""
    state = at_review(opened(world.sam))
    for step in (2, 3, flow.REVIEW_STEP):
        arrive_at_address(state, step)  # the on_loads of the moves to each step
    state.edit_step(2)
    arrive_at_address(state, 2)
    state.set_field("job_title", "Nurse Practitioner")
    drawn = state.form_revision
    arrive_at_address(state, 2)
    assert state.form_revision == drawn
    assert state.return_to_review and state.job_title == "Nurse Practitioner"
    state.continue_step({})
    assert state.step == flow.REVIEW_STEP


def test_loading_the_step_again_after_another_tab_saved_shows_the_newer_draft(world):
    state = opened(world.sam)
    state.choose_type("new_access")
    state.continue_step({})
    arrive_at_address(state, 2)
    saved = drafts.load_draft(world.sam)
    drafts.save_draft(world.sam, {**saved, "first_name": "Noor"})   # another tab of the same person
    arrive_at_address(state, 2)
    assert state.step == 2 and state.first_name == "Noor"
