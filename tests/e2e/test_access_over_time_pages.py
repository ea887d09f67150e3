"""Access over time in Chromium: the staff pages for upcoming removals and supervisor succession,
the supervisor naming a backup on the dashboard, and a person signing the agreement again from
the emailed link. Each page is checked with axe and at phone width."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AgreementRenewal, Organization, Person, SupervisorLink, utcnow
from immtrax_portal.services import renewals
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations
from tests.support.databases import use_database

pytestmark = pytest.mark.e2e

JORDAN = "jordan.tallbull@billingsclinic.example"
MARCUS_EMAIL = "marcus.reyes@bozemanhealth.example"


@pytest.fixture(scope="module", autouse=True)
def bozeman_with_marcus_alone(portal, portal_database_url):
    """The demo's Bozeman has one supervisor, Marcus; other modules on this portal (the forged-event
    harness, the backups journeys) link a second. Those links are put aside here and put back."""
    with use_database(portal_database_url), session_scope() as session:
        bch = session.exec(select(Organization).where(Organization.code == "BCH-0303")).one()
        marcus = session.exec(select(Person).where(Person.email == MARCUS_EMAIL)).one()
        others = session.exec(select(SupervisorLink).where(SupervisorLink.organization_id == bch.id,
                                                           SupervisorLink.person_id != marcus.id)).all()
        kept = [(link.person_id, link.organization_id) for link in others]
        for link in others:
            session.delete(link)
    yield
    with use_database(portal_database_url), session_scope() as session:
        for person_id, organization_id in kept:
            if session.exec(select(SupervisorLink).where(SupervisorLink.person_id == person_id,
                                                         SupervisorLink.organization_id == organization_id)
                            ).first() is None:
                session.add(SupervisorLink(person_id=person_id, organization_id=organization_id))


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_see_the_scheduled_removal_and_the_organization_with_one_supervisor(portal, page_at, width):
    page = page_at(width=width)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/access-ends")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Upcoming removals").wait_for()
    row = main.get_by_role("row").filter(has_text="Finley Ortiz")
    expect(row).to_contain_text("Scheduled removal")
    expect(row).to_contain_text("Laurel Pediatrics")
    assert_no_violations(page, f"upcoming removals at {width}")
    fits(page, width)
    save_screenshot(page, f"access-ends-{width}")

    page.goto(f"{portal}/staff/succession")
    main.get_by_role("heading", name="Supervisor succession").wait_for()
    single = main.get_by_role("region", name="Organizations with one supervisor")
    expect(single.get_by_role("row").filter(has_text="Bozeman Community Health")).to_contain_text("Marcus")
    assert_no_violations(page, f"succession at {width}")
    fits(page, width)
    save_screenshot(page, f"succession-{width}")


def test_a_single_supervisor_names_a_backup_and_staff_approve_it(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-supervisor-one-org")
    panel = page.get_by_role("region", name="Access over time")
    panel.get_by_role("heading", name="Name a backup supervisor").wait_for()
    expect(panel).to_contain_text("You are the only supervisor of")
    panel.get_by_label("First name").fill("Bea")
    panel.get_by_label("Last name").fill("Backup")
    panel.get_by_role("button", name="Ask to add this supervisor").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    assert_no_violations(page, "name a backup with an error")
    save_screenshot(page, "name-a-backup-error-1280")
    panel.get_by_label("Work email").fill("bea.backup@bozemanhealth.example")
    panel.get_by_label("First name").fill("Bea")
    panel.get_by_label("Last name").fill("Backup")
    panel.get_by_role("button", name="Ask to add this supervisor").click()
    expect(panel).to_contain_text("program staff were asked to add this supervisor")
    save_screenshot(page, "name-a-backup-sent-1280")

    staff = page_at(width=390)
    sign_in_as(staff, portal, "demo-staff", return_to="/staff/succession")
    staff.get_by_role("main").get_by_role("heading", name="Requests to add a supervisor").wait_for()
    staff.get_by_role("button", name="Approve Bea Backup (bea.backup@bozemanhealth.example)").click()
    expect(staff.get_by_role("main")).to_contain_text("Approved: the person is now a supervisor")
    fits(staff, 390)
    save_screenshot(staff, "succession-approved-390")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_person_signs_the_agreement_again_from_the_emailed_link(
    portal, portal_database_url, page_at, width
):
    with use_database(portal_database_url), session_scope() as session:
        person = session.exec(select(Person).where(Person.email == JORDAN)).one()
        renewal = session.exec(
            select(AgreementRenewal).where(
                AgreementRenewal.person_id == person.id, AgreementRenewal.signed_at.is_(None)
            )
        ).first()
        if renewal is None:
            renewal = renewals.open_cycle(
                session, person.id, utcnow() + timedelta(days=7), "yearly", utcnow()
            )
        token = renewals.issue_link(session, renewal, JORDAN, utcnow())
    page = page_at(width=width)
    page.goto(f"{portal}/renew/{token}")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Sign the imMTrax User Agreement again").wait_for()
    expect(main).to_contain_text("Opening this page does not use up the link")
    assert_no_violations(page, f"renewal before sign-in at {width}")
    sign_in_as(page, portal, "demo-applicant", return_to=f"/renew/{token}")
    main.get_by_role("button", name="Sign the agreement again").wait_for()
    main.get_by_role("button", name="Sign the agreement again").click()
    page.locator("#error-summary").wait_for()
    assert_no_violations(page, f"renewal with errors at {width}")
    for box in main.get_by_role("checkbox").all():
        box.check()
    main.get_by_label("Type your full name to sign").fill("Jordan Tall Bull")
    fits(page, width)
    save_screenshot(page, f"renewal-form-{width}")
    main.get_by_role("button", name="Sign the agreement again").click()
    main.get_by_role("heading", name="You signed the imMTrax User Agreement again").wait_for()
    expect(main).to_contain_text("Next time it is due by")
    save_screenshot(page, f"renewal-signed-{width}")


def test_staff_choose_that_everyone_signs_a_new_version_again_and_by_when(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/agreements")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Publish a new version").wait_for()
    # The form is drawn again from the current text once the page's state arrives: wait for that.
    expect(main.get_by_label("Agreement text")).to_have_value(re.compile(r"^imMTrax, Montana"))
    main.get_by_label("Version label").fill("e2e-resign-check")
    main.get_by_label("Everyone with access must sign this version again").check()
    main.get_by_label("Sign again by").fill("2020-01-01")
    main.get_by_role("button", name="Review the new version").click()
    page.locator("#error-summary").wait_for()
    expect(page.locator("#error-summary")).to_contain_text("Choose a day after today.")
    assert_no_violations(page, "sign again by, in the past")
    main.get_by_label("Sign again by").fill(renewals.add_months(utcnow(), 2).date().isoformat())
    main.get_by_role("button", name="Review the new version").click()
    main.get_by_role("heading", name="Check the new version before publishing").wait_for()
    expect(page.locator("#review-resign")).to_contain_text(
        "Everyone with access must sign this version again")
    save_screenshot(page, "agreement-versions-resign-review-1280")
    main.get_by_role("button", name="Go back and edit").click()   # nothing published


@pytest.mark.parametrize("width", [1280, 390])
def test_the_supervisor_moves_a_scheduled_last_day_and_a_day_too_far_is_refused_at_the_field(
        portal, page_at, width):
    from immtrax_portal.program_time import program_today

    page = page_at(width=width)
    sign_in_as(page, portal, "demo-supervisor-two-orgs")
    panel = page.get_by_role("region", name="Access over time")
    panel.get_by_role("heading", name="Access that ends on a set day").wait_for()
    expect(panel).to_contain_text("Finley Ortiz")
    panel.get_by_label("Whose access").select_option(label=panel.get_by_label("Whose access").locator(
        "option", has_text="Finley Ortiz").inner_text())
    panel.get_by_label("New last day").fill((program_today() + timedelta(days=120)).isoformat())
    panel.get_by_role("button", name="Move the last day").click()
    page.locator("#error-summary").wait_for()
    expect(page.locator("#error-summary")).to_contain_text("more than 90 days ahead")
    assert_no_violations(page, f"move a last day, refused, at {width}")
    fits(page, width)
    save_screenshot(page, f"move-last-day-error-{width}")
    new_day = program_today() + timedelta(days=30 if width == 1280 else 31)
    panel.get_by_label("New last day").fill(new_day.isoformat())
    panel.get_by_role("button", name="Move the last day").click()
    moved = f"Last day moved: access ends at the end of {new_day.strftime('%B %-d, %Y')}"
    expect(panel).to_contain_text(moved)
    save_screenshot(page, f"move-last-day-done-{width}")
