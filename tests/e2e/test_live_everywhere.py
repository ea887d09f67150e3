"""Live pages and the supervisor's to-do list in Chromium, with two browser contexts.

A supervisor submits a request in one context and cancels it; the staff queue open in the other
shows the new row and the new tab counts, then the move, each within a second and without a
reload. The staff metrics page follows the same changes. The supervisor's dashboard is a to-do
list: the program's question sits in "Needs you" with its answer box on the card (answering is one
action), the rest under "In progress" and "Closed"; the roster's actions are in view at 390 px.
"""

from __future__ import annotations

import random
import re
import string
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import Organization, Person
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services.requests import submit_request
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.security.world import _advance, _new_access
from tests.e2e.test_accessibility import assert_no_violations
from tests.e2e.test_wizard_journeys import at_step, fill_person, iso, open_fresh_wizard, press_continue, radio
from tests.support.databases import use_database

pytestmark = pytest.mark.e2e

DANA, MARCUS, STAFF = "demo-supervisor-two-orgs", "demo-supervisor-one-org", "demo-staff"
MARCUS_EMAIL = "marcus.reyes@bozemanhealth.example"
STAFF_EMAIL = "pat.oconnor@mt.example"


def a_question_for_marcus(portal_env, question: str) -> str:
    """A New Access of Marcus's at Bozeman, signed, on which the program asked ``question`` (made
    through the portal's own services in the running portal's database); its number."""
    first = "Quinn" + "".join(random.choices(string.ascii_lowercase, k=5))
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]), session_scope() as session:
        bch = session.exec(select(Organization.id).where(Organization.code == "BCH-0303")).one()
        marcus = session.exec(select(Person.id).where(Person.email == MARCUS_EMAIL)).one()
        pat = session.exec(select(Person.id).where(Person.email == STAFF_EMAIL)).one()
    with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
        draft = _new_access(bch, first, "Asked", f"{first.lower()}@bozemanhealth.example")
        request = submit_request(marcus, draft, f"live-question-{first}-{random.randrange(10**9):09d}")
        _advance(request.id, [Action.SIGN_AGREEMENT, Action.ASK_FOR_INFO], pat, Role.STAFF, reason=question)
    return request.number


@pytest.fixture
def question(portal_env):
    text = "Who will manage vaccine lots after this change? " + "".join(random.choices(string.digits, k=4))
    return a_question_for_marcus(portal_env, text), text


def unique_last_name() -> str:
    return "Livewell" + "".join(random.choices(string.ascii_lowercase, k=6))


def tab_count(page, label: str) -> str:
    """The count beside a status tab of the queue ("All open (3)" -> "3")."""
    text = page.get_by_role("navigation", name="Requests by status").get_by_role(
        "link", name=re.compile(f"^{re.escape(label)} \\(")).inner_text()
    return re.search(r"\((\d+)\)", text).group(1)


def submit_new_access(page, portal: str, last: str) -> str:
    """Dana submits a New Access at Billings Family Clinic through the wizard; its number."""
    open_fresh_wizard(page, portal, DANA)
    main = page.get_by_role("main")
    radio(page, "Billings Family Clinic").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Robin", last, f"robin.{last.lower()}@billingsclinic.example", start=iso(5))
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    main.locator("#wizard-submit").click()
    at_step(page, 5, "Request submitted")
    return page.locator("#request-number").inner_text()


def seen_within(page, script: str, started: float, timeout_ms: int = 5000) -> float:
    page.wait_for_function(script, timeout=timeout_ms)
    return time.monotonic() - started


def test_the_staff_queue_shows_a_new_request_and_a_cancellation_within_a_second(portal, page_at):
    last = unique_last_name()
    staff = page_at(width=1280)
    sign_in_as(staff, portal, STAFF, return_to=f"/staff/queue?q={last}")
    main = staff.get_by_role("main")
    main.locator('[data-live="on"]').wait_for()
    expect(main.get_by_role("link", name=re.compile(r"^All open \(0\)"))).to_be_visible()
    staff.evaluate("window.__notReloaded = true")

    supervisor = page_at(width=1280)
    number = submit_new_access(supervisor, portal, last)
    submitted = time.monotonic()
    seen = seen_within(staff, f"!!document.querySelector('tr[data-number=\"{number}\"]')", submitted)
    assert tab_count(staff, "All open") == "1" and tab_count(staff, "Awaiting agreement") == "1"
    assert staff.evaluate("window.__notReloaded") is True, "the queue was reloaded"
    print(f"the queue showed the new request {seen:.2f}s after the submission was confirmed")
    assert seen < 1.0
    save_screenshot(staff, "live-queue-new-row-1280")

    # The supervisor cancels it from the dashboard: the row leaves "All open", the counts follow.
    supervisor.get_by_role("link", name="Go to your dashboard").click()
    card = supervisor.get_by_role("main").locator(f'li[data-number="{number}"]')
    card.get_by_role("button", name=f"Cancel request {number}").click()
    supervisor.get_by_role("button", name="Yes, cancel the request").click()
    supervisor.get_by_text(f"Request {number} is cancelled.").wait_for()
    cancelled = time.monotonic()
    seen = seen_within(staff, f"!document.querySelector('tr[data-number=\"{number}\"]')", cancelled)
    assert tab_count(staff, "All open") == "0" and tab_count(staff, "Cancelled") == "1"
    assert staff.evaluate("window.__notReloaded") is True
    print(f"the queue showed the cancellation {seen:.2f}s after it was confirmed")
    assert seen < 1.0


