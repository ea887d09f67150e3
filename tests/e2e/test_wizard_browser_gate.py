"""The Safari / Apple-device gate on the wizard, with real device User-Agent strings in Chromium.

Playwright's device list gives the User-Agent, screen, touch and mobile flags of each device; the
pages are opened in Chromium under them. The server blocks by User-Agent; the browser adds the
iPad that presents itself as a Mac. Dashboards are never blocked.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e

SUPERVISOR = "demo-supervisor-one-org"
BLOCKED, ALLOWED = "Please switch to another browser", "Organization and request type"
DEVICES = [
    ("iPhone 13", True, "You are on an iPhone."),
    ("iPad Pro 11", True, "You are on an iPad."),
    ("Desktop Safari", True, "You are using Safari"),
    ("Galaxy S9+", False, ""),
    ("Pixel 7", False, ""),
    ("Desktop Chrome", False, ""),
    ("Desktop Edge", False, ""),
    ("Desktop Firefox", False, ""),
]
# What Chrome on an iPad sends when it asks for the desktop site: the server sees a Mac.
MAC_CHROME_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/124.0.0.0 Safari/537.36")


@pytest.fixture(scope="module")
def devices():
    """Playwright's device descriptors. Read in a thread of its own: the session's browser
    already runs a Playwright event loop in this one, and the sync API allows one per thread."""
    from playwright.sync_api import sync_playwright

    found: dict = {}

    def read() -> None:
        with sync_playwright() as playwright:
            found.update({name: {k: v for k, v in playwright.devices[name].items()
                                 if k != "default_browser_type"} for name, _, _ in DEVICES})

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=60)
    assert len(found) == len(DEVICES)
    return found


def wizard_under(page_at, portal: str, **context_args):
    page = page_at(**context_args)
    sign_in_as(page, portal, SUPERVISOR, return_to="/requests/new")
    return page


def the_outcome(page) -> str:
    """Which of the two the wizard page settles on: the block panel or step 1."""
    either = page.get_by_role("heading", name=BLOCKED).or_(page.locator("#wizard-step-heading"))
    expect(either.first).to_be_visible(timeout=20000)
    page.wait_for_timeout(300)  # the browser's own check reports back
    if page.get_by_role("heading", name=BLOCKED).is_visible():
        return BLOCKED
    return page.locator("#wizard-step-heading").inner_text()


@pytest.mark.parametrize(("device", "blocked", "reason"), DEVICES, ids=[d[0] for d in DEVICES])
def test_device_user_agents_decide_whether_the_wizard_opens(portal, page_at, devices, device, blocked,
                                                            reason):
    descriptor = devices[device]
    page = wizard_under(page_at, portal, width=descriptor["viewport"]["width"],
                        height=descriptor["viewport"]["height"],
                        **{k: v for k, v in descriptor.items() if k != "viewport"})
    assert page.evaluate("navigator.userAgent") == descriptor["user_agent"]
    outcome = the_outcome(page)
    slug = device.lower().replace(" ", "-").replace("+", "plus")
    save_screenshot(page, f"wizard-gate-{slug}")
    if blocked:
        assert outcome == BLOCKED
        panel = page.locator("#browser-gate")
        expect(panel).to_contain_text(reason)
        expect(panel).to_contain_text("Chrome, Microsoft Edge or Mozilla Firefox")
        expect(page.locator("#wizard-step-heading")).to_have_count(0)
        expect(page.locator("main form")).to_have_count(0)  # no form is drawn at all
    else:
        assert outcome == ALLOWED


def test_an_ipad_asking_for_the_desktop_site_is_caught_by_the_browser_check(portal, page_at, devices):
    ipad = devices["iPad Pro 11"]
    page = page_at(width=ipad["viewport"]["width"], height=ipad["viewport"]["height"],
                   user_agent=MAC_CHROME_UA, has_touch=True, is_mobile=False)
    page.context.new_cdp_session(page).send("Emulation.setTouchEmulationEnabled",
                                            {"enabled": True, "maxTouchPoints": 5})
    sign_in_as(page, portal, SUPERVISOR, return_to="/requests/new")
    assert the_outcome(page) == BLOCKED
    expect(page.locator("#browser-gate")).to_contain_text(
        "Your browser says it runs on a Mac, but this device has a touch screen")
    expect(page.locator("#browser-gate")).not_to_contain_text("You are using Safari")
    save_screenshot(page, "wizard-gate-ipad-desktop-mode")


# The server alone sees these: other makers' WebKit browsers are not Safari, an Android phone
# named "iPhone X" is not an iPhone, and an iPad asking for the desktop site with Firefox keeps
# FxiOS in its Mac User-Agent.
TIZEN_TV = ("Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "76.0.3809.146/6.0 TV Safari/537.36")
PLAYSTATION_5 = ("Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like "
                 "Gecko) Version/13.0 Safari/605.1.15")
ANDROID_IPHONE_X = ("Mozilla/5.0 (Linux; Android 9; iPhone X Build/PKQ1.180904.001) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/88.0.4324.93 Mobile Safari/537.36")
IPAD_FIREFOX_DESKTOP_SITE = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                             "(KHTML, like Gecko) FxiOS/124.0 Safari/605.1.15")


@pytest.mark.parametrize(("user_agent", "width"), [(TIZEN_TV, 1280), (PLAYSTATION_5, 1280),
                                                   (ANDROID_IPHONE_X, 390)],
                         ids=["Tizen TV", "PlayStation 5", "Android phone named iPhone X"])
def test_browsers_that_only_look_like_apple_ones_open_the_wizard(portal, page_at, user_agent, width):
    page = wizard_under(page_at, portal, width=width, user_agent=user_agent)
    assert the_outcome(page) == ALLOWED


def test_an_ipad_with_firefox_asking_for_the_desktop_site_is_blocked_by_the_server(portal, page_at):
    page = wizard_under(page_at, portal, width=1280, user_agent=IPAD_FIREFOX_DESKTOP_SITE)
    assert the_outcome(page) == BLOCKED
    expect(page.locator("#browser-gate")).to_contain_text("You are using Firefox for iPhone and iPad.")
    save_screenshot(page, "wizard-gate-ipad-firefox-desktop-site")


def test_a_mac_with_chrome_and_no_touch_screen_opens_the_wizard(portal, page_at):
    page = wizard_under(page_at, portal, width=1280, user_agent=MAC_CHROME_UA)
    assert the_outcome(page) == ALLOWED


def test_the_block_page_copies_and_emails_the_link_and_gives_the_phone_number(portal, page_at, devices):
    page = wizard_under(page_at, portal, width=1280, user_agent=devices["Desktop Safari"]["user_agent"])
    assert the_outcome(page) == BLOCKED
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal)
    page.get_by_role("button", name="Copy the link").click()
    expect(page.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
    # The wizard's address names its step (the Back button moves between steps).
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.split("?")[0].rstrip("/") == f"{portal}/requests/new"
    expect(page.get_by_label("The address of this page")).to_have_value(
        re.compile(f"^{re.escape(portal)}/requests/new/?(\\?step=\\d+)?$"))

    # Labelled for what it is: a new message in the mail app, addressed by the person.
    write = page.get_by_role("link", name="Write an email with the link")
    expect(write).to_have_accessible_description(re.compile("You choose whom to send it to"))
    mailto = write.get_attribute("href")
    assert mailto.startswith("mailto:?subject=")
    assert quote(f"{portal}/requests/new", safe="") in mailto
    gate = page.locator("#browser-gate")
    assert gate.get_by_role("link", name="(406) 444-5580").get_attribute("href") == "tel:+14064445580"
    save_screenshot(page, "wizard-gate-desktop-safari-1280")
    from tests.e2e.test_wizard_journeys import assert_accessible

    assert_accessible(page, "the block page")


def test_dashboards_stay_readable_on_an_iphone(portal, page_at, devices):
    iphone = devices["iPhone 13"]
    page = page_at(width=iphone["viewport"]["width"], height=iphone["viewport"]["height"],
                   **{k: v for k, v in iphone.items() if k != "viewport"})
    sign_in_as(page, portal, SUPERVISOR)
    expect(page.get_by_role("heading", name="Welcome, Marcus Reyes")).to_be_visible(timeout=20000)
    expect(page.get_by_role("heading", name=BLOCKED)).to_have_count(0)
    save_screenshot(page, "dashboard-iphone-13")
