"""The browser-side iPad check (IPAD_AS_MAC_JS) evaluated in real Chromium.

The server cannot tell an iPad in desktop mode from a Mac; only the browser
knows it has a touch screen. Chromium emulates the User-Agent, viewport and
touch points of each case; no server is needed.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from immtrax_portal.browser_policy import IPAD_AS_MAC_JS
from tests.e2e.browser import launch_chromium

# What iPadOS 13+ Safari (and Chrome on iPad asking for the desktop site) sends.
MAC_SAFARI_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
# A real iPad reports five touch points. Playwright's has_touch alone reports
# one, so the iPad case sets the count through the DevTools protocol.
IPAD_TOUCH_POINTS = 5


# Named so as not to shadow pytest-playwright's own "playwright"/"browser" fixtures.
@pytest.fixture(scope="module")
def pw():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(pw):
    browser = launch_chromium(pw)
    yield browser
    browser.close()


def context_options(descriptor: dict) -> dict:
    """A device descriptor as new_context() keywords."""
    return {k: v for k, v in descriptor.items() if k != "default_browser_type"}


def evaluate_check(chromium, options: dict, touch_points: int | None = None):
    context = chromium.new_context(**options)
    try:
        page = context.new_page()
        if touch_points is not None:
            cdp = context.new_cdp_session(page)
            cdp.send(
                "Emulation.setTouchEmulationEnabled",
                {"enabled": True, "maxTouchPoints": touch_points},
            )
        page.set_content("<main>imMTrax</main>")
        return page.evaluate("navigator.userAgent"), page.evaluate(IPAD_AS_MAC_JS)
    finally:
        context.close()


def test_an_ipad_pretending_to_be_a_mac_is_caught_in_the_browser(chromium, pw):
    # Playwright has no iPad descriptor with a Mac User-Agent, so take the
    # iPad Pro's screen and touch and give it the desktop-mode User-Agent.
    options = context_options(pw.devices["iPad Pro 11"])
    options.update(user_agent=MAC_SAFARI_UA, is_mobile=False, has_touch=True)
    user_agent, is_ipad = evaluate_check(chromium, options, IPAD_TOUCH_POINTS)
    assert user_agent == MAC_SAFARI_UA
    assert is_ipad is True


def test_a_real_mac_without_a_touch_screen_is_not_mistaken_for_an_ipad(chromium):
    user_agent, is_ipad = evaluate_check(chromium, {"user_agent": MAC_SAFARI_UA})
    assert user_agent == MAC_SAFARI_UA
    assert is_ipad is False


def test_desktop_chrome_on_windows_is_not_mistaken_for_an_ipad(chromium, pw):
    descriptor = pw.devices["Desktop Chrome"]
    user_agent, is_ipad = evaluate_check(chromium, context_options(descriptor))
    assert "Windows" in user_agent
    assert is_ipad is False
