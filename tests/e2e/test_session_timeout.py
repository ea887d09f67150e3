"""Work survives the idle timeout (WCAG 2.2.1), in Chromium against a portal of its own.

The portal runs with a short idle timeout (``IMMTRAX_SESSION_IDLE_MINUTES``) and warning
(``IMMTRAX_SESSION_WARNING_SECONDS``), so the warning comes seconds, not minutes, after the last
activity. A supervisor half-way through the wizard is warned in an alert dialog that takes the
focus, counts down (announced politely, now and then), and offers "Stay signed in" (the server's
session is extended) and "Sign out". Left alone, the tab goes to sign in, says why, and signing in
again returns to the same step with the draft as it was, and says so.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.domain.models import AuditEvent, Person, WebSession
from tests.e2e.conftest import (
    PortalProcess,
    portal_database,
    portal_of_its_own,
    save_screenshot,
    sign_in_as,
)
from tests.e2e.test_accessibility import assert_no_violations
from tests.e2e.test_wizard_journeys import at_step, press_continue, radio

pytestmark = pytest.mark.e2e

DANA, DANA_EMAIL = "demo-supervisor-two-orgs", "dana.whitfield@billingsclinic.example"
IDLE_SECONDS, WARNING_SECONDS = 28, 20
DIALOG = '[role="alertdialog"]'


@pytest.fixture(scope="module")
def short_portal(tmp_path_factory) -> PortalProcess:
    # Slot 3 of the own-portal ports (0: faults, 1: operations): fixed, so both passes share one build.
    with portal_of_its_own(tmp_path_factory, 3, "timeout", {
            "IMMTRAX_SESSION_IDLE_MINUTES": str(IDLE_SECONDS / 60),
            "IMMTRAX_SESSION_WARNING_SECONDS": str(WARNING_SECONDS)}) as process:
        yield process


@pytest.fixture(scope="module")
def database(short_portal):
    with portal_database(short_portal) as engine:
        yield engine


def dana_sessions(engine) -> list[WebSession]:
    with Session(engine) as session:
        dana = session.exec(select(Person.id).where(Person.email == DANA_EMAIL)).one()
        return list(session.exec(select(WebSession).where(WebSession.person_id == dana)
                                 .order_by(WebSession.created_at)))


def extensions(engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent.id).where(AuditEvent.action == "session_extended")).all())


def half_way_through_the_wizard(page, portal: str) -> None:
    """Dana on step 2 of a New Access at Laurel Pediatrics, a first name typed (and saved)."""
    sign_in_as(page, portal, DANA, return_to="/requests/new")
    expect(page.locator("#wizard-step-heading")).to_be_visible(timeout=20000)
    if page.locator("#wizard-step-heading").inner_text() != "The person":  # no draft from before
        at_step(page, 1, "Organization and request type")
        radio(page, "Laurel Pediatrics").check()
        radio(page, "New Access").check()
        press_continue(page)
    at_step(page, 2, "The person")
    first_name = page.get_by_role("main").get_by_label("Legal first name")
    first_name.fill("Quinn")
    first_name.press("Tab")


def warning_dialog(page):
    dialog = page.locator(DIALOG)
    expect(dialog).to_be_visible(timeout=(IDLE_SECONDS + 10) * 1000)
    return dialog


def test_the_warning_takes_the_focus_counts_down_politely_and_stay_signed_in_extends_the_session(
        short_portal, page_at, database):
    page = page_at(1280)
    half_way_through_the_wizard(page, short_portal.url)
    started = time.monotonic()
    dialog = warning_dialog(page)
    # At least the warning time before the end: it opens about idle - warning seconds after activity.
    assert time.monotonic() - started < IDLE_SECONDS - WARNING_SECONDS + 8

    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("alertdialog", name="Are you still there?")).to_be_visible()
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Tab")
    expect(stay).to_be_focused()  # the focus stays inside the dialog

    # The clock ticks every second; the polite live region speaks only now and then.
    live = page.locator("#session-timeout-announcement")
    expect(live).to_have_attribute("aria-live", "polite")
    clocks, spoken = set(), set()
    for _ in range(8):
        clocks.add(page.get_by_test_id("session-timeout-clock").inner_text())
        spoken.add(live.inner_text())
        page.wait_for_timeout(500)
    assert len(clocks) >= 3, clocks
    assert len(spoken) <= 2, spoken

    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_timeout(200)
        save_screenshot(page, f"session-timeout-warning-{width}")
    assert_no_violations(page, "the session timeout warning")

    before, seen_before = extensions(database), dana_sessions(database)[-1].last_seen_at
    stay.click()
    expect(dialog).to_have_count(0)
    assert extensions(database) == before + 1
    assert dana_sessions(database)[-1].last_seen_at > seen_before
    # The session lives on past the moment it would have ended, and the draft is still there.
    page.wait_for_timeout((IDLE_SECONDS - WARNING_SECONDS - 4) * 1000)
    expect(page.locator(DIALOG)).to_have_count(0)
    expect(page.get_by_role("main").get_by_label("Legal first name")).to_have_value("Quinn")


def test_after_the_timeout_signing_in_again_returns_to_the_same_step_with_the_draft(
        short_portal, page_at, database):
    page = page_at(390, 800)
    half_way_through_the_wizard(page, short_portal.url)
    warning_dialog(page)
    # Left alone, the countdown is announced now and then in the polite live region.
    expect(page.locator("#session-timeout-announcement")).to_contain_text(
        "seconds left before you are signed out", timeout=WARNING_SECONDS * 1000)
    page.wait_for_url(lambda url: "/sign-in" in url and "timed_out=1" in url,
                      timeout=(WARNING_SECONDS + 10) * 1000)
    expect(page.get_by_test_id("timed-out-notice")).to_contain_text("signed out because nothing happened")
    assert dana_sessions(database)[-1].revoked_at is None  # it ended by itself: idle, not revoked
    save_screenshot(page, "session-timed-out-sign-in-390")

    page.get_by_role("link", name="Continue to sign in with Okta").click()
    page.locator(f'button[name="sub"][value="{DANA}"]').click()
    page.wait_for_url(lambda url: "/requests/new" in url and "step=2" in url, timeout=20000)
    at_step(page, 2, "The person")
    expect(page.get_by_role("main").get_by_label("Legal first name")).to_have_value("Quinn")
    expect(page.get_by_role("status").filter(has_text="Welcome back")).to_contain_text(
        "your request was kept as you left it")
    expect(page).to_have_url(f"{short_portal.url}/requests/new?step=2")  # said once, not on reload
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(200)
        save_screenshot(page, f"session-timeout-welcome-back-{width}")


def test_sign_out_in_the_warning_ends_the_session(short_portal, page_at, database):
    page = page_at(1280)
    sign_in_as(page, short_portal.url, DANA, return_to="/dashboard")
    dialog = warning_dialog(page)
    dialog.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_text("You are signed out of the portal")).to_be_visible(timeout=15000)
    assert dana_sessions(database)[-1].revoked_at is not None
