"""What the portal says is plain: no codes, no "new user" for an employee who moves, no "None" for
an empty note, steps named for what they ask, numbers and levels in one form."""

from __future__ import annotations

import pytest

from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.domain.validation import shown_phone
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services.queue import type_text
from immtrax_portal.services.request_actions import ActionInput
from immtrax_portal.services.request_detail import action_problems, confirmation_for
from immtrax_portal.services.requests import next_steps
from immtrax_portal.services.wizard.answers import Answers
from immtrax_portal.services.wizard.flow import View, derived


def test_the_access_deletion_confirmation_names_its_third_step_for_what_it_asked():
    submitted = View(step=5, submitted_type=RequestType.ACCESS_DELETION.value)
    assert derived(submitted)["third_step_title"] == "Reason and last day"
    assert derived(View(step=5, submitted_type=RequestType.NEW_ACCESS.value))["third_step_title"] == \
        "Access level"


def test_the_change_employer_confirmation_speaks_of_the_employee_not_a_new_user():
    steps = " ".join(next_steps(RequestType.CHANGE_EMPLOYER))
    assert "new user" not in steps.lower() and "employee" in steps
    assert "new user" in " ".join(next_steps(RequestType.NEW_ACCESS)).lower()


def test_the_review_shows_days_and_phones_as_every_page_does():
    answers = Answers(start_date="2026-12-01", last_day="2026-12-24", phone="406.555.0123")
    shown = derived(View(answers=answers))
    assert shown["start_date_label"] == "December 1, 2026"
    assert shown["last_day_label"] == "December 24, 2026"
    assert shown["phone_label"] == "(406) 555-0123"


@pytest.mark.parametrize(("typed", "shown"), [("4065550123", "(406) 555-0123"),
                                              ("+1 406-555-0123", "(406) 555-0123"),
                                              ("(406) 555-0123", "(406) 555-0123"),
                                              ("call me", "call me")])
def test_phone_numbers_are_shown_in_one_format(typed, shown):
    assert shown_phone(typed) == shown


def test_a_permissions_change_shows_staff_the_levels_from_and_to():
    assert type_text(RequestType.PERMISSIONS_CHANGE, AccessLevel.READ_ONLY_CONSENT,
                     AccessLevel.VACCINE_MANAGEMENT) == \
        "User Permissions Change: Read Only with Consent → Vaccine Management"
    assert type_text(RequestType.NEW_ACCESS, None, AccessLevel.VACCINE_MANAGEMENT) == "New Access"


@pytest.mark.parametrize(("action", "field", "words"), [
    (Action.ASK_FOR_INFO, "text", "Enter the question for the supervisor."),
    (Action.ANSWER_INFO, "text", "Enter your answer to the program's question."),
    (Action.REJECT, "text", "Enter the reason for rejecting the request. The supervisor will read it."),
    (Action.PROVISION, "username", "Enter the imMTrax username you created for this person."),
])
def test_an_empty_action_form_is_told_at_the_field_in_words_not_codes(action, field, words):
    problems = action_problems(ActionInput(action, 1, reason=" "), credentials_sent=False)
    assert problems[field] == words
    assert not any("_" in message for message in problems.values())


@pytest.mark.parametrize(("action", "yes"), [(Action.REJECT, "Yes, reject the request"),
                                             (Action.CANCEL, "Yes, cancel the request"),
                                             (Action.CONFIRM_DELETION, "Yes, access is removed")])
def test_decisions_that_cannot_be_undone_are_asked_first_saying_what_will_happen(action, yes):
    fields = [{"label": "Request", "value": "IMR-2026-000042"},
              {"label": "Person", "value": "Kai Morningstar"}]
    asked = confirmation_for(fields, ActionInput(action, 1, reason="Duplicate."))
    assert asked is not None and asked.yes == yes and "IMR-2026-000042" in asked.title + asked.body
    assert "cannot" in asked.body and "Kai Morningstar" in asked.body


@pytest.mark.parametrize("action", [Action.ASK_FOR_INFO, Action.ANSWER_INFO, Action.PROVISION,
                                    Action.APPLY_LEVEL, Action.QUEUE_FOR_REVIEW])
def test_actions_that_can_be_followed_up_are_not_asked_twice(action):
    assert confirmation_for([], ActionInput(action, 1, reason="x")) is None
