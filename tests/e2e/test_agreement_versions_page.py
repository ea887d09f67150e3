"""Program staff publish a new User Agreement version in the browser: errors first, then review,
then publish; applicants' invitations show it from then on."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_staff_fix_an_error_review_and_publish_a_new_version_by_keyboard(portal, page_at):
    label = f"e2e-{uuid.uuid4().hex[:6]}"
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/agreements")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="User Agreement versions").wait_for()
    # The form starts from the current text (drawn once the page's state arrives).
    expect(main.get_by_label("Agreement text")).to_have_value(re.compile(r"^imMTrax, Montana"))

    main.get_by_role("button", name="Review the new version").click()
    summary = main.get_by_role("alert").filter(has_text="The new version cannot be reviewed yet")
    summary.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    assert_no_violations(page, "agreement versions with an error")
    summary.get_by_role("link", name="Give the version a label, for example 2026-2.").click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'field-label'")
    assert main.get_by_label("Version label").get_attribute("aria-invalid") == "true"
    save_screenshot(page, "agreement-versions-error-1280")

    page.keyboard.type(label)
    page.keyboard.press("Enter")   # submits the form from the label field
    review = main.get_by_role("heading", name="Check the new version before publishing")
    review.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'review-heading'")
    assert main.get_by_role("heading", name="imMTrax User Agreement").is_visible()
    assert main.get_by_text("Only the label differs from version").is_visible()
    assert_no_violations(page, "agreement versions review")
    save_screenshot(page, "agreement-versions-review-1280")

    publish = main.get_by_role("button", name=f"Publish version {label}")
    publish.focus()
    page.keyboard.press("Enter")
    main.get_by_text(f"Version {label} is published.").wait_for()
    row = main.get_by_role("row").filter(has_text=label)
    assert "Current: applicants sign this" in row.inner_text()
    assert main.get_by_role("row").filter(has_text="Current: applicants sign this").count() == 1
    save_screenshot(page, "agreement-versions-published-1280")


def test_the_page_fits_a_phone_and_is_refused_to_supervisors(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/agreements")
    page.get_by_role("main").get_by_role("heading", name="Publish a new version").wait_for()
    expect(page.get_by_role("main").get_by_label("Title")).to_have_value("imMTrax User Agreement")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "agreement-versions-390")

    other = page_at(width=1280)
    sign_in_as(other, portal, "demo-supervisor-one-org", return_to="/staff/agreements")
    other.wait_for_url("**/not-allowed**")
    other.get_by_role("heading", name="You are not allowed to open that page").wait_for()
