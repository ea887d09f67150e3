"""The request wizard in Chromium: one journey per request type, from sign-in to confirmation,
checked in the database and on the supervisor's dashboard; one journey by keyboard alone; the draft
surviving a reload. Every step is photographed at 390 px and 1280 px wide.

Demo world (immtrax_portal.demo_data): Dana Whitfield supervises Billings Family Clinic and Laurel
Pediatrics; Marcus Reyes supervises Bozeman Community Health. A supervisor has one draft, so each
journey ends by submitting or discarding it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.db import build_engine
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Grant, Organization, Person
from immtrax_portal.program_time import program_today
from tests.e2e.conftest import save_screenshot, sign_in_as, wait_for_draft

pytestmark = pytest.mark.e2e

DANA, MARCUS = "demo-supervisor-two-orgs", "demo-supervisor-one-org"
DANA_EMAIL = "dana.whitfield@billingsclinic.example"
HEADING = "#wizard-step-heading"
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def database(portal, portal_env):
    engine = build_engine(portal_env["IMMTRAX_DATABASE_URL"])
    yield engine
    engine.dispose()


def request_numbered(engine, number: str) -> AccessRequest:
    with Session(engine) as session:
        return session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()


def requests_about(engine, email: str) -> list[AccessRequest]:
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.email == email)).first()
        if person is None:
            return []
        return list(session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == person.id)))


def organization_id(engine, name: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Organization.id).where(Organization.name == name)).one()


def iso(days: int) -> str:
    """A day counted from today in the program's time zone (the calendar the wizard checks)."""
    return (program_today() + timedelta(days=days)).isoformat()


# --- Helpers a person would recognise -------------------------------------------------------------


def at_step(page, number: int, heading: str) -> None:
    expect(page.locator(HEADING)).to_have_text(heading, timeout=15000)
    expect(page.get_by_text(f"Step {number} of 5")).to_be_visible()
    current = page.locator('nav[aria-label="Request steps"] li[aria-current="step"]')
    expect(current).to_have_count(1)


