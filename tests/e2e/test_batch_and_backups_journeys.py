"""Several people in one submission, backups while away, and "same level as a colleague", in
Chromium: typed, pasted and uploaded lists, a wrong row, a row made a Change Employer with one
click, a double-clicked submit; a backup named and acting for the absent supervisor. Every page
and state is checked by axe and photographed at 390 px and 1280 px (nothing wider than the phone).

Demo world: Dana Whitfield supervises Billings Family Clinic and Laurel Pediatrics; Marcus Reyes
supervises Bozeman Community Health; Jules Keller holds access at Great Falls.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.auth.sessions import hash_of, new_random_id
from immtrax_portal.db import build_engine
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    Invitation,
    Organization,
    Person,
    SupervisorLink,
    WebSession,
    utcnow,
)
from immtrax_portal.program_time import program_today
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e

DANA, MARCUS = "demo-supervisor-two-orgs", "demo-supervisor-one-org"
WIDTHS = (390, 1280)
START = (date.today() + timedelta(days=9)).isoformat()


@pytest.fixture(scope="module")
def database(portal, portal_env):
    engine = build_engine(portal_env["IMMTRAX_DATABASE_URL"])
    yield engine
    engine.dispose()


def photograph(page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} overflows by {overflow}px at {width}px"
        save_screenshot(page, f"{name}-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})


def requests_about(engine, email: str) -> list[AccessRequest]:
    with Session(engine) as session:
        person = session.exec(select(Person).where(Person.email == email)).first()
        return (
            list(session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == person.id)))
            if person
            else []
        )


def cell(page, row: int, label: str):
    return page.get_by_role("group", name=f"Person {row}:").get_by_label(label, exact=True)


def type_person(page, row: int, first: str, email: str, level: str = "Record Maintenance") -> None:
    cell(page, row, "First name").fill(first)
    cell(page, row, "Last name").fill("Batchjourney")
    cell(page, row, "Work email").fill(email)
    cell(page, row, "Phone").fill("406-555-0177")
    cell(page, row, "Job title").fill("Nurse")
    cell(page, row, "Start date").fill(START)
    cell(page, row, "Level").select_option(label=level)


def open_batch(page, portal: str, subject: str) -> None:
    sign_in_as(page, portal, subject, return_to="/dashboard")
    page.get_by_role("link", name="Several people at once").click()
    expect(page.get_by_role("heading", name="Request access for several people")).to_be_visible(timeout=20000)


def test_a_typed_list_with_a_wrong_row_is_corrected_then_submitted_once(portal, page_at, database):
    page = page_at(width=1280)
    open_batch(page, portal, MARCUS)
    expect(page.get_by_text("These requests are for Bozeman Community Health")).to_be_visible()
    photograph(page, "batch-empty")
    assert_no_violations(page, "several people, empty")

    type_person(page, 1, "Alder", "alder.batchjourney@bozemanhealth.example")
    type_person(page, 2, "Birch", "birch.batchjourney@")  # not an email
    page.get_by_role("button", name="Check these people").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused(timeout=15000)
    expect(summary).to_contain_text("1 of 2 people need correcting")
    expect(summary.get_by_role("link", name="Row 2, Work email:")).to_be_visible()
    expect(page.get_by_role("group", name="Person 1:")).to_contain_text("ready")
    photograph(page, "batch-wrong-row")
    assert_no_violations(page, "several people, a wrong row")
    assert requests_about(database, "alder.batchjourney@bozemanhealth.example") == []

    summary.get_by_role("link", name="Row 2, Work email:").click()
    expect(cell(page, 2, "Work email")).to_be_focused()
    cell(page, 2, "Work email").fill("birch.batchjourney@bozemanhealth.example")
    page.get_by_role("button", name="Check these people").click()
    ready = page.locator("#batch-ready")
    expect(ready).to_be_focused(timeout=15000)
    expect(ready).to_have_text("Submit 2 requests")
    photograph(page, "batch-ready")

    ready.dblclick()  # a double click makes each request once
    expect(page.get_by_role("heading", name="Requests submitted")).to_be_visible(timeout=15000)
    receipt = page.get_by_role("region", name="The requests you submitted")
    expect(receipt.get_by_role("row")).to_have_count(3)
    photograph(page, "batch-receipt")
    assert_no_violations(page, "several people, receipt")
    for email in ("alder.batchjourney@bozemanhealth.example", "birch.batchjourney@bozemanhealth.example"):
        (made,) = requests_about(database, email)
        assert made.status == RequestStatus.AWAITING_AGREEMENT
        expect(receipt.get_by_role("link", name=made.number)).to_be_visible()
        with Session(database) as session:
            assert len(session.exec(select(Invitation).where(Invitation.request_id == made.id)).all()) == 1


def test_a_pasted_list_with_someone_from_elsewhere_becomes_a_change_employer_with_one_click(
    portal, page_at, database
):
    page = page_at(width=1280)
    open_batch(page, portal, DANA)
    page.get_by_label("Organization").select_option(label="Billings Family Clinic")
    page.get_by_label("Rows to paste").fill(
        "First name,Last name,Work email,Phone,Job title,Start date,Level\n"
        f"Cedar,Batchjourney,cedar.batchjourney@billingsclinic.example,406-555-0101,Nurse,{START},2\n"
        f"Jules,Keller,jules.keller@greatfallsph.example,406-555-0102,Pharmacist,{START},"
        "Read Only with Consent\n"
    )
    page.get_by_role("button", name="Put these people in the list").click()
    switch = page.get_by_role("button", name="Make it a Change Employer request")
    expect(switch).to_be_visible(timeout=15000)
    expect(page.get_by_role("group", name="Person 2:")).to_contain_text("another organization")
    photograph(page, "batch-registry-advice")
    assert_no_violations(page, "several people, registry advice")

    switch.click()
    expect(page.get_by_role("group", name="Person 2: Change Employer")).to_be_visible(timeout=15000)
    page.locator("#batch-ready").click()
    expect(page.get_by_role("heading", name="Requests submitted")).to_be_visible(timeout=15000)
    (moved,) = [
        r
        for r in requests_about(database, "jules.keller@greatfallsph.example")
        if r.status in (RequestStatus.AWAITING_AGREEMENT,)
    ]
    assert moved.request_type == RequestType.CHANGE_EMPLOYER


def test_an_uploaded_csv_fills_the_list_and_is_checked(portal, page_at, tmp_path):
    page = page_at(width=1280)
    open_batch(page, portal, MARCUS)
    if page.get_by_role("button", name="Start another list").is_visible():
        page.get_by_role("button", name="Start another list").click()
    csv = tmp_path / "people.csv"
    csv.write_text(
        "\n".join(
            f"{name},Uploadjourney,{name.lower()}.upload@bozemanhealth.example,406-555-0190,"
            f"Nurse,{START},Record Maintenance"
            for name in ("Dune", "Elm", "Fern")
        )
    )
    page.locator("#batch-csv input[type=file]").set_input_files(str(csv))
    expect(page.locator("#batch-ready")).to_have_text("Submit 3 requests", timeout=15000)
    expect(cell(page, 3, "First name")).to_have_value("Fern")


@pytest.fixture
def colleague(database):
    """Sage Colleaguejourney, a Record Maintenance user of Bozeman for one test: the demo's users
    there are changed by other journeys on the same portal (one removes Harper Little Owl)."""
    with Session(database) as session:
        bch = session.exec(select(Organization).where(Organization.code == "BCH-0303")).one()
        email = "sage.colleaguejourney@bozemanhealth.example"
        sage = session.exec(select(Person).where(Person.email == email)).first()
        if sage is None:
            sage = Person(email=email, first_name="Sage", last_name="Colleaguejourney")
            session.add(sage)
            session.flush()
        grant = session.exec(select(Grant).where(Grant.person_id == sage.id,
                                                 Grant.organization_id == bch.id)).first()
        grant = grant or Grant(person_id=sage.id, organization_id=bch.id,
                               access_level=AccessLevel.RECORD_MAINTENANCE)
        grant.active, grant.until = True, None
        session.add(grant)
        session.commit()
        grant_id = grant.id
    yield "Sage Colleaguejourney"
    with Session(database) as session:
        grant = session.get(Grant, grant_id)
        grant.active = False
        session.add(grant)
        session.commit()


def test_same_level_as_a_colleague_suggests_and_the_questions_decide(portal, page_at, colleague):
    page = page_at(width=1280)
    sign_in_as(page, portal, MARCUS, return_to="/requests/new")
    heading = page.locator("#wizard-step-heading")
    expect(heading).to_be_visible(timeout=20000)
    if not page.get_by_text("Step 1 of 5").is_visible() or page.locator("input:checked").count():
        page.get_by_role("button", name="Cancel request").click()
        page.get_by_role("button", name="Yes, discard it").click()
    main = page.get_by_role("main")
    main.get_by_role("radio", name="New Access").click()
    page.get_by_role("button", name="Continue").click()
    for label, value in (
        ("Legal first name", "Gale"),
        ("Legal last name", "Colleaguejourney"),
        ("Work email", "gale.colleague@bozemanhealth.example"),
        ("Phone number", "406-555-0160"),
        ("Job title", "Nurse"),
        ("Start date", START),
    ):
        main.get_by_label(label).fill(value)
    page.get_by_role("button", name="Continue").click()
    expect(heading).to_have_text("Access level", timeout=15000)
    main.get_by_label("Colleague", exact=True).select_option(label=f"{colleague} (Record Maintenance)")
    note = page.locator("#colleague-note")
    expect(note).to_contain_text(f"{colleague} has Record Maintenance")
    assert not page.locator("#field-access-level-record-maintenance").is_checked()  # never a blind copy
    photograph(page, "wizard-colleague-picked")
    assert_no_violations(page, "wizard, colleague picked")
    main.get_by_role("group", name="Do they only look up records and update consent?").get_by_role(
        "radio", name="Yes"
    ).click()
    expect(note).to_contain_text(f"need only Read Only with Consent, less than {colleague}'s")
    photograph(page, "wizard-colleague-answers-differ")
    page.get_by_role("button", name="Cancel request").click()
    page.get_by_role("button", name="Yes, discard it").click()


# --- Backups while away ---------------------------------------------------------------------------


def backup_supervisor(database, portal: str) -> tuple[int, str]:
    """Rowan Backup: a second supervisor of Bozeman with a signed-in session (its cookie value)."""
    with Session(database) as session:
        bch = session.exec(select(Organization).where(Organization.code == "BCH-0303")).one()
        rowan = session.exec(
            select(Person).where(Person.email == "rowan.backup@bozemanhealth.example")
        ).first()
        if rowan is None:
            rowan = Person(email="rowan.backup@bozemanhealth.example", first_name="Rowan", last_name="Backup")
            session.add(rowan)
            session.flush()
            session.add(SupervisorLink(person_id=rowan.id, organization_id=bch.id))
        raw, now = new_random_id(), utcnow()
        session.add(
            WebSession(
                id_hash=hash_of(raw),
                person_id=rowan.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=8),
            )
        )
        session.commit()
        return rowan.id, raw


@pytest.fixture
def rowan(database, portal):
    """Rowan as Bozeman's second supervisor for one test, unlinked afterwards: other modules on
    the same portal rely on Bozeman having one supervisor (the succession pages)."""
    rowan_id, raw = backup_supervisor(database, portal)
    yield rowan_id, raw
    with Session(database) as session:
        for link in session.exec(select(SupervisorLink).where(SupervisorLink.person_id == rowan_id)):
            session.delete(link)
        session.commit()


def signed_in_as_cookie(page_at, portal: str, raw: str):
    page = page_at(width=1280)
    page.context.add_cookies([{"name": "immtrax_session", "value": raw, "url": portal}])
    return page


def test_a_backup_is_named_and_acts_for_the_absent_supervisor_with_both_names_recorded(
    portal, page_at, database, rowan
):
    rowan_id, raw = rowan
    page = page_at(width=1280)
    sign_in_as(page, portal, MARCUS, return_to="/dashboard")
    page.get_by_role("link", name="Backups while away").click()
    expect(page.get_by_role("heading", name="Backups while you are away")).to_be_visible(timeout=20000)
    photograph(page, "backups-empty")
    assert_no_violations(page, "backups page")

    page.get_by_role("button", name="Name this backup").click()
    expect(page.locator("#error-summary")).to_contain_text("Choose who stands in for you.", timeout=15000)
    photograph(page, "backups-error")
    assert_no_violations(page, "backups page, an error")

    today = program_today()
    page.get_by_label("Your backup").select_option(label="Rowan Backup")
    page.get_by_label("First day away").fill(today.isoformat())
    page.get_by_label("Last day away").fill((today + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Name this backup").click()
    expect(page.get_by_text("Your backup is named.")).to_be_visible(timeout=15000)
    expect(page.get_by_role("main").get_by_text("In force now")).to_be_visible()
    photograph(page, "backups-named")

    # Rowan, the backup, sees Marcus's open requests and cancels one of them from the dashboard.
    with Session(database) as session:
        marcus = session.exec(
            select(Person).where(Person.email == "marcus.reyes@bozemanhealth.example")
        ).one()
        open_one = session.exec(
            select(AccessRequest)
            .where(
                AccessRequest.submitter_id == marcus.id,
                AccessRequest.status == RequestStatus.AWAITING_AGREEMENT,
            )
            .order_by(AccessRequest.id.desc())
        ).first()
    assert open_one is not None, "Marcus has an open request waiting for an agreement"
    backup = signed_in_as_cookie(page_at, portal, raw)
    backup.goto(f"{portal}/backups")
    expect(backup.get_by_role("heading", name="Open requests you look after now")).to_be_visible(
        timeout=20000
    )
    expect(backup.get_by_role("link", name=open_one.number)).to_be_visible()
    photograph(backup, "backups-covering")
    assert_no_violations(backup, "backups page, covering")
    backup.goto(f"{portal}/dashboard")
    expect(backup.locator("#covering-note")).to_contain_text("You stand in for Marcus Reyes", timeout=20000)
    photograph(backup, "dashboard-covering")
    row = backup.get_by_role("main").locator(f'[data-number="{open_one.number}"]').first
    row.get_by_role("button", name="Cancel request").click()
    backup.get_by_role("button", name="Yes, cancel the request").click()
    expect(backup.get_by_text(f"Request {open_one.number} is cancelled.")).to_be_visible(timeout=15000)
    with Session(database) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.request_id == open_one.id, AuditEvent.action == "cancel")
        ).one()
    details = json.loads(event.details)
    assert event.actor_id == rowan_id
    assert (details["on_behalf_of"], details["backup"]) == ("Marcus Reyes", "Rowan Backup")

    # Marcus ends the backup early: Rowan's dashboard no longer offers him Marcus's cancels.
    page.reload()
    page.get_by_role("button", name="End now: the backup of Rowan Backup").first.click()
    expect(page.get_by_text("That backup has ended.")).to_be_visible(timeout=15000)
    backup.goto(f"{portal}/backups")
    expect(backup.get_by_text("Nobody has named you as their backup.")).to_be_visible(timeout=20000)