def test_the_metrics_page_follows_a_submission_without_reload(portal, page_at):
    staff = page_at(width=1280)
    sign_in_as(staff, portal, STAFF, return_to="/staff/metrics")
    main = staff.get_by_role("main")
    main.locator('[data-live="on"]').wait_for()
    by_status = main.get_by_role("table", name="Requests by status")
    row = by_status.get_by_role("row", name=re.compile("^Awaiting agreement"))
    before = int(re.search(r"(\d+)\s*$", row.inner_text()).group(1))
    staff.evaluate("window.__notReloaded = true")

    supervisor = page_at(width=1280)
    submit_new_access(supervisor, portal, unique_last_name())
    submitted = time.monotonic()
    expect(row).to_contain_text(str(before + 1), timeout=5000)
    seen = time.monotonic() - submitted
    assert staff.evaluate("window.__notReloaded") is True
    print(f"the metrics showed the new request {seen:.2f}s after the submission")
    assert seen < 1.0
    for width in (1280, 390):
        staff.set_viewport_size({"width": width, "height": 900})
        assert staff.evaluate("document.documentElement.scrollWidth") <= width
        save_screenshot(staff, f"live-metrics-{width}")


# --- The supervisor's to-do list -------------------------------------------------------------------


def dashboard_of(page, portal, subject, name):
    sign_in_as(page, portal, subject, return_to="/dashboard")
    main = page.get_by_role("main")
    main.get_by_role("heading", name=f"Welcome, {name}").wait_for()
    main.locator('[data-live="on"]').wait_for()
    return main


def test_the_dashboard_is_a_to_do_list_with_the_question_and_its_answer_box_on_the_card(portal, page_at,
                                                                                       question):
    QUESTION, text = question
    for width in (1280, 390):
        page = page_at(width=width)
        main = dashboard_of(page, portal, MARCUS, "Marcus")
        needs = main.get_by_role("region", name="Needs you")
        card = needs.locator(f'li[data-number="{QUESTION}"]')
        expect(card).to_contain_text(text)
        expect(card).to_contain_text("asked:")
        expect(card.get_by_label("Your answer to the program")).to_be_visible()
        expect(card.get_by_role("button", name=f"Send answer on request {QUESTION}")).to_be_visible()
        progress = main.get_by_role("region", name="In progress")
        assert progress.locator(f'li[data-number="{QUESTION}"]').count() == 0
        expect(main.get_by_role("region", name="Closed")).to_contain_text("Rejected")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save_screenshot(page, f"dashboard-todo-{width}")


def test_an_empty_answer_is_named_at_its_box_and_focus_moves_there(portal, page_at, question):
    QUESTION, _text = question
    page = page_at(width=390)
    main = dashboard_of(page, portal, MARCUS, "Marcus")
    card = main.get_by_role("region", name="Needs you").locator(f'li[data-number="{QUESTION}"]')
    card.get_by_role("button", name=f"Send answer on request {QUESTION}").click()
    box = card.get_by_label("Your answer to the program")
    expect(card.get_by_role("alert")).to_contain_text("Enter your answer")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    assert "answer_info" not in card.inner_text()
    save_screenshot(page, "dashboard-answer-error-390")
    assert_no_violations(page, "/dashboard with an answer error at 390")


def test_the_filters_narrow_in_progress_and_closed(portal, page_at):
    page = page_at(width=1280)
    main = dashboard_of(page, portal, DANA, "Dana Whitfield")
    closed = main.get_by_role("region", name="Closed")
    expect(closed.locator("li[data-number]")).not_to_have_count(0)
    main.get_by_label("Request number or name").fill("Eagleheart")
    main.get_by_role("button", name="Show matching requests").click()
    expect(closed.locator("li[data-number]")).to_have_count(1)
    expect(closed).to_contain_text("Morgan Eagleheart")
    expect(main.get_by_role("region", name="In progress")).to_contain_text("No request in progress matches")
    main.get_by_role("button", name="Show all requests").click()
    expect(main.get_by_role("button", name="Show all requests")).to_have_count(0)


def test_the_roster_actions_are_in_view_at_phone_width(portal, page_at):
    page = page_at(width=390)
    main = dashboard_of(page, portal, DANA, "Dana Whitfield")
    roster = main.get_by_role("region", name="People with imMTrax access at Billings Family Clinic")
    link = roster.get_by_role("link", name="Change level for Avery Holm")
    link.scroll_into_view_if_needed()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert roster.evaluate("el => el.scrollWidth <= el.clientWidth"), "the roster scrolls sideways"
    save_screenshot(page, "dashboard-roster-390")


def test_answering_on_the_card_is_one_action_and_staff_see_it_live(portal, page_at, question):
    QUESTION, _text = question
    staff = page_at(width=1280)
    sign_in_as(staff, portal, STAFF, return_to=f"/request?number={QUESTION}")
    staff.get_by_role("main").locator('[data-live="on"]').wait_for()

    page = page_at(width=1280)
    main = dashboard_of(page, portal, MARCUS, "Marcus")
    card = main.get_by_role("region", name="Needs you").locator(f'li[data-number="{QUESTION}"]')
    card.get_by_label("Your answer to the program").fill("Robin Reed takes over the vaccine lots.")
    card.get_by_role("button", name=f"Send answer on request {QUESTION}").click()
    expect(main.get_by_text(f"Your answer on request {QUESTION} is sent.")).to_be_visible()
    needs = main.get_by_role("region", name="Needs you")
    expect(needs.locator(f'li[data-number="{QUESTION}"]')).to_have_count(0)
    expect(main.get_by_role("region", name="In progress").locator(
        f'li[data-number="{QUESTION}"]')).to_be_visible()
    expect(staff.get_by_role("main")).to_contain_text("Robin Reed takes over the vaccine lots.", timeout=3000)
    save_screenshot(page, "dashboard-answered-1280")
