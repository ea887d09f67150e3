"""Dashboards in Chromium: the supervisor's tracker and roster, the applicant's agreement step, and
live updates: staff act in one browser context and the supervisor's open page changes without a
reload in another."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e

DELETION = "IMR-2026-000008"  # Dana's Access Deletion for Casey, submitted, waiting on the program
APPLICANT = "IMR-2026-000001"  # Jordan's New Access, awaiting the agreement


def dashboard_of(page, portal, subject, name):
    sign_in_as(page, portal, subject, return_to="/dashboard")
    main = page.get_by_role("main")
    main.get_by_role("heading", name=f"Welcome, {name}").wait_for()
    main.locator('[data-live="on"]').wait_for()
    return main


def test_staff_action_shows_on_the_supervisors_open_dashboard_without_reload(portal, page_at):
    supervisor = page_at(width=1280)
    main = dashboard_of(supervisor, portal, "demo-supervisor-two-orgs", "Dana Whitfield")
    item = main.locator(f'li[data-number="{DELETION}"]')
    item.get_by_text("Waiting on the program to review").wait_for()
    assert item.get_attribute("data-status") == "submitted"
    supervisor.evaluate("window.__notReloaded = true")

    staff = page_at(width=1280)
    sign_in_as(staff, portal, "demo-staff", return_to=f"/request?number={DELETION}")
    staff_main = staff.get_by_role("main")
    staff_main.get_by_role("button", name="Start review").click()
    staff_main.get_by_role("form").get_by_role("button", name="Start review").click()
    staff_main.get_by_text("Done. The request and its history below are up to date.").wait_for()
    acted = time.monotonic()

    supervisor.wait_for_function(
        f"document.querySelector('li[data-number=\"{DELETION}\"]')?.dataset.status === 'in_review'",
        timeout=5000)
    seen_after = time.monotonic() - acted
    assert supervisor.evaluate("window.__notReloaded") is True, "the page was reloaded"
    assert "In review" in item.inner_text()
    print(f"supervisor saw the change {seen_after:.2f}s after staff's click returned")
    assert seen_after < 3


def test_the_supervisor_dashboard_shows_trackers_actions_and_the_roster(portal, page_at):
    for width in (1280, 390):
        page = page_at(width=width)
        main = dashboard_of(page, portal, "demo-supervisor-two-orgs", "Dana Whitfield")
        invite = main.locator(f'li[data-number="{APPLICANT}"]')
        invite.get_by_text("Waiting on the applicant to sign the User Agreement").wait_for()
        assert invite.locator('[aria-current="step"]').inner_text().startswith("●")
        resend = f"Resend invitation for request {APPLICANT}"
        assert invite.get_by_role("button", name=resend).is_visible()
        assert invite.get_by_role("button", name=f"Cancel request {APPLICANT}").is_visible()
        roster = main.get_by_role("region", name="People with imMTrax access at Billings Family Clinic")
        roster.get_by_role("rowheader", name="Avery Holm").wait_for()
        assert "Gray McCall" not in main.inner_text()  # Bozeman is Marcus's organization
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save_screenshot(page, f"dashboard-supervisor-{width}")


def test_change_level_from_the_roster_opens_the_wizard_with_the_person_chosen(portal, page_at):
    page = page_at(width=1280)
    main = dashboard_of(page, portal, "demo-supervisor-two-orgs", "Dana Whitfield")
    main.get_by_role("link", name="Change level for Avery Holm").click()
    page.wait_for_url(lambda url: "/requests/new" in url)
    page.get_by_role("main").get_by_text("Avery Holm").first.wait_for()
    page.get_by_role("main").get_by_role("heading", name="Access level").wait_for()


def test_the_applicant_sees_their_request_and_how_to_sign(portal, page_at):
    for width in (1280, 390):
        page = page_at(width=width)
        main = dashboard_of(page, portal, "demo-applicant", "Jordan Tall Bull")
        mine = main.locator(f'li[data-number="{APPLICANT}"]')
        mine.get_by_text("Waiting on you: sign the User Agreement").wait_for()
        text = mine.inner_text()
        assert "j•••@billingsclinic.example" in text and "ask your supervisor to resend it" in text
        assert "jordan.tallbull@billingsclinic.example" not in main.inner_text()
        assert main.get_by_role("button", name="Cancel request").count() == 0
        assert "Your organizations' requests" not in main.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save_screenshot(page, f"dashboard-applicant-{width}")


def test_a_supervisor_of_one_organization_sees_neither_the_others_requests_nor_roster(portal, page_at):
    page = page_at(width=1280)
    main = dashboard_of(page, portal, "demo-supervisor-one-org", "Marcus")
    text = main.inner_text()
    assert "Billings Clinic" not in text and "Laurel" not in text
    assert APPLICANT not in text and DELETION not in text


@pytest.mark.parametrize(("subject", "name"), [("demo-supervisor-two-orgs", "Dana Whitfield"),
                                                ("demo-applicant", "Jordan Tall Bull")])
def test_dashboards_pass_wcag_21_aa_at_phone_width(portal, page_at, subject, name):
    page = page_at(width=390)
    dashboard_of(page, portal, subject, name)
    assert_no_violations(page, f"/dashboard as {subject} at 390")
