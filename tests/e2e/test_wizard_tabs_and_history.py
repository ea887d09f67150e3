"""The wizard in two tabs and with the browser's own buttons, in Chromium.

- Each step has its own address, so the browser's Back button goes to the step before (and Forward
  to the next), with everything entered still there.
- One draft, two tabs: a change made in one tab is never silently overwritten by the other; the tab
  that is behind is told, and shown the newer draft, and either may carry on.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, saved_draft, wait_for_draft
from tests.e2e.test_wizard_journeys import (
    DANA,
    DANA_EMAIL,
    HEADING,
    at_step,
    database,  # noqa: F401 - a fixture
    open_fresh_wizard,
    press_continue,
    radio,
)

pytestmark = pytest.mark.e2e

NEWER = "This request was changed in another tab or window"


def type_into(page, label: str, text: str) -> None:
    field = page.get_by_role("main").get_by_label(label)
    field.fill(text)
    field.press("Tab")


def test_the_browser_back_button_goes_to_the_step_before(portal, page_at, database):  # noqa: F811
    page = page_at(1280)
    open_fresh_wizard(page, portal, DANA)
    expect(page).to_have_url(f"{portal}/requests/new?step=1")
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    expect(page).to_have_url(f"{portal}/requests/new?step=2")
    type_into(page, "Legal first name", "Bette")
    wait_for_draft(database, DANA_EMAIL, first_name="Bette")

    page.go_back()
    at_step(page, 1, "Organization and request type")
    expect(page).to_have_url(f"{portal}/requests/new?step=1")
    expect(radio(page, "New Access")).to_be_checked()
    save_screenshot(page, "wizard-back-button-step1-1280")

    page.go_forward()
    at_step(page, 2, "The person")
    expect(page.get_by_role("main").get_by_label("Legal first name")).to_have_value("Bette")

    page.reload()
    at_step(page, 2, "The person")  # a reload stays on the step the address names

    page.get_by_role("main").get_by_role("button", name="Back").click()
    at_step(page, 1, "Organization and request type")
    # The step is drawn a moment before its address is pushed: Back pressed in between went back
    # past the step (a run under load did so).
    expect(page).to_have_url(f"{portal}/requests/new?step=1")
    page.go_back()  # the page's own Back was a step too: the browser's Back returns to step 2
    at_step(page, 2, "The person")
    page.set_viewport_size({"width": 390, "height": 900})
    save_screenshot(page, "wizard-back-button-step2-390")


def test_two_tabs_on_one_draft_never_overwrite_each_other_silently(portal, page_at, database):  # noqa: F811
    first = page_at(1280)
    open_fresh_wizard(first, portal, DANA)
    radio(first, "Laurel Pediatrics").check()
    radio(first, "New Access").check()
    press_continue(first)
    at_step(first, 2, "The person")

    second = first.context.new_page()  # the same browser, signed in as Dana: a second tab
    second.set_viewport_size({"width": 390, "height": 900})
    second.goto(f"{portal}/requests/new")
    at_step(second, 2, "The person")

    type_into(first, "Legal first name", "Ada")
    wait_for_draft(database, DANA_EMAIL, first_name="Ada")

    type_into(second, "Legal last name", "Byron")  # this tab still shows no first name
    notice = second.locator("#wizard-notice")
    expect(notice).to_contain_text(NEWER)
    expect(notice).to_be_focused()
    expect(second.get_by_role("main").get_by_label("Legal first name")).to_have_value("Ada")
    # What this tab typed is not shown as if it were saved: the field shows the stored draft.
    expect(second.get_by_role("main").get_by_label("Legal last name")).to_have_value("")
    assert saved_draft(database, DANA_EMAIL).get("first_name") == "Ada"
    assert "last_name" not in saved_draft(database, DANA_EMAIL)
    save_screenshot(second, "wizard-two-tabs-told-390")

    # Shown the newer draft, the second tab carries on; now the first is the one behind.
    type_into(second, "Legal last name", "Byron")
    wait_for_draft(database, DANA_EMAIL, first_name="Ada", last_name="Byron")
    expect(second.locator("#wizard-notice")).to_have_count(0)
    type_into(first, "Job title", "Registered Nurse")
    expect(first.locator("#wizard-notice")).to_contain_text(NEWER)
    expect(first.get_by_role("main").get_by_label("Legal last name")).to_have_value("Byron")
    assert saved_draft(database, DANA_EMAIL).get("last_name") == "Byron"
    assert "job_title" not in saved_draft(database, DANA_EMAIL)
    save_screenshot(first, "wizard-two-tabs-told-1280")
    expect(first.locator(HEADING)).to_have_text("The person")

    # Clean up as Dana would: discard the draft from the tab that is up to date.
    first.get_by_role("button", name="Cancel request").click()
    first.get_by_role("button", name="Yes, discard it").click()
    expect(first.get_by_text("Your draft was discarded")).to_be_visible()
