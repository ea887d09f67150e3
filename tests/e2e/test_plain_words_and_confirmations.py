"""What people read, in Chromium: plain words at the field instead of codes in a banner, a history
written as sentences, one date format, names people really have, and a question before anything
that cannot be undone (focus moved into it, Escape is "No", it says exactly what will happen).

Every request, person and link these tests change is their own, made through the portal's services
in the running portal's database; the demo requests other tests look at stay as they are.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.domain.models import AccessRequest, Organization, Person, SupervisorLink
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations
from tests.e2e.test_wizard_journeys import (
    MARCUS,
    at_step,
    fill_person,
    open_fresh_wizard,
    press_continue,
    radio,
)
from tests.support.databases import use_database

pytestmark = pytest.mark.e2e

CODES = re.compile(r"\b(?:in_review|needs_info|awaiting_agreement|ask_for_info|answer_info|name_mismatch|"
                   r"queue_for_review|send_invitation|sign_agreement)\b|→|needs a reason")


def status_of(portal_env, number: str) -> RequestStatus:
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
        with session_scope() as session:
            return session.exec(select(AccessRequest.status).where(AccessRequest.number == number)).one()


def open_request(page, portal, subject: str, number: str):
    sign_in_as(page, portal, subject, return_to=f"/request?number={number}")
    main = page.get_by_role("main")
    main.get_by_role("heading", name=f"Request {number}").wait_for()
    main.locator("#history-heading").wait_for()
    return main


@pytest.mark.parametrize("width", [1280, 390])
def test_an_empty_reason_is_asked_for_at_the_field_with_a_linked_summary_not_a_code(
        portal, portal_env, page_at, in_review, width):
    number = in_review()
    page = page_at(width)
    main = open_request(page, portal, "demo-staff", number)
    main.get_by_role("button", name="Reject with a reason").first.click()
    form = main.get_by_role("form", name="Reject with a reason")
    form.get_by_role("button", name="Reject with a reason").click()

    summary = main.locator("#error-summary")
    expect(summary).to_be_focused()
    message = "Enter the reason for rejecting the request. The supervisor will read it."
    link = summary.get_by_role("link", name=message)
    expect(link).to_be_visible()
    reason = main.get_by_role("textbox", name="Reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    error_id = (reason.get_attribute("aria-describedby") or "").split()[-1]
    assert main.locator(f"#{error_id}").inner_text().endswith(message)
    assert "needs a reason" not in main.inner_text()
    link.click()
    expect(reason).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"request-reject-empty-{width}")
    assert_no_violations(page, f"request page, empty reason at {width}")
    assert status_of(portal_env, number) == RequestStatus.IN_REVIEW


def test_the_provision_form_uses_no_browser_pop_ups_and_marks_both_fields(portal, portal_env, page_at,
                                                                         in_review):
    number = in_review()
    page = page_at(1280)
    main = open_request(page, portal, "demo-staff", number)
    main.get_by_role("button", name="Mark login credentials sent and complete").first.click()
    form = main.get_by_role("form", name="Mark login credentials sent and complete")
    assert form.get_attribute("novalidate") is not None
    assert page.locator("main [required]").count() == 0
    form.get_by_role("button", name="Mark login credentials sent and complete").click()
    expect(main.locator("#error-summary")).to_be_focused()
    expect(main.get_by_label("imMTrax username")).to_have_attribute("aria-invalid", "true")
    box = main.get_by_role("checkbox", name="Login credentials sent")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(main.locator("#error-summary li")).to_have_count(2)
    assert status_of(portal_env, number) == RequestStatus.IN_REVIEW


@pytest.mark.parametrize("width", [1280, 390])
def test_rejecting_asks_first_escape_keeps_the_request_and_yes_rejects_it(portal, portal_env, page_at,
                                                                          in_review, width):
    number = in_review()
    page = page_at(width)
    main = open_request(page, portal, "demo-staff", number)
    main.get_by_role("button", name="Reject with a reason").first.click()
    main.get_by_role("textbox", name="Reason").fill("A duplicate of an earlier request.")
    main.get_by_role("form", name="Reject with a reason").get_by_role("button",
                                                                     name="Reject with a reason").click()

    question = main.get_by_role("alertdialog", name=f"Reject request {number}?")
    expect(question).to_be_visible()
    expect(question).to_contain_text("cannot be reopened")
    expect(question).to_contain_text("“A duplicate of an earlier request.”")
    expect(main.locator("#action-confirm-heading")).to_be_focused()
    save_screenshot(page, f"request-reject-confirm-{width}")
    assert_no_violations(page, f"request page, reject confirmation at {width}")
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(main.locator("#action-submit")).to_be_focused()
    assert status_of(portal_env, number) == RequestStatus.IN_REVIEW

    main.locator("#action-submit").click()
    main.get_by_role("alertdialog").get_by_role("button", name="Yes, reject the request").click()
    expect(main.locator("#request-done")).to_contain_text(
        "The request is rejected; the supervisor is emailed")
    assert status_of(portal_env, number) == RequestStatus.REJECTED
    history = main.locator("#history-heading + ol")
    expect(history).to_contain_text(
        "Pat O'Connor rejected the request. Reason: A duplicate of an earlier request.")


def test_the_history_is_written_in_sentences_and_dates_in_one_format(portal, page_at, in_review):
    number = in_review()
    page = page_at(1280)
    main = open_request(page, portal, "demo-staff", number)
    main.get_by_role("button", name="Ask the supervisor a question").first.click()
    main.get_by_role("textbox", name="Question").fill("Which clinic will Rowan work at?")
    main.get_by_role("form", name="Ask the supervisor a question").get_by_role("button").click()
    expect(main.locator("#request-done")).to_be_visible()

    page = page_at(390)
    main = open_request(page, portal, "demo-supervisor-two-orgs", number)
    history = main.locator("#history-heading + ol").inner_text()
    assert "Dana Whitfield submitted this New Access request." in history
    assert "Pat O'Connor asked: Which clinic will Rowan work at?" in history
    assert not CODES.search(history), history
    moment = re.compile(r"^[A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d\d [AP]M M[SD]T")
    lines = [line for line in history.splitlines() if re.match(r"^[A-Z][a-z]+ \d", line)]
    assert lines and all(moment.match(line) for line in lines), lines
    fields = main.locator("dl").first.inner_text()
    assert re.search(r"Start date\s+[A-Z][a-z]+ \d{1,2}, \d{4}", fields), fields
    assert "(406) 555-0111" in fields
    save_screenshot(page, "request-history-sentences-390")


def test_removing_a_staff_role_asks_first_and_says_exactly_what_happened(portal, portal_env, page_at):
    tag = uuid.uuid4().hex[:6]
    email = f"ari.staff{tag}@mt.example"
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
        with session_scope() as session:
            session.add(Person(email=email, first_name="Ari", last_name=f"Zed{tag}", is_staff=True))
    name = f"Ari Zed{tag}"
    for width in (1280, 390):
        page = page_at(width)
        sign_in_as(page, portal, "demo-admin", return_to="/admin/staff")
        main = page.get_by_role("main")
        button = main.get_by_role("button", name=f"Remove staff role from {name}")
        button.click()
        question = main.get_by_role("alertdialog", name=f"Remove the staff role from {name}?")
        expect(question).to_contain_text(f"{name} ({email}) will no longer see the request queue")
        expect(main.locator("#remove-staff-confirm-heading")).to_be_focused()
        save_screenshot(page, f"admin-staff-confirm-{width}")
        assert_no_violations(page, f"staff roles confirmation at {width}")
        if width == 1280:
            page.keyboard.press("Escape")
            expect(question).to_be_hidden()
            expect(button).to_be_focused()
            expect(main.get_by_role("cell", name=email)).to_be_visible()
            continue
        question.get_by_role("button", name="Yes, remove the staff role").click()
        status = main.locator("#staff-roles-status")
        expect(status).to_contain_text(f"{name} ({email}) is no longer program staff.")
        expect(status).to_be_focused()
        expect(main.get_by_role("cell", name=email)).to_have_count(0)


def test_unlinking_a_supervisor_asks_first_moves_focus_and_escape_keeps_them(portal, portal_env, page_at):
    tag = uuid.uuid4().hex[:6]
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
        with session_scope() as session:
            org = session.exec(select(Organization).where(Organization.code == "MVP-0404")).one()
            person = Person(email=f"sol.link{tag}@missoula.example", first_name="Sol", last_name=f"Link{tag}")
            session.add(person)
            session.flush()
            session.add(SupervisorLink(person_id=person.id, organization_id=org.id))
            org_id, org_name = org.id, org.name
    name = f"Sol Link{tag}"
    page = page_at(390)
    sign_in_as(page, portal, "demo-staff", return_to=f"/staff/organization?id={org_id}")
    main = page.get_by_role("main")
    main.get_by_role("button", name=f"Unlink {name}").click()
    question = main.get_by_role("alertdialog", name=f"Unlink {name}?")
    expect(question).to_contain_text(f"will no longer be a supervisor of {org_name}")
    expect(main.locator("#unlink-confirm-heading")).to_be_focused()
    page.keyboard.press("Escape")
    expect(question).to_be_hidden()
    expect(main.get_by_role("button", name=f"Unlink {name}")).to_be_focused()
    main.get_by_role("button", name=f"Unlink {name}").click()
    main.get_by_role("button", name=f"Yes, unlink {name}").click()
    expect(main.locator("#organization-status")).to_contain_text(
        f"{name} is no longer a supervisor of {org_name}.")


def test_a_file_that_is_not_a_csv_is_named_at_the_field_without_a_toast(portal, page_at, tmp_path):
    picture = tmp_path / "not_a_csv.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    page = page_at(1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/organizations/import")
    main = page.get_by_role("main")
    with page.expect_file_chooser() as chooser:
        main.get_by_role("button", name="Choose a CSV file").click()
    chooser.value.set_files(str(picture))
    summary = main.locator("#org-csv-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("“not_a_csv.png” is not a CSV file.")
    expect(main.get_by_role("button", name="Choose a CSV file")).to_have_attribute("aria-invalid", "true")
    body = page.locator("body").inner_text()
    assert "Files not Accepted" not in body and "Choose a CSV file to preview." not in body
    save_screenshot(page, "org-import-not-csv-1280")


def test_the_wizard_accepts_names_with_periods_and_typographic_apostrophes(portal, page_at):
    page = page_at(390)
    open_fresh_wizard(page, portal, MARCUS)
    radio(page, "New Access").check()
    press_continue(page)
    fill_person(page, "D\u2019Arcy", "St. John", f"darcy.{uuid.uuid4().hex[:6]}@bozemanhealth.example")
    press_continue(page)
    at_step(page, 3, "Access level")
    main = page.get_by_role("main")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    review = main.inner_text()
    assert "D\u2019Arcy St. John" in review
    assert "(406) 555-0187" in review and re.search(r"Start date\s+[A-Z][a-z]+ \d{1,2}, \d{4}", review)
    assert "No note added" in review and not re.search(r"Note\s+None", review)
    save_screenshot(page, "wizard-review-names-390")
    # Escape in the discard question is "Keep editing"; then the draft is discarded.
    main.get_by_role("button", name="Cancel request").click()
    expect(page.locator("#cancel-confirm")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#cancel-confirm")).to_be_hidden()
    main.get_by_role("button", name="Cancel request").click()
    main.get_by_role("button", name="Yes, discard it").click()


def test_the_queue_status_tabs_have_no_stray_bullets(portal, page_at):
    page = page_at(390)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue")
    tabs = page.locator('nav[aria-label="Requests by status"] li')
    expect(tabs.first).to_be_visible()
    markers = page.evaluate("""[...document.querySelectorAll('nav[aria-label="Requests by status"] li')]
        .map(li => getComputedStyle(li).listStyleType + '|' + getComputedStyle(li, '::marker').content)""")
    assert markers and all(m.startswith("none|") for m in markers), markers
    assert "•" not in page.locator('nav[aria-label="Requests by status"]').inner_text()


def test_the_organizations_count_is_grammatical(portal, page_at):
    page = page_at(1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/organizations")
    main = page.get_by_role("main")
    main.get_by_label("Search by the start of the name or code").fill("Billings Family")
    main.get_by_role("button", name="Search").click()
    expect(main.get_by_role("status").filter(has_text="whose name or code")).to_contain_text(
        "1 organization whose name or code starts with “Billings Family”.")


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_see_a_permissions_change_as_from_one_level_to_another(portal, page_at, width):
    """The demo's Permissions Change for Gray McCall (read only here): the request page and the
    queue row both say from which level to which."""
    page = page_at(width)
    main = open_request(page, portal, "demo-staff", "IMR-2026-000003")
    change = "Vaccine Management \u2192 Record Maintenance"
    expect(main.get_by_text("Access level change")).to_be_visible()
    expect(main.get_by_text(change, exact=True)).to_be_visible()
    page.goto(f"{portal}/staff/queue?status=all&q=IMR-2026-000003")
    row = page.locator('tr[data-number="IMR-2026-000003"]')
    expect(row).to_contain_text(f"Permissions Change: {change}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"queue-permissions-change-{width}")
