"""The public landing page, as a visitor sees it in Chromium at phone and desktop widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [390, 1280])
def test_landing_page_explains_levels_types_okta_browsers_and_passwords(portal, page_at, width):
    page = page_at(width=width)
    page.goto(portal + "/")
    main = page.get_by_role("main")
    main.get_by_role("heading", level=1).wait_for()

    assert "Request, change or remove imMTrax access" in main.get_by_role("heading", level=1).inner_text()
    for level in ("Read Only with Consent", "Record Maintenance", "Vaccine Management"):
        assert main.get_by_role("heading", name=level).is_visible()
    assert "update imMTrax consent status" in main.inner_text()
    assert "vaccine lot management (VOMS 2.0)" in main.inner_text()
    for kind in ("New Access", "Change Employer", "User Permissions Change", "Access Deletion"):
        assert main.get_by_role("heading", name=kind).is_visible()
    guide = main.get_by_role("link", name="Create Okta User Account guide")
    assert guide.get_attribute("href").startswith("https://")
    text = main.inner_text()
    assert "cannot be filled out in Apple's Safari browser" in text
    assert "iPhone, iPad" in text
    assert "(406) 444-5580" in text and "Monday–Friday 8am–5pm (MST)" in text
    assert "does not reset imMTrax passwords" in text
    assert "tell the program when a user leaves" in text

    # Nothing overflows sideways on a phone.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    save_screenshot(page, f"landing-{width}")


def test_landing_page_skip_link_is_first_and_moves_focus_to_main(portal, page_at):
    page = page_at()
    page.goto(portal + "/")
    page.get_by_role("main").get_by_role("heading", level=1).wait_for()
    page.wait_for_load_state("networkidle")  # portal.js, which moves the focus, is loaded
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_sign_in_goes_first_to_the_page_that_explains_what_is_needed(portal, page_at):
    page = page_at()
    page.goto(portal + "/")
    link = page.get_by_role("main").get_by_role("link", name="Sign in", exact=True)
    assert link.get_attribute("href").startswith("/sign-in?return_to=")
    link.click()
    page.get_by_role("main").get_by_role("heading", name="No Okta account yet?").wait_for()
