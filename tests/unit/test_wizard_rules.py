"""The wizard's rules (services.wizard.answers and .steps), called as plain Python: no Reflex, no database."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest

from immtrax_portal.domain.enums import RequestType
from immtrax_portal.services.wizard.answers import (
    LIMITS,
    NAMES,
    NEW_PERSON,
    QUESTIONS,
    TYPED,
    Answers,
    RequestDraft,
    accepts,
    resumed,
)
from immtrax_portal.services.wizard.flow import View, derived
from immtrax_portal.services.wizard.steps import (
    REGISTRY,
    REVIEW_STEP,
    draft_problems,
    reachable_step,
    rechecked,
    recommended_level,
    same_level_problem,
    step_after,
    step_of_problems,
    step_problems,
    step_title,
)

TODAY = date.today()
NORA = Answers(organization_id="7", request_type="new_access", first_name="Nora", last_name="Newhire",
               email="nora@clinic.example", phone="406-555-0142", job_title="Nurse",
               start_date=TODAY.isoformat(), access_level="read_only_consent")
ANA_LEVEL_CHANGE = Answers(organization_id="7", request_type="permissions_change", subject_person_id="3",
                           access_level="record_maintenance", note="Now gives vaccines")


def no_registry_findings() -> dict[str, str]:
    return {}


# --- The answers ----------------------------------------------------------------------------------


def test_the_wizard_services_load_without_reflex():
    code = ("import sys, immtrax_portal.services.wizard.answers, immtrax_portal.services.wizard.steps, "
            "immtrax_portal.services.wizard.registry, immtrax_portal.services.wizard.flow; "
            "sys.exit('reflex' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_every_answer_has_one_limit_and_the_typed_ones_are_the_free_text_fields():
    assert set(LIMITS) == set(NAMES)
    assert NEW_PERSON == ("first_name", "last_name", "email", "phone", "job_title", "start_date")
    assert TYPED == (*NEW_PERSON, "last_day", "access_ends_on", "note")
    assert QUESTIONS == ("q_inventory", "q_records", "q_lookup")
    assert (LIMITS["email"], LIMITS["note"], LIMITS["first_name"]) == (254, 2000, 100)


def test_answers_from_a_mapping_keep_known_text_cut_to_its_limit():
    answers = Answers.from_mapping({"first_name": "N" * 500, "note": "x" * 9000, "is_admin": "yes",
                                    "email": ["a@b.c"], "step": "3"})
    assert answers.first_name == "N" * 100 and len(answers.note) == 2000
    assert answers.email == "" and not hasattr(answers, "is_admin")
    assert Answers.from_mapping(["first_name"]) == Answers()


def test_typed_form_fields_replace_only_typed_answers():
    answers = NORA.with_typed({"first_name": "Nina", "organization_id": "99", "access_level": "x",
                               "email": 5, "note": "n" * 3000})
    assert answers.first_name == "Nina" and len(answers.note) == 2000
    assert (answers.organization_id, answers.access_level, answers.email) == ("7", "read_only_consent",
                                                                             "nora@clinic.example")
    assert NORA.with_typed("not a form") == NORA


@pytest.mark.parametrize(("name", "value", "accepted"), [
    ("request_type", "change_employer", True), ("request_type", "is_admin", False),
    ("access_level", "vaccine_management", True), ("access_level", "", False),
    ("deletion_reason", "left_employment", True), ("q_records", "yes", True), ("q_records", "maybe", False),
    ("first_name", "Nora", False), ("organization_id", "7", False), ("nonsense", "yes", False),
    ("request_type", ["new_access"], False), ("request_type", {"a": 1}, False),
])
def test_a_choice_accepts_only_its_own_options(name, value, accepted):
    assert accepts(name, value) is accepted


def test_the_request_draft_holds_only_what_its_type_asks_for():
    assert NORA.request_draft() == RequestDraft(
        organization_id=7, request_type=RequestType.NEW_ACCESS, first_name="Nora", last_name="Newhire",
        email="nora@clinic.example", phone="406-555-0142", job_title="Nurse",
        start_date=TODAY.isoformat(), access_level="read_only_consent")
    deletion = Answers(organization_id="7", request_type="access_deletion", first_name="Left over",
                       subject_person_id="3", access_level="vaccine_management",
                       deletion_reason="left_employment", last_day=TODAY.isoformat())
    draft = deletion.request_draft()
    assert (draft.first_name, draft.access_level, draft.subject_person_id) == ("", "", 3)
    assert draft.deletion_reason == "left_employment"
    assert NORA.with_answer("subject_person_id", "3").request_draft().subject_person_id is None


@pytest.mark.parametrize("answers", [Answers(), Answers(organization_id="7"),
                                     Answers(request_type="new_access"),
                                     Answers(organization_id="²", request_type="new_access")])
def test_no_request_draft_before_the_organization_and_the_type_are_chosen(answers):
    assert answers.request_draft() is None


def test_a_resumed_draft_keeps_only_an_organization_the_supervisor_still_has():
    saved = {"organization_id": "9", "request_type": "nonsense", "first_name": "Nora"}
    assert resumed(saved, ["7"]).organization_id == "7"          # their only organization
    assert resumed(saved, ["7", "8"]).organization_id == ""       # several: they choose again
    assert resumed({**saved, "organization_id": "8"}, ["7", "8"]).organization_id == "8"
    assert resumed(saved, ["7"]).request_type == "" and resumed(saved, ["7"]).first_name == "Nora"


# --- The steps ------------------------------------------------------------------------------------


def test_step_one_needs_an_organization_and_a_type():
    assert set(step_problems(Answers(), 1)) == {"organization_id", "request_type"}
    assert step_problems(NORA, 1) == {}


def test_step_two_lists_every_wrong_field_of_the_person_and_nothing_of_step_three():
    wrong = NORA.with_answer("first_name", "N0ra").with_answer("email", "nora@").with_answer(
        "access_level", "")
    assert set(step_problems(wrong, 2)) == {"first_name", "email"}
    assert set(step_problems(wrong, 3)) == {"access_level"}


def test_asking_for_the_level_a_user_already_has_is_a_problem_of_step_three():
    assert step_problems(ANA_LEVEL_CHANGE, 3, current_level="read_only_consent") == {}
    problems = step_problems(ANA_LEVEL_CHANGE, 3, current_level="record_maintenance")
    assert problems == {"access_level": "They already have Record Maintenance. Choose another level."}
    assert same_level_problem(RequestType.NEW_ACCESS, "record_maintenance", "record_maintenance") is None


def test_the_draft_rules_are_the_ones_a_submission_runs():
    draft = ANA_LEVEL_CHANGE.with_answer("note", "").request_draft()
    assert set(draft_problems(draft, TODAY)) == {"note"}
    far = Answers(organization_id="7", request_type="access_deletion", subject_person_id="3",
                  deletion_reason="left_employment", last_day=(TODAY + timedelta(days=91)).isoformat())
    assert set(draft_problems(far.request_draft(), TODAY)) == {"last_day"}


def test_a_corrected_field_is_checked_again_and_others_stay_as_shown():
    errors = {"first_name": "old message", "email": "old message"}
    assert rechecked(errors, NORA, "first_name") == {"email": "old message"}
    assert rechecked(errors, NORA.with_answer("first_name", "N0ra"), "first_name")["first_name"].startswith(
        "Enter the first name using letters")
    assert rechecked({"email": "x"}, NORA, "phone") == {"email": "x"}  # never shown: stays quiet


def test_a_saved_step_is_reached_only_if_every_step_before_it_holds():
    assert reachable_step(NORA, 4, "", no_registry_findings) == 4
    assert reachable_step(NORA.with_answer("email", ""), 4, "", no_registry_findings) == 2
    assert reachable_step(NORA, 4, "", lambda: {REGISTRY: "has access here"}) == 2
    assert reachable_step(NORA, 99, "", no_registry_findings) == REVIEW_STEP
    assert reachable_step(Answers(), 0, "", no_registry_findings) == 1


def test_the_registry_is_asked_only_once_steps_one_and_two_hold():
    asked = []
    reachable_step(NORA.with_answer("phone", "123"), 4, "", lambda: asked.append(1) or {})
    assert asked == []


def test_continue_goes_back_to_the_review_when_the_supervisor_came_from_there():
    assert step_after(NORA, 2, "", back_to_review=False) == 3
    assert step_after(NORA, 2, "", back_to_review=True) == REVIEW_STEP
    assert step_after(NORA.with_answer("access_level", ""), 2, "", back_to_review=True) == 3
    assert step_after(NORA, 1, "", back_to_review=True) == 2


def test_a_refused_field_leads_to_the_first_step_that_shows_it():
    assert step_of_problems({"access_level": "x", "email": "y"}) == 2
    assert step_of_problems({"organization_id": "x"}) == 1
    assert step_of_problems({REGISTRY: "x"}) == 2
    assert step_of_problems({}) == REVIEW_STEP


def test_step_titles_follow_the_request_type():
    assert step_title(2, "permissions_change") == "Choose the user"
    assert step_title(2, "new_access") == "The person"
    assert step_title(3, "access_deletion") == "Reason and last day"
    assert step_title(9, "new_access") == ""


@pytest.mark.parametrize(("answers", "level"), [
    (("yes", "yes", "yes"), "vaccine_management"),
    (("no", "yes", "yes"), "record_maintenance"),
    (("no", "no", "yes"), "read_only_consent"),
    (("no", "no", "no"), ""),
])
def test_the_recommendation_is_the_least_level_that_fits(answers, level):
    assert recommended_level(*answers) == level


def test_what_the_page_derives_follows_the_view():
    view = View(answers=ANA_LEVEL_CHANGE.with_answer("q_records", "yes"), step=3,
                subject_level="read_only_consent",
                organizations=[{"id": "7", "name": "Alpha Clinic"}, {"id": "8", "name": "Beta Health"}])
    shown = derived(view)
    assert shown["is_roster_type"] and not shown["is_deletion"] and shown["has_several_organizations"]
    assert (shown["type_label"], shown["organization_name"]) == ("User Permissions Change", "Alpha Clinic")
    assert (shown["access_level_label"], shown["subject_level_label"]) == ("Record Maintenance",
                                                                           "Read Only with Consent")
    assert (shown["recommended"], shown["recommended_label"]) == ("record_maintenance", "Record Maintenance")
    assert (shown["step_heading"], shown["third_step_title"]) == ("Access level", "Access level")
    fresh = derived(View())
    assert fresh["type_label"] == "" and fresh["step_heading"] == "Organization and request type"