def photograph(page, kind: str, step: int) -> None:
    """Both widths, and nothing wider than the phone's screen at 390 px."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(250)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"step {step} of {kind} overflows by {overflow}px at {width}px"
        save_screenshot(page, f"wizard-{kind}-step{step}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def open_fresh_wizard(page, portal: str, subject: str) -> None:
    """Signed in, on step 1 with nothing entered (an earlier failed run's draft is discarded)."""
    sign_in_as(page, portal, subject, return_to="/requests/new")
    expect(page.locator(HEADING)).to_be_visible(timeout=20000)
    if not page.get_by_text("Step 1 of 5").is_visible() or page.locator("input:checked").count():
        page.get_by_role("button", name="Cancel request").click()
        page.get_by_role("button", name="Yes, discard it").click()
        expect(page.get_by_text("Your draft was discarded")).to_be_visible()
    at_step(page, 1, "Organization and request type")


def radio(page, name: str):
    """The radio button whose label starts with ``name`` (labels go on to explain the choice)."""
    return page.get_by_role("main").get_by_role("radio", name=re.compile(f"^{re.escape(name)}"))


def press_continue(page) -> None:
    page.get_by_role("button", name="Continue").click()


PERSON_LABELS = {"first_name": "Legal first name", "last_name": "Legal last name",
                 "email": "Work email", "phone": "Phone number", "job_title": "Job title",
                 "start_date": "Start date"}


def person_answers(first: str, last: str, email: str, *, job: str = "Registered Nurse",
                   start: str | None = None) -> dict[str, str]:
    """What ``fill_person`` types, by the draft's field names (to wait for all of it to be saved)."""
    return {"first_name": first, "last_name": last, "email": email, "phone": "406-555-0187",
            "job_title": job, "start_date": start or iso(4)}


def fill_person(page, first: str, last: str, email: str, *, job: str = "Registered Nurse",
                start: str | None = None) -> None:
    main = page.get_by_role("main")
    for name, value in person_answers(first, last, email, job=job, start=start).items():
        main.get_by_label(PERSON_LABELS[name]).fill(value)


def submit_and_confirm(page, kind: str) -> str:
    submit = page.locator("#wizard-submit")
    submit.dblclick()  # a double click still makes one request
    at_step(page, 5, "Request submitted")
    number = page.locator("#request-number").inner_text()
    assert number.startswith(f"IMR-{date.today().year}-")
    photograph(page, kind, 5)
    return number


def on_dashboard(page, portal: str, number: str) -> None:
    page.get_by_role("link", name="Go to your dashboard").click()
    page.wait_for_url(f"{portal}/dashboard**")
    expect(page.get_by_role("main").locator(f'[data-number="{number}"]').first).to_be_visible(timeout=15000)


# --- The four journeys ----------------------------------------------------------------------------


def test_new_access_from_sign_in_to_confirmation(portal, page_at, database):
    page = page_at(1280)
    open_fresh_wizard(page, portal, DANA)
    main = page.get_by_role("main")

    # Step 1: nothing chosen yet; the summary appears, takes focus and links to the fields.
    press_continue(page)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert summary.get_attribute("role") == "alert"
    expect(summary.get_by_role("link")).to_have_count(2)
    photograph(page, "errors", 1)
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    expect(summary).to_be_hidden()
    photograph(page, "new-access", 1)
    press_continue(page)

    # Step 2: wrong answers are named next to each field and in the summary.
    at_step(page, 2, "The person")
    fill_person(page, "Riley", "Nguyen", "riley.nguyen@", start=iso(-40))
    press_continue(page)
    expect(summary).to_be_focused()
    email = main.get_by_label("Work email")
    expect(email).to_have_attribute("aria-invalid", "true")
    assert "field-email-error" in email.get_attribute("aria-describedby")
    expect(page.locator("#field-email-error")).to_contain_text("Enter an email address like")
    expect(page.locator("#field-start-date-error")).to_contain_text("30 days in the past")
    photograph(page, "errors", 2)
    summary.get_by_role("link", name="Enter an email address like name@clinic.org.").click()
    expect(email).to_be_focused()
    email.fill("riley.nguyen@laurelpeds.example")
    main.get_by_label("Start date").fill(iso(4))
    photograph(page, "new-access", 2)
    press_continue(page)

    # Step 3: the questions recommend the least level that fits; back and forward keep answers.
    at_step(page, 3, "Access level")
    records = main.get_by_role("group", name="Will they add immunizations or patient records?")
    records.get_by_label("Yes").check()
    expect(main.get_by_text("Recommended: Record Maintenance")).to_be_visible()
    main.get_by_role("button", name="Use Record Maintenance").click()
    expect(radio(page, "Record Maintenance")).to_be_checked()
    page.get_by_role("button", name="Back").click()
    at_step(page, 2, "The person")
    expect(main.get_by_label("Legal first name")).to_have_value("Riley")
    press_continue(page)
    at_step(page, 3, "Access level")
    expect(radio(page, "Record Maintenance")).to_be_checked()
    photograph(page, "new-access", 3)
    press_continue(page)

    # Step 4: review, with an edit link that comes back here.
    at_step(page, 4, "Check your request")
    expect(main).to_contain_text("Laurel Pediatrics")
    expect(main).to_contain_text("Riley Nguyen")
    main.get_by_role("button", name="Edit the person").click()
    at_step(page, 2, "The person")
    main.get_by_label("Job title").fill("Nurse Practitioner")
    press_continue(page)
    at_step(page, 4, "Check your request")
    expect(main).to_contain_text("Nurse Practitioner")
    photograph(page, "new-access", 4)

    number = submit_and_confirm(page, "new-access")
    expect(main).to_contain_text("receives an email invitation")
    [request] = requests_about(database, "riley.nguyen@laurelpeds.example")
    assert request.number == number
    assert request.request_type == RequestType.NEW_ACCESS
    assert request.status == RequestStatus.AWAITING_AGREEMENT
    assert request.access_level == AccessLevel.RECORD_MAINTENANCE
    assert request.job_title == "Nurse Practitioner"
    assert request.organization_id == organization_id(database, "Laurel Pediatrics")
    on_dashboard(page, portal, number)


def test_change_employer_is_offered_and_taken_with_one_click(portal, page_at, database):
    page = page_at(1280)
    open_fresh_wizard(page, portal, MARCUS)
    main = page.get_by_role("main")
    expect(main).to_contain_text("This request is for Bozeman Community Health.")
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Avery", "Holm", "avery.holm@billingsclinic.example")
    press_continue(page)
    advice = page.locator("#registry-advice")
    expect(advice).to_contain_text("already holds imMTrax access at another organization")
    expect(advice).not_to_contain_text("Billings")  # the registry does not name the employer
    photograph(page, "change-employer", 2)
    advice.get_by_role("button", name="Switch to Change Employer").click()
    at_step(page, 3, "Access level")
    photograph(page, "change-employer", 3)
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    expect(main).to_contain_text("Change Employer")
    photograph(page, "change-employer", 4)
    number = submit_and_confirm(page, "change-employer")
    # The confirmation speaks of the employee who moves, not of a "new user".
    expect(main).to_contain_text("The employee receives an email invitation")
    expect(main).not_to_contain_text("new user")
    request = request_numbered(database, number)
    assert request.request_type == RequestType.CHANGE_EMPLOYER
    assert request.former_organization_id == organization_id(database, "Billings Family Clinic")
    assert request.organization_id == organization_id(database, "Bozeman Community Health")
    on_dashboard(page, portal, number)
    # Step 1 of this journey, for the record.
    page.goto(portal + "/requests/new")
    at_step(page, 1, "Organization and request type")
    photograph(page, "change-employer", 1)


def test_permissions_change_picks_the_user_from_the_roster(portal, page_at, database):
    page = page_at(1280)
    open_fresh_wizard(page, portal, DANA)
    main = page.get_by_role("main")
    radio(page, "Billings Family Clinic").check()
    radio(page, "User Permissions Change").check()
    photograph(page, "permissions-change", 1)
    press_continue(page)
    at_step(page, 2, "Choose the user")
    expect(main.locator('input[name="subject_person_id"]')).not_to_have_count(0)
    main.get_by_label("Search your organization's users by name or email").fill("farrell")
    expect(main.locator('input[name="subject_person_id"]')).to_have_count(1, timeout=10000)
    assert "laurelpeds" not in main.inner_text()  # never another organization's users
    radio(page, "Drew Farrell").check()
    expect(main.get_by_text("Selected:")).to_contain_text("Drew Farrell")
    photograph(page, "permissions-change", 2)
    press_continue(page)
    at_step(page, 3, "Access level")
    expect(main).to_contain_text("Drew Farrell has Vaccine Management today.")
    radio(page, "Vaccine Management").check()
    main.get_by_label("Reason for the change").fill("Moved to the front desk; no longer handles vaccine.")
    press_continue(page)
    expect(page.locator("#field-access-level-error")).to_contain_text("already have Vaccine Management")
    radio(page, "Read Only with Consent").check()
    photograph(page, "permissions-change", 3)
    press_continue(page)
    at_step(page, 4, "Check your request")
    photograph(page, "permissions-change", 4)
    number = submit_and_confirm(page, "permissions-change")
    request = request_numbered(database, number)
    assert request.request_type == RequestType.PERMISSIONS_CHANGE
    assert request.status == RequestStatus.SUBMITTED
    assert request.access_level == AccessLevel.READ_ONLY_CONSENT
    assert len(requests_about(database, "drew.farrell@billingsclinic.example")) == 1
    on_dashboard(page, portal, number)


def test_access_deletion_suspends_access_on_submission(portal, page_at, database):
    page = page_at(1280)
    open_fresh_wizard(page, portal, MARCUS)
    main = page.get_by_role("main")
    radio(page, "Access Deletion").check()
    photograph(page, "access-deletion", 1)
    press_continue(page)
    at_step(page, 2, "Choose the user")
    main.get_by_label("Search your organization's users by name or email").fill("little owl")
    expect(main.locator('input[name="subject_person_id"]')).to_have_count(1, timeout=10000)
    radio(page, "Harper Little Owl").check()
    photograph(page, "access-deletion", 2)
    press_continue(page)
    at_step(page, 3, "Reason and last day")
    radio(page, "Left employment").check()
    main.get_by_label("Last day with access").fill(iso(120))
    press_continue(page)
    expect(page.locator("#field-last-day-error")).to_contain_text("90 days ahead")
    main.get_by_label("Last day with access").fill(iso(0))
    photograph(page, "access-deletion", 3)
    press_continue(page)
    at_step(page, 4, "Check your request")
    expect(main).to_contain_text("suspended the moment you submit")
    photograph(page, "access-deletion", 4)
    number = submit_and_confirm(page, "access-deletion")
    expect(main).to_contain_text("access was suspended the moment you submitted")
    # The confirmation's stepper names the third step for what it asked.
    steps = page.locator('nav[aria-label="Request steps"]')
    expect(steps).to_contain_text("Reason and last day")
    expect(steps).not_to_contain_text("Access level")
    request = request_numbered(database, number)
    assert request.request_type == RequestType.ACCESS_DELETION
    with Session(database) as session:
        grant = session.exec(select(Grant).where(Grant.person_id == request.subject_person_id,
                                                 Grant.organization_id == request.organization_id)).one()
    assert grant.active is False
    on_dashboard(page, portal, number)


# --- Keyboard alone -------------------------------------------------------------------------------


def tab_to(page, css: str, *, key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``css``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(css) => !!document.activeElement && document.activeElement.matches(css)", css):
            return
    raise AssertionError(f"Tab never reached {css}")


def type_into(page, css: str, text: str) -> None:
    tab_to(page, css)
    page.keyboard.type(text)


def test_a_whole_new_access_request_by_keyboard_alone(portal, page_at, database):
    page = page_at(1280)
    open_fresh_wizard(page, portal, MARCUS)
    page.locator(HEADING).focus()

    tab_to(page, 'input[name="request_type"]')
    page.keyboard.press("Space")
    expect(radio(page, "New Access")).to_be_checked()
    tab_to(page, "#wizard-continue")
    page.keyboard.press("Enter")
    at_step(page, 2, "The person")

    type_into(page, "#field-first-name", "Quinn")
    type_into(page, "#field-last-name", "Harlow")
    type_into(page, "#field-email", "quinn.harlow@bozemanhealth.example")
    type_into(page, "#field-phone", "(406) 555-0199")
    start = date.today() + timedelta(days=5)
    type_into(page, "#field-start-date", start.strftime("%m%d%Y"))
    tab_to(page, "#field-job-title", key="Shift+Tab")  # back past the date's own parts
    page.keyboard.type("Medical Assistant")
    page.keyboard.press("Enter")  # Enter in a field submits the step
    at_step(page, 3, "Access level")

    tab_to(page, 'input[name="q_records"]')
    page.keyboard.press("Space")
    try:
        tab_to(page, "#use-recommended", limit=40)
    except AssertionError:  # the suggestion may sit above the questions (it follows the answers)
        tab_to(page, "#use-recommended", key="Shift+Tab", limit=80)
    page.keyboard.press("Enter")
    expect(radio(page, "Record Maintenance")).to_be_checked()
    tab_to(page, "#wizard-continue")
    page.keyboard.press("Enter")
    at_step(page, 4, "Check your request")
    expect(page.get_by_role("main")).to_contain_text(f"{start:%B} {start.day}, {start.year}")  # one format

    tab_to(page, "#wizard-submit")
    page.keyboard.press("Enter")
    at_step(page, 5, "Request submitted")
    number = page.locator("#request-number").inner_text()
    [request] = requests_about(database, "quinn.harlow@bozemanhealth.example")
    assert request.number == number and request.start_date == start
    tab_to(page, "#go-to-dashboard")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{portal}/dashboard**")
    expect(page.get_by_role("main").locator(f'[data-number="{number}"]').first).to_be_visible(timeout=15000)


# --- Nothing lost ---------------------------------------------------------------------------------


def test_the_draft_survives_a_reload_and_cancel_discards_it(portal, page_at, database):
    page = page_at(390)
    open_fresh_wizard(page, portal, DANA)
    main = page.get_by_role("main")
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    main.get_by_label("Legal first name").fill("Sky")
    main.get_by_label("Legal last name").fill("Reload")
    main.get_by_label("Work email").fill("sky.reload@laurelpeds.example")
    main.get_by_label("Work email").press("Tab")
    wait_for_draft(database, DANA_EMAIL, first_name="Sky", last_name="Reload",  # the debounced save
                   email="sky.reload@laurelpeds.example")

    page.reload()
    at_step(page, 2, "The person")
    expect(main.get_by_label("Legal first name")).to_have_value("Sky")
    expect(main.get_by_label("Work email")).to_have_value("sky.reload@laurelpeds.example")

    other = page_at(390)  # a brand-new browser for the same supervisor: the draft is on the server
    sign_in_as(other, portal, DANA, return_to="/requests/new")
    at_step(other, 2, "The person")
    expect(other.get_by_label("Legal last name")).to_have_value("Reload")

    page.get_by_role("button", name="Cancel request").click()
    expect(page.locator("#cancel-confirm")).to_be_focused()
    page.get_by_role("button", name="Yes, discard it").click()
    at_step(page, 1, "Organization and request type")
    page.reload()
    at_step(page, 1, "Organization and request type")
    expect(page.locator("input:checked")).to_have_count(0)
    assert requests_about(database, "sky.reload@laurelpeds.example") == []


def test_another_supervisor_never_sees_the_draft(portal, page_at, database):
    dana = page_at(1280)
    open_fresh_wizard(dana, portal, DANA)
    radio(dana, "Laurel Pediatrics").check()
    radio(dana, "New Access").check()
    press_continue(dana)
    at_step(dana, 2, "The person")
    dana.get_by_label("Legal first name").fill("Private")
    dana.get_by_label("Legal first name").press("Tab")
    wait_for_draft(database, DANA_EMAIL, first_name="Private")  # on the server, where Marcus is too

    marcus = page_at(1280)
    open_fresh_wizard(marcus, portal, MARCUS)
    assert "Private" not in marcus.content()
    assert "Laurel Pediatrics" not in marcus.get_by_role("main").inner_text()

    dana.get_by_role("button", name="Cancel request").click()
    dana.get_by_role("button", name="Yes, discard it").click()
    at_step(dana, 1, "Organization and request type")


# --- WCAG 2.2 AA on every step (axe tags wcag2a … wcag22aa) ---------------------------------------


def assert_accessible(page, name: str) -> None:
    from tests.e2e.wcag_checks import axe_violations

    found = axe_violations(page)
    assert found == [], f"{name}: {found}"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_step_passes_axe_wcag_22_aa(portal, page_at, width):
    page = page_at(width)
    open_fresh_wizard(page, portal, DANA)
    press_continue(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "step 1 with errors")
    radio(page, "Billings Family Clinic").check()
    radio(page, "User Permissions Change").check()
    press_continue(page)
    at_step(page, 2, "Choose the user")
    press_continue(page)
    expect(page.locator("#field-subject-person-id-error")).to_be_visible()
    assert_accessible(page, "step 2 roster with errors")
    radio(page, "Avery Holm").check()
    press_continue(page)
    at_step(page, 3, "Access level")
    press_continue(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "step 3 with errors")
    radio(page, "Vaccine Management").check()
    page.get_by_role("main").get_by_label("Reason for the change").fill("Takes over the vaccine lots.")
    press_continue(page)
    at_step(page, 4, "Check your request")
    assert_accessible(page, "step 4")
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Back").click()
    at_step(page, 1, "Organization and request type")
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    press_continue(page)
    expect(page.locator("#field-email-error")).to_be_visible()
    assert_accessible(page, "step 2 new person with errors")
    page.get_by_role("button", name="Cancel request").click()
    page.get_by_role("button", name="Yes, discard it").click()
    at_step(page, 1, "Organization and request type")
