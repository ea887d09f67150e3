"""Roster reviews and the inactivity report in Chromium, at desktop and phone widths, axe-checked:
a supervisor confirms a person and an idle person; staff follow every review and are told plainly
why an extra review cannot start; staff set the reviews' schedule (a bad value named at its field);
staff import the registry's report, then the same one again.

The supervisor is one of this module's own: Rae Reviewer of Ruby Valley Clinic, made through the
portal's services in the running portal's database, with a real server-side session, so nothing
here changes what other modules see of the demo organizations.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from immtrax_portal.auth.sessions import hash_of, new_random_id
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel
from immtrax_portal.domain.models import Grant, Organization, Person, SupervisorLink, WebSession, utcnow
from immtrax_portal.program_time import program_today
from immtrax_portal.services import access_ends, inactivity, reviews
from immtrax_portal.services.actors import load_actor
from tests.e2e.conftest import save_screenshot, sign_in_as, wait_until_hydrated
from tests.e2e.test_accessibility import assert_no_violations
from tests.support.databases import use_database

pytestmark = pytest.mark.e2e
STAFF_EMAIL = "pat.oconnor@mt.example"


@pytest.fixture(scope="module")
def rae_cookie(portal, portal_database_url) -> dict:
    """Ruby Valley Clinic under review (Quill and Tove), Tove idle for 70 days, Uma's time-limited
    access ending in 5 days; Rae's session."""
    with use_database(portal_database_url):
        with session_scope() as session:
            org = Organization(code="RVW-0808", name="Ruby Valley Clinic", city="Sheridan")
            rae = Person(email="rae.reviewer@rubyvalley.example", first_name="Rae", last_name="Reviewer")
            quill = Person(email="quill.adams@rubyvalley.example", first_name="Quill", last_name="Adams")
            tove = Person(email="tove.berg@rubyvalley.example", first_name="Tove", last_name="Berg")
            session.add_all([org, rae, quill, tove])
            session.flush()
            session.add(SupervisorLink(person_id=rae.id, organization_id=org.id))
            for person, level, username in ((quill, AccessLevel.RECORD_MAINTENANCE, "qadams"),
                                            (tove, AccessLevel.VACCINE_MANAGEMENT, "tberg")):
                session.add(Grant(person_id=person.id, organization_id=org.id, access_level=level,
                                  immtrax_username=username, since=utcnow() - timedelta(days=200)))
            raw, now = new_random_id(), utcnow()
            session.add(WebSession(id_hash=hash_of(raw), person_id=rae.id, created_at=now, last_seen_at=now,
                                   expires_at=now + timedelta(hours=8)))
            staff_id = session.exec(select(Person.id).where(Person.email == STAFF_EMAIL)).one()
        with session_scope() as session:
            staff = load_actor(session, staff_id)
        reviews.start_extra_review(staff, "RVW-0808")
        with session_scope() as session:   # Uma came later, as a student: her access ends in 5 days
            uma = Person(email="uma.student@rubyvalley.example", first_name="Uma", last_name="Student")
            session.add(uma)
            session.flush()
            grant = Grant(person_id=uma.id, organization_id=org.id,
                          access_level=AccessLevel.READ_ONLY_CONSENT, immtrax_username="ustudent",
                          since=utcnow() - timedelta(days=20))
            session.add(grant)
            session.flush()
            access_ends.schedule(session, grant, access_ends.END_DATE, program_today() + timedelta(days=5),
                                 request=None, actor_id=None, actor_role="system")
        # The registry reports days in the program's zone (a UTC date is a day ahead each evening).
        report = f"username,last_login\ntberg,{(program_today() - timedelta(days=70)).isoformat()}\n".encode()
        parsed = inactivity.parse_report(report)
        inactivity.apply_report(staff, parsed, inactivity.plan_report(staff, parsed).fingerprint)
    return {"name": "immtrax_session", "value": raw, "url": portal}


def as_rae(page_at, rae_cookie, width: int):
    page = page_at(width=width)
    page.context.add_cookies([rae_cookie])
    return page


