"""Faults, with the real portal in Chromium: the server killed in the middle of a wizard and started
again, and the database cut off while a supervisor is working.

This module starts a portal of its own (own port, own web folder, own database: SQLite, or
PostgreSQL under IMMTRAX_TEST_DATABASE=postgresql), because it kills it. The kill is SIGKILL to
every process group of the server: no shutdown code runs, as in a power cut or an OOM kill.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Invitation,
    OutboundEmail,
    Person,
)
from tests.e2e.conftest import (
    PortalProcess,
    portal_database,
    portal_of_its_own,
    save_screenshot,
    saved_draft,
    sign_in_as,
    wait_for_draft,
)
from tests.e2e.test_accessibility import assert_no_violations
from tests.e2e.test_wizard_journeys import at_step, fill_person, person_answers, press_continue, radio
from tests.support.databases import database_unavailable

pytestmark = pytest.mark.e2e

DANA, MARCUS = "demo-supervisor-two-orgs", "demo-supervisor-one-org"
DATABASE_MESSAGE = "The portal cannot reach its database right now"


@pytest.fixture(scope="module")
def own_portal(tmp_path_factory) -> PortalProcess:
    with portal_of_its_own(tmp_path_factory, 0, "faults") as process:
        yield process


@pytest.fixture(scope="module")
def database(own_portal):
    with portal_database(own_portal) as engine:
        yield engine


def requests_about(engine, email: str) -> list[AccessRequest]:
    with Session(engine) as session:
        subject = session.exec(select(Person.id).where(Person.email == email)).first()
        if subject is None:
            return []
        return list(session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == subject)))


def rows_written(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {model.__name__: len(session.exec(select(model.id)).all())
                for model in (AccessRequest, Invitation, OutboundEmail, Person)}


def test_a_server_killed_mid_wizard_keeps_the_draft_and_makes_one_request(own_portal, page_at, database):
    portal = own_portal.url
    page = page_at(1280)
    sign_in_as(page, portal, DANA, return_to="/requests/new")
    at_step(page, 1, "Organization and request type")
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Kit", "Killswitch", "kit.killswitch@laurelpeds.example")
    page.get_by_role("main").get_by_label("Job title").press("Tab")
    draft = wait_for_draft(database, "dana.whitfield@billingsclinic.example",  # all of it saved
                           **person_answers("Kit", "Killswitch", "kit.killswitch@laurelpeds.example"))

    own_portal.kill()
    assert requests_about(database, "kit.killswitch@laurelpeds.example") == []
    save_screenshot(page, "faults-server-killed-1280")
    own_portal.start()

    page.reload()
    at_step(page, 2, "The person")
    main = page.get_by_role("main")
    expect(main.get_by_label("Legal first name")).to_have_value("Kit")
    expect(main.get_by_label("Legal last name")).to_have_value("Killswitch")
    expect(main.get_by_label("Work email")).to_have_value("kit.killswitch@laurelpeds.example")
    expect(main.get_by_label("Job title")).to_have_value("Registered Nurse")
    assert saved_draft(database, "dana.whitfield@billingsclinic.example") == draft
    assert requests_about(database, "kit.killswitch@laurelpeds.example") == []  # no half request
    save_screenshot(page, "faults-after-restart-1280")

    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    page.locator("#wizard-submit").click()
    at_step(page, 5, "Request submitted")
    [request] = requests_about(database, "kit.killswitch@laurelpeds.example")
    assert request.number == page.locator("#request-number").inner_text()
    assert saved_draft(database, "dana.whitfield@billingsclinic.example") == {}


def test_an_unreachable_database_is_explained_and_nothing_is_half_written(own_portal, page_at, database):
    portal, url = own_portal.url, own_portal.env["IMMTRAX_DATABASE_URL"]
    page = page_at(1280)
    sign_in_as(page, portal, MARCUS, return_to="/requests/new")
    at_step(page, 1, "Organization and request type")
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Dale", "Downtime", "dale.downtime@bozemanhealth.example")
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    before = rows_written(database)
    with Session(database) as session:
        audit_before = len(session.exec(select(AuditEvent.id)).all())

    with database_unavailable(url):
        # An event handler: the submit button.
        page.locator("#wizard-submit").click()
        toast = page.get_by_text(DATABASE_MESSAGE).first
        expect(toast).to_be_visible(timeout=20000)
        expect(page.get_by_text("Nothing was saved. Try again in a few minutes.").first).to_be_visible()
        expect(page.get_by_text("Traceback")).to_have_count(0)
        page.wait_for_timeout(600)  # the toast's entrance animation
        save_screenshot(page, "faults-database-submit-1280")

        # A page load: the dashboard's loader cannot read anything.
        for width in (1280, 390):
            other = page_at(width)
            other.context.add_cookies(page.context.cookies())
            other.goto(portal + "/dashboard")
            expect(other.get_by_text(DATABASE_MESSAGE).first).to_be_visible(timeout=20000)
            expect(other.get_by_role("banner").or_(other.get_by_role("main")).first).to_be_visible()
            other.wait_for_timeout(600)
            save_screenshot(other, f"faults-database-page-load-{width}")

        # A server route (sign-out reads the session): a plain page, 503, no trace.
        response = page.goto(portal + "/auth/sign-out")
        assert response.status == 503
        expect(page.get_by_role("heading", level=1)).to_have_text(DATABASE_MESSAGE)
        assert "Traceback" not in page.content()
        save_screenshot(page, "faults-database-route-1280")
        assert_no_violations(page, "the database-unavailable page")

    assert rows_written(database) == before
    with Session(database) as session:
        assert len(session.exec(select(AuditEvent.id)).all()) == audit_before
    assert requests_about(database, "dale.downtime@bozemanhealth.example") == []

    page.goto(portal + "/requests/new")  # back again: the draft waits at the review step
    at_step(page, 4, "Check your request")
    page.locator("#wizard-submit").click()
    at_step(page, 5, "Request submitted")
    assert len(requests_about(database, "dale.downtime@bozemanhealth.example")) == 1
