"""The second half of a New Access request, end to end in Chromium with real mail: the supervisor
submits, the invitation arrives at a real SMTP server, the applicant follows the link from the
received email, signs in with their own account and signs, and the supervisor sees the new state.

Demo world: Dana supervises Billings Family Clinic and Laurel Pediatrics; Jordan Tall Bull
(demo-applicant) already has a request at Billings, so Dana invites Jordan to Laurel Pediatrics.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.demo_identities import DEMO_IDENTITIES
from immtrax_portal.domain.models import Organization, Person
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.wizard.registry import open_request_for
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations
from tests.e2e.test_wizard_journeys import (
    DANA,
    at_step,
    database,  # noqa: F401 - a fixture
    fill_person,
    open_fresh_wizard,
    press_continue,
    radio,
    request_numbered,
)
from tests.support.databases import use_database

pytestmark = pytest.mark.e2e

JORDAN, JORDAN_EMAIL = "demo-applicant", "jordan.tallbull@billingsclinic.example"


@pytest.fixture
def jordan_free_at_laurel(portal_env):
    """No open request about Jordan at Laurel Pediatrics (other suites may leave one): Dana cancels
    it through the portal's own service, as she would from her dashboard."""
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
        with session_scope() as session:
            dana_email = next(i.email for i in DEMO_IDENTITIES if i.subject == DANA)
            dana = session.exec(select(Person).where(Person.email == dana_email)).one()
            jordan = session.exec(select(Person).where(Person.email == JORDAN_EMAIL)).one()
            laurel = session.exec(select(Organization).where(Organization.code == "LPD-0202")).one()
            open_request = open_request_for(session, jordan.id, laurel.id)
            actor = load_actor(session, dana.id)
        if open_request is not None:
            act_on_request(actor, open_request.id, ActionInput(Action.CANCEL, open_request.version,
                                                               reason="Cleared for the agreement journey."))


def invitation_link(mail_server, number: str, timeout_s: float = 30) -> str:
    """The link in the invitation email for ``number``, once the portal's worker has sent it."""
    def link() -> str | None:
        for message in mail_server.messages_to(JORDAN_EMAIL):
            if number in message.get_body(("plain",)).get_content():
                found = re.search(r"https?://\S+/agreement/[A-Za-z0-9_-]+", message.get_body(("plain",))
                                  .get_content())
                return found.group(0) if found else None
        return None
    return poll(link, timeout_s, f"no invitation email for {number}")


def poll(probe, timeout_s: float, failure: str):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (value := probe()) is not None:
            return value
        time.sleep(0.25)
    raise AssertionError(failure)


def submit_new_access_for_jordan(page, portal) -> str:
    open_fresh_wizard(page, portal, DANA)
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Jordan", "Tall Bull", JORDAN_EMAIL)
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    page.locator("#wizard-submit").click()
    at_step(page, 5, "Request submitted")
    return page.locator("#request-number").inner_text()


def test_the_applicant_signs_from_the_emailed_link_and_the_supervisor_sees_it(
        portal, page_at, mail_server, database, jordan_free_at_laurel):  # noqa: F811
    supervisor = page_at(1280)
    number = submit_new_access_for_jordan(supervisor, portal)
    supervisor.goto(f"{portal}/request?number={number}")
    expect(supervisor.get_by_role("main")).to_contain_text("Awaiting agreement", timeout=15000)

    link = invitation_link(mail_server, number)
    assert link.startswith(portal)
    applicant = page_at(1280)
    applicant.goto(link)
    expect(applicant.get_by_role("heading", name="Sign the imMTrax User Agreement")).to_be_visible(
        timeout=20000)
    assert applicant.locator('meta[name="referrer"]').get_attribute("content") == "no-referrer"
    save_screenshot(applicant, "agreement-sign-in-first-1280")
    assert_no_violations(applicant, "agreement page before sign-in")
    applicant.get_by_role("link", name="Sign in to continue").click()
    applicant.locator('button[name="sub"][value="demo-applicant"]').click()
    applicant.wait_for_url(link, wait_until="domcontentloaded")
    main = applicant.get_by_role("main")
    expect(main.get_by_text("Laurel Pediatrics").first).to_be_visible(timeout=20000)

    # Nothing ticked, no name: the summary says what is missing and changes nothing.
    main.get_by_role("button", name="Sign the agreement").click()
    expect(applicant.locator("#error-summary")).to_be_focused()
    save_screenshot(applicant, "agreement-errors-e2e-1280")
    assert_no_violations(applicant, "agreement page with errors")
    assert request_numbered(database, number).status.value == "awaiting_agreement"
    applicant.set_viewport_size({"width": 390, "height": 844})   # the same page on a phone
    expect(main.get_by_label("Type your full name to sign")).to_be_visible()
    assert applicant.evaluate("document.documentElement.scrollWidth") <= 390, "the email wraps"
    save_screenshot(applicant, "agreement-errors-e2e-390")
    applicant.set_viewport_size({"width": 1280, "height": 900})

    for box in main.get_by_role("checkbox").all():
        box.check()
    main.get_by_label("Type your full name to sign").fill("jordan  tall bull")
    main.get_by_role("button", name="Sign the agreement").click()
    expect(applicant.get_by_role("heading", name="You signed the imMTrax User Agreement")).to_be_visible(
        timeout=20000)
    save_screenshot(applicant, "agreement-receipt-1280")
    assert_no_violations(applicant, "agreement receipt")
    assert request_numbered(database, number).status.value == "in_review"

    with applicant.expect_download() as download:
        main.get_by_role("link", name="Download your signed agreement (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    main.get_by_role("link", name="Read your signed agreement").click()
    expect(applicant.get_by_role("heading", name="Signed imMTrax User Agreement")).to_be_visible(
        timeout=15000)
    expect(applicant.get_by_role("main")).to_contain_text("exactly the text that was signed")
    assert_no_violations(applicant, "signed agreement page")

    receipt = poll(lambda: next((m for m in mail_server.messages_to(JORDAN_EMAIL)
                                 if "You signed" in str(m["Subject"]) and number in str(m["Subject"])), None),
                   30, "no receipt email")
    assert "Laurel Pediatrics" not in str(receipt["Subject"])

    # No reload: the supervisor's open request page follows the change by itself.
    expect(supervisor.get_by_role("main")).to_contain_text("In review", timeout=15000)
    save_screenshot(supervisor, "agreement-supervisor-sees-in-review-1280")


def test_a_dead_link_gets_its_own_page_even_before_sign_in(portal, page_at):
    page = page_at(390)
    page.goto(f"{portal}/agreement/{'A' * 43}")
    expect(page.get_by_role("heading", name="We do not recognise this invitation link")).to_be_visible(
        timeout=20000)
    save_screenshot(page, "agreement-unknown-390")


def test_safari_is_stopped_before_the_agreement(portal, chromium_browser, mail_server):
    safari = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/17.4 Safari/605.1.15")
    context = chromium_browser.new_context(user_agent=safari, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in_as(page, portal, JORDAN, return_to=f"/agreement/{'B' * 43}")
        expect(page.get_by_role("heading", name="Please switch to another browser")).to_be_visible(
            timeout=20000)
        expect(page.get_by_role("button", name="Sign the agreement")).to_have_count(0)
    finally:
        context.close()