@pytest.mark.parametrize("width", [1280, 390])
def test_a_supervisor_sees_whom_to_confirm_with_level_since_agreement_and_last_sign_in(
        portal, page_at, rae_cookie, width):
    page = as_rae(page_at, rae_cookie, width)
    page.goto(f"{portal}/reviews")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Confirm who still needs access", level=1).wait_for()
    review = main.locator("[data-review]").filter(has_text="Ruby Valley Clinic")
    review.get_by_text("answered").first.wait_for()
    tove = review.locator("[data-item]").filter(has_text="Tove Berg")
    assert "Vaccine Management" in tove.inner_text()
    assert "days ago" in tove.inner_text()          # the last sign-in the registry reported
    assert "Not on file" in tove.inner_text()       # no agreement signed through the portal
    idle = main.get_by_role("list", name="Idle people")
    idle.locator("[data-idle]").filter(has_text="Tove Berg").wait_for()
    save_screenshot(page, f"reviews-supervisor-{width}")
    assert_no_violations(page, f"roster review page at {width}px")


def press(control) -> None:
    """Reach a control by keyboard and use it: focus it, then Enter (as Tab then Enter would)."""
    control.focus()
    control.press("Enter")


def test_the_supervisors_needs_you_list_holds_the_review_the_expiring_access_and_the_idle_person(
        portal, page_at, rae_cookie):
    """One to-do list at phone width, used by keyboard: the review's card links to the review,
    Uma's card extends her access in one action, Tove's card confirms her; then Quill is confirmed
    on the review page the card leads to."""
    page = as_rae(page_at, rae_cookie, 390)
    page.goto(f"{portal}/dashboard")
    needs = page.get_by_role("list", name="Things waiting on you")
    review = needs.locator("[data-kind=roster_review]")
    review.get_by_text("Roster review at Ruby Valley Clinic: 2 people to confirm").wait_for()
    uma = needs.locator("[data-kind=expiring_access]").filter(has_text="Uma Student")
    tove = needs.locator("[data-kind=idle_person]").filter(has_text="Tove Berg")
    tove.get_by_text("Tove Berg has not used imMTrax for 70 days").wait_for()
    remove_tove = tove.get_by_role("link", name="Remove access of Tove Berg")
    assert "type=access_deletion" in remove_tove.get_attribute("href")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_no_violations(page, "needs you with review, expiring access and idle person at 390px")
    save_screenshot(page, "needs-you-access-over-time-390")

    press(uma.get_by_role("button", name="Extend access of Uma Student"))
    page.get_by_text("Access extended: it now ends at the end of").wait_for()
    uma.wait_for(state="detached")
    press(tove.get_by_role("button", name="Still needed: Tove Berg still needs imMTrax access"))
    page.get_by_text("Confirmed: they still need access.").wait_for()
    tove.wait_for(state="detached")
    save_screenshot(page, "needs-you-answered-390")

    press(review.get_by_role("link", name="Open the roster review of Ruby Valley Clinic"))
    main = page.get_by_role("main")
    quill = main.locator("[data-review] [data-item]").filter(has_text="Quill Adams")
    remove = quill.get_by_role("link", name="Remove access of Quill Adams")
    assert "type=access_deletion" in remove.get_attribute("href")
    quill.get_by_role("button", name="Still needed: Quill Adams still works here and still needs "
                                     "this level").click()
    main.get_by_text("Confirmed: their access stays as it is.").wait_for()
    quill.get_by_text("Confirmed: still needed").first.wait_for()
    assert quill.get_by_role("button").count() == 0
    main.get_by_text("Nobody at your organizations is reported idle.").wait_for()   # Tove, confirmed
    save_screenshot(page, "reviews-supervisor-answered-390")


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_follow_every_review_and_are_told_why_an_extra_review_cannot_start(
        portal, page_at, rae_cookie, width):
    page = page_at(width=width)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/reviews")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Roster reviews", level=1).wait_for()
    progress = main.get_by_role("region", name="Progress of every roster review")
    progress.get_by_role("row").filter(has_text="Ruby Valley Clinic").wait_for()
    assert "Extra (staff)" in progress.get_by_role("row").filter(has_text="Ruby Valley Clinic").inner_text()

    main.get_by_label("Organization code").fill("RVW-0808")
    main.get_by_role("button", name="Start the review").click()
    summary = main.get_by_role("alert").filter(has_text="There is a problem")
    link = summary.get_by_role("link", name="Ruby Valley Clinic already has a roster review in progress",
                               exact=False)
    link.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    save_screenshot(page, f"reviews-staff-{width}")
    assert_no_violations(page, f"staff roster reviews with an error at {width}px")


