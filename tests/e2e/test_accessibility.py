"""WCAG 2.2 A/AA rules checked by axe-core (tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa) on
the error states of the forms, at 390 px and 1280 px. Every page as it arrives is checked by axe in
``test_wcag22.py``'s survey, beside the checks axe cannot make. Other suites call
``assert_no_violations`` on the states they reach (the wizard's steps with errors, the organization
and import forms, the agreement page with errors, the agreement versions form), so the same rules
hold there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in_as
from tests.e2e.test_wcag22 import WIDTHS
from tests.e2e.wcag_checks import WCAG_22_AA, axe_violations, errors_not_tied_to_fields

pytestmark = pytest.mark.e2e

WCAG_21_AA = WCAG_22_AA  # the name other suites import; the rules are 2.2's now


def assert_no_violations(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    found = axe_violations(page)
    assert found == [], f"{name}: {found}"


# --- Error states ---------------------------------------------------------------------------------


def _staff_email_unknown(page, portal, in_review):
    sign_in_as(page, portal, "demo-admin", return_to="/admin/staff")
    main = page.get_by_role("main")
    main.get_by_label("Work email of the person to make staff").fill("nobody@nowhere.example")
    main.get_by_role("button", name="Add to staff").click()
    expect(main.locator("#field-staff-email-error")).to_contain_text(
        "Nobody with that email has signed in to the portal yet")


def _wizard_step_one_empty(page, portal, in_review):
    from tests.e2e.test_wizard_journeys import DANA, open_fresh_wizard, press_continue

    open_fresh_wizard(page, portal, DANA)
    press_continue(page)
    expect(page.locator("#error-summary")).to_be_visible()


def _wizard_person_wrong(page, portal, in_review):
    from tests.e2e.test_wizard_journeys import (
        DANA,
        at_step,
        open_fresh_wizard,
        press_continue,
        radio,
    )

    open_fresh_wizard(page, portal, DANA)
    radio(page, "Billings Family Clinic").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    page.get_by_role("main").get_by_label("Work email").fill("not an email")
    page.get_by_role("main").get_by_label("Phone number").fill("12")
    press_continue(page)
    expect(page.locator("#error-summary")).to_be_visible()


def _staff_question_empty(page, portal, in_review):
    sign_in_as(page, portal, "demo-staff", return_to=f"/request?number={in_review()}")
    actions = page.locator("#actions")
    actions.get_by_role("button", name="Ask the supervisor a question").first.click()
    page.locator("#actions form").get_by_role("button", name="Ask the supervisor a question").click()
    expect(page.locator("#error-summary")).to_be_visible()


def _supervisor_answer_empty(page, portal, in_review):
    number = in_review(question="Which clinic will she work at?")
    sign_in_as(page, portal, "demo-supervisor-two-orgs", return_to=f"/request?number={number}")
    actions = page.locator("#actions")
    actions.get_by_role("button", name="Answer the program's question").first.click()
    page.locator("#actions form").get_by_role("button", name="Answer the program's question").click()
    expect(page.locator("#error-summary")).to_be_visible()


def _unknown_request(page, portal, in_review):
    sign_in_as(page, portal, "demo-staff", return_to="/request?number=IMR-2026-999999")
    expect(page.get_by_role("main").get_by_role("alert").first).to_be_visible(timeout=20000)


def _sign_in_problem(page, portal, in_review):
    page.goto(portal + "/auth/callback?code=x&state=y")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


ERROR_STATES = {
    "admin: unknown email": (_staff_email_unknown, True),
    "wizard step 1: nothing chosen": (_wizard_step_one_empty, True),
    "wizard step 2: email and phone wrong": (_wizard_person_wrong, True),
    "request page: staff question left empty": (_staff_question_empty, True),
    "request page: supervisor answer left empty": (_supervisor_answer_empty, True),
    "request page: no such request": (_unknown_request, False),
    "sign-in: a callback that was never started": (_sign_in_problem, False),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("state", ERROR_STATES, ids=list(ERROR_STATES))
def test_every_error_state_passes_wcag_22_aa_with_errors_at_their_fields(portal, page_at, in_review, state,
                                                                          width):
    reach, field_errors = ERROR_STATES[state]
    page = page_at(width=width)
    reach(page, portal, in_review)
    page.wait_for_timeout(300)
    assert_no_violations(page, f"{state} at {width}px")
    assert errors_not_tied_to_fields(page, expect_field_errors=field_errors) == [], state
