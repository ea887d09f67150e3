"""Staff backups in Chromium, as staff use them: Pat names Lee on /staff/backups (a wrong form first),
Lee then finds Pat's assigned request under "Mine" marked as covered, opens it, sees whom he stands in
for, adds a note that records both names, and Pat ends the backup early. Screens at 390 and 1280 px,
axe on each new state."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.db import build_engine
from immtrax_portal.domain.enums import DelegationKind, RequestStatus
from immtrax_portal.domain.models import AccessRequest, AuditEvent, Delegation, Person, utcnow
from immtrax_portal.program_time import program_today
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e

PAT, LEE = "pat.oconnor@mt.example", "lee.nakamura@mt.example"


@pytest.fixture
def pats_request(portal, portal_env):
    """An open request in review assigned to Pat for this test; its owner and Pat's staff backups
    put back afterwards."""
    engine = build_engine(portal_env["IMMTRAX_DATABASE_URL"])
    with Session(engine) as session:
        pat = session.exec(select(Person).where(Person.email == PAT)).one()
        lee = session.exec(select(Person).where(Person.email == LEE)).one()
        request = session.exec(
            select(AccessRequest).where(AccessRequest.status == RequestStatus.IN_REVIEW,
                                        AccessRequest.submitter_id.not_in([pat.id, lee.id]),
                                        AccessRequest.subject_person_id.not_in([pat.id, lee.id]))
            .order_by(AccessRequest.id)).first()
        assert request is not None, "the demo data has a request in review"
        previous, number, request_id = request.owner_id, request.number, request.id
        request.owner_id = pat.id
        session.add(request)
        session.commit()
        ids = (pat.id, lee.id)
    yield number, request_id, ids
    with Session(engine) as session:
        request = session.get(AccessRequest, request_id)
        request.owner_id = previous
        session.add(request)
        for row in session.exec(select(Delegation).where(Delegation.kind == DelegationKind.STAFF,
                                                         Delegation.delegator_id == ids[0],
                                                         Delegation.ended_at.is_(None))):
            row.ended_at = utcnow()
            session.add(row)
        session.commit()
    engine.dispose()


def photograph(page, name: str) -> None:
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
        save_screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_staff_backup_works_the_absent_colleagues_requests_with_both_names(portal, page_at, portal_env,
                                                                            pats_request):
    number, request_id, (pat_id, lee_id) = pats_request
    pat = page_at(width=1280)
    sign_in_as(pat, portal, "demo-staff", return_to="/staff/backups")
    main = pat.get_by_role("main")
    main.get_by_role("heading", name="Your backup while you are away").wait_for(timeout=20000)
    assert_no_violations(pat, "staff backups page")

    main.get_by_role("button", name="Name this backup").click()
    expect(pat.locator("#error-summary")).to_contain_text("Choose who stands in for you.", timeout=15000)
    assert_no_violations(pat, "staff backups page, an error")

    today = program_today()
    main.get_by_label("Your backup").select_option(label="Lee Nakamura")
    main.get_by_label("First day away").fill(today.isoformat())
    main.get_by_label("Last day away").fill((today + timedelta(days=2)).isoformat())
    main.get_by_role("button", name="Name this backup").click()
    expect(main.get_by_text("Your backup is named.")).to_be_visible(timeout=15000)
    expect(main.get_by_text("In force now")).to_be_visible()
    photograph(pat, "staff-backups-named")
    assert_no_violations(pat, "staff backups page, named")

    # Lee, the backup, sees Pat's request under "Mine", marked as covered for Pat.
    lee = page_at(width=1280)
    sign_in_as(lee, portal, "demo-admin", return_to="/staff/queue?owner=mine")
    row = lee.get_by_role("main").locator(f'[data-number="{number}"]').first
    expect(row).to_contain_text("You cover for Pat O'Connor", timeout=20000)
    photograph(lee, "staff-queue-mine-covering")
    assert_no_violations(lee, "queue, Mine while covering")

    lee.goto(f"{portal}/staff/backups")
    looked_after = lee.get_by_role("heading", name="Assigned requests you look after now")
    expect(looked_after).to_be_visible(timeout=20000)
    expect(lee.get_by_role("link", name=number)).to_be_visible()

    lee.goto(f"{portal}/request?number={number}")
    detail = lee.get_by_role("main")
    covering = detail.locator("#request-covering")
    expect(covering).to_contain_text("You stand in for Pat O'Connor", timeout=20000)
    detail.get_by_role("textbox", name="Add an internal note").fill("Looked at this while Pat is away.")
    detail.get_by_role("button", name="Save note").click()
    expect(detail.get_by_text("Looked at this while Pat is away.")).to_be_visible(timeout=15000)
    photograph(lee, "request-covering")
    engine = build_engine(portal_env["IMMTRAX_DATABASE_URL"])
    try:
        with Session(engine) as session:
            event = session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id,
                                                          AuditEvent.action == "staff_note_added",
                                                          AuditEvent.actor_id == lee_id)
                                 .order_by(AuditEvent.id.desc())).first()
    finally:
        engine.dispose()
    details = json.loads(event.details)
    assert (details["on_behalf_of_id"], details["backup_id"]) == (pat_id, lee_id)

    # Pat ends it early: Lee's "Mine" no longer holds Pat's request.
    pat.reload()
    pat.get_by_role("button", name="End now: the backup of Lee Nakamura").first.click()
    expect(pat.get_by_text("That backup has ended.")).to_be_visible(timeout=15000)
    lee.goto(f"{portal}/staff/queue?owner=mine")
    lee.get_by_role("main").get_by_role("heading", name="Request queue").wait_for(timeout=20000)
    lee.wait_for_timeout(500)
    expect(lee.get_by_role("main").locator(f'[data-number="{number}"]')).to_have_count(0)