def test_staff_set_the_review_schedule_a_bad_value_is_named_at_its_field(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/reviews")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Roster reviews", level=1).wait_for()
    form = main.get_by_role("form", name="Review schedule")
    window = form.get_by_label("Days supervisors have to answer")
    window.wait_for()
    window.fill("two weeks")
    form.get_by_role("button", name="Save schedule").click()
    summary = page.locator("#schedule-error-summary")
    expect(summary).to_be_focused()
    message = "Enter the review window as a whole number of days from 1 to 90."
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(form.locator("#field-window-days-error")).to_contain_text(message)   # at the field too
    assert window.get_attribute("aria-invalid") == "true"
    assert "field-window-days-error" in window.get_attribute("aria-describedby")
    assert_no_violations(page, "review schedule with an error")
    save_screenshot(page, "staff-review-schedule-error-1280")
    summary.get_by_role("link", name=message).click()   # the link takes the keyboard to the field
    expect(window).to_be_focused()

    page.reload()   # the schedule as it stands now (other tests on this portal may have set it)
    wait_until_hydrated(page)
    grace = form.get_by_label("Days of grace after the window")
    grace.wait_for()
    current = int(grace.input_value())
    grace.fill(str(current + 1 if current < 90 else current - 1))
    form.get_by_role("button", name="Save schedule").click()
    expect(main.get_by_role("status").filter(has_text="Saved: 1 value changed.")).to_be_visible()
    expect(form.locator("#schedule-error-summary")).to_have_count(0)
    assert_no_violations(page, "review schedule saved")
    save_screenshot(page, "staff-review-schedule-1280")

    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "staff-review-schedule-390")
    grace.fill(str(current))   # as it was, for the other tests on this portal
    form.get_by_role("button", name="Save schedule").click()
    expect(main.get_by_role("status").filter(has_text="Saved: 1 value changed.")).to_be_visible()
    expect(grace).to_have_value(str(current))


def test_staff_import_the_inactivity_report_then_the_same_one_again(portal, page_at, rae_cookie, tmp_path):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/inactivity")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Inactivity report", level=1).wait_for()
    page.get_by_text("Pat O'Connor (Staff)").wait_for()
    report = tmp_path / "inactive-users.csv"
    report.write_bytes(f"username,last_login\nQADAMS,{utcnow().date().isoformat()}\nnot a name,2026-01-01\n"
                       .encode())
    page.locator("input[type=file]").set_input_files(str(report))
    main.get_by_text("1 with a new last sign-in").wait_for()
    errors = main.get_by_role("region", name="Problems by row")
    errors.get_by_role("row").filter(has_text="The username is missing").wait_for()
    save_screenshot(page, "inactivity-preview-1280")
    assert_no_violations(page, "inactivity report preview")
    main.get_by_role("button", name="Import 1 last sign-in").click()
    main.get_by_text("1 usernames with a new last sign-in").wait_for()

    page.set_viewport_size({"width": 390, "height": 900})
    again = tmp_path / "inactive-users-again.csv"      # the same report, chosen again
    again.write_bytes(report.read_bytes())
    page.locator("input[type=file]").set_input_files(str(again))
    main.get_by_text("Nothing to import:").wait_for()
    main.get_by_text("0 with a new last sign-in, 1 unchanged").wait_for()
    save_screenshot(page, "inactivity-again-390")
    assert_no_violations(page, "inactivity report imported twice at 390px")
