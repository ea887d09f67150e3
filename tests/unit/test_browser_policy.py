"""The browser policy: Safari and Apple mobile devices are blocked, the rest allowed."""

from __future__ import annotations

import dataclasses

import pytest

from immtrax_portal.browser_policy import (
    IPAD_AS_MAC_JS,
    BrowserVerdict,
    assess_user_agent,
    describe_block,
)

MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
)
# iPadOS 13+ sends exactly the desktop Safari User-Agent.
IPADOS_AS_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1"
)
IPOD_SAFARI = (
    "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1"
)
IPHONE_CHROME_CRIOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1"
)
IPAD_CHROME_CRIOS = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1"
)
IPHONE_FIREFOX_FXIOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) FxiOS/124.0 Mobile/15E148 Safari/605.1.15"
)
IPHONE_EDGE_EDGIOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 EdgiOS/123.0.2420.56 Mobile/15E148 Safari/605.1.15"
)
IPHONE_FACEBOOK_IN_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/452.0.0.39.110;FBDV/iPhone15,3;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]"
)
IPHONE_WKWEBVIEW = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
ANDROID_SAMSUNG_INTERNET = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
WINDOWS_OPERA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
CHROMEOS_CHROME = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
MAC_EDGE = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
WINDOWS_SAFARI_5 = (
    "Mozilla/5.0 (Windows; U; Windows NT 6.1; en-US) AppleWebKit/534.57.2 "
    "(KHTML, like Gecko) Version/5.1.7 Safari/534.57.2"
)


@pytest.mark.parametrize(
    "user_agent",
    [
        pytest.param(IPHONE_SAFARI, id="Mobile Safari on iPhone"),
        pytest.param(IPAD_SAFARI, id="Safari on iPad"),
        pytest.param(IPOD_SAFARI, id="Safari on iPod touch"),
        pytest.param(IPHONE_CHROME_CRIOS, id="Chrome on iPhone (CriOS)"),
        pytest.param(IPAD_CHROME_CRIOS, id="Chrome on iPad (CriOS)"),
        pytest.param(IPHONE_FIREFOX_FXIOS, id="Firefox on iPhone (FxiOS)"),
        pytest.param(IPHONE_EDGE_EDGIOS, id="Edge on iPhone (EdgiOS)"),
        pytest.param(IPHONE_FACEBOOK_IN_APP, id="Facebook in-app browser on iPhone"),
        pytest.param(IPHONE_WKWEBVIEW, id="app web view on iPhone"),
    ],
)
def test_every_browser_on_an_apple_mobile_device_is_blocked(user_agent):
    verdict = assess_user_agent(user_agent)
    assert verdict.blocked
    assert verdict.reason == "apple_mobile_device"
    assert verdict.os == "iOS"


@pytest.mark.parametrize(
    "user_agent",
    [
        pytest.param(MAC_SAFARI, id="Safari on macOS"),
        pytest.param(IPADOS_AS_MAC, id="iPadOS Safari presenting as a Mac"),
        pytest.param(WINDOWS_SAFARI_5, id="old Safari for Windows"),
    ],
)
def test_safari_is_blocked_on_any_system(user_agent):
    verdict = assess_user_agent(user_agent)
    assert verdict.blocked
    assert verdict.reason == "safari"
    assert verdict.browser == "Safari"


@pytest.mark.parametrize(
    ("user_agent", "browser", "os"),
    [
        pytest.param(ANDROID_CHROME, "Chrome Mobile", "Android", id="Chrome on Android"),
        pytest.param(
            ANDROID_SAMSUNG_INTERNET, "Samsung Internet", "Android", id="Samsung Internet"
        ),
        pytest.param(ANDROID_FIREFOX, "Firefox Mobile", "Android", id="Firefox on Android"),
        pytest.param(WINDOWS_CHROME, "Chrome", "Windows", id="Chrome on Windows"),
        pytest.param(WINDOWS_EDGE, "Edge", "Windows", id="Edge on Windows"),
        pytest.param(WINDOWS_FIREFOX, "Firefox", "Windows", id="Firefox on Windows"),
        pytest.param(WINDOWS_OPERA, "Opera", "Windows", id="Opera on Windows"),
        pytest.param(LINUX_FIREFOX, "Firefox", "Linux", id="Firefox on Linux"),
        pytest.param(CHROMEOS_CHROME, "Chrome", "Chrome OS", id="Chrome on ChromeOS"),
        pytest.param(MAC_CHROME, "Chrome", "Mac OS X", id="Chrome on macOS"),
        pytest.param(MAC_FIREFOX, "Firefox", "Mac OS X", id="Firefox on macOS"),
        pytest.param(MAC_EDGE, "Edge", "Mac OS X", id="Edge on macOS"),
    ],
)
def test_chrome_edge_firefox_and_chromium_browsers_are_allowed(user_agent, browser, os):
    assert assess_user_agent(user_agent) == BrowserVerdict(
        blocked=False, reason="", browser=browser, os=os
    )


def test_the_word_safari_in_a_chrome_user_agent_does_not_block_it():
    assert "Safari" in ANDROID_CHROME and "Safari" in WINDOWS_CHROME
    assert not assess_user_agent(ANDROID_CHROME).blocked
    assert not assess_user_agent(WINDOWS_CHROME).blocked


@pytest.mark.parametrize("user_agent", [None, "", "   "])
def test_a_missing_user_agent_is_allowed(user_agent):
    assert assess_user_agent(user_agent) == BrowserVerdict(
        blocked=False, reason="", browser="", os=""
    )


@pytest.mark.parametrize("user_agent", ["curl/8.5.0", "SomeKioskBrowser/1.0", "x"])
def test_an_unknown_user_agent_is_allowed(user_agent):
    verdict = assess_user_agent(user_agent)
    assert not verdict.blocked
    assert verdict.reason == ""


def test_a_verdict_cannot_be_changed_after_it_is_made():
    verdict = assess_user_agent(MAC_SAFARI)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.blocked = False  # type: ignore[misc]


def test_repeated_user_agents_give_the_same_cached_verdict():
    assert assess_user_agent(WINDOWS_EDGE) is assess_user_agent(WINDOWS_EDGE)


def test_the_blocking_page_names_safari():
    assert describe_block(assess_user_agent(MAC_SAFARI)) == (
        "You are using Safari. The imMTrax forms cannot be filled out in Safari."
    )


def test_the_blocking_page_names_the_apple_mobile_device():
    assert describe_block(assess_user_agent(IPHONE_CHROME_CRIOS)) == (
        "You are on an iPhone. The imMTrax forms must not be opened on an Apple mobile device."
    )
    assert describe_block(assess_user_agent(IPAD_SAFARI)) == (
        "You are on an iPad. The imMTrax forms must not be opened on an Apple mobile device."
    )
    assert describe_block(assess_user_agent(IPOD_SAFARI)).startswith("You are on an iPod touch.")


def test_an_allowed_browser_has_no_blocking_message():
    assert describe_block(assess_user_agent(WINDOWS_FIREFOX)) == ""


def test_an_unexpected_block_reason_still_gets_a_readable_message():
    message = describe_block(BrowserVerdict(True, "something_new", "", ""))
    assert message.endswith(".") and "imMTrax" in message


def test_the_ipad_as_mac_check_is_a_javascript_expression_about_mac_touch_screens():
    assert "Macintosh" in IPAD_AS_MAC_JS
    assert "navigator.maxTouchPoints" in IPAD_AS_MAC_JS
    assert IPAD_AS_MAC_JS.startswith("(") and IPAD_AS_MAC_JS.endswith(")")
