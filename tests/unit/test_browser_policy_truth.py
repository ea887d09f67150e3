"""The browser gate tells the truth: it blocks only Apple's Safari and Apple's mobile devices, and
its message names only what it really detected.

The User-Agents are written out here in the formats each maker's browser sends (smart TVs, game
consoles, old Android stock browsers, Linux WebKit browsers, Android phones sold as "iPhone" look-
alikes, iPads asking for the desktop site). Before this, every WebKit browser whose User-Agent said
"Version/… Safari/…" was told "You are using Safari", an Android phone whose model was called
"iPhone X" was blocked as an Apple device, and a Mac User-Agent carrying Firefox's iOS token was
allowed.
"""

from __future__ import annotations

import time

import pytest

from immtrax_portal import browser_policy
from immtrax_portal.browser_policy import (
    MAX_USER_AGENT_CHARS,
    assess_user_agent,
    describe_block,
    describe_ipad_as_mac,
)

# Other makers' WebKit browsers that imitate Safari's "Version/… Safari/…" tokens.
NOT_APPLE_WEBKIT = {
    "Samsung smart TV (Tizen 6)": (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36"),
    "Samsung smart TV (Tizen 3)": (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 3.0) AppleWebKit/538.1 (KHTML, like Gecko) "
        "Version/3.0 TV Safari/538.1"),
    "LG smart TV (webOS)": (
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.41 (KHTML, like Gecko) Large Screen "
        "WebAppManager Safari/537.41"),
    "LG smart TV (NetCast)": (
        "Mozilla/5.0 (Linux; NetCast; U) AppleWebKit/537.31 (KHTML, like Gecko) Version/5.0 "
        "Safari/537.31 SmartTV/5.0"),
    "Hisense smart TV (VIDAA)": (
        "Mozilla/5.0 (Linux; VIDAA 6.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/5.0 "
        "Safari/537.36"),
    "Roku": (
        "Mozilla/5.0 (Linux; U; Roku 9.4) AppleWebKit/537.36 (KHTML, like Gecko) Version/9.4 "
        "Safari/537.36"),
    "PlayStation 5": (
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/13.0 Safari/605.1.15"),
    "PlayStation 4": "Mozilla/5.0 (PlayStation 4 8.52) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Nintendo Switch": (
        "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) "
        "NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393"),
    "Android stock browser (Android 4)": (
        "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 "
        "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"),
    "Android TV web view": (
        "Mozilla/5.0 (Linux; Android 9; SHIELD Android TV) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Safari/537.36"),
    "BlackBerry 10": (
        "Mozilla/5.0 (BB10; Touch) AppleWebKit/537.35+ (KHTML, like Gecko) Version/10.3.3.3216 "
        "Mobile Safari/537.35+"),
    "GNOME Web on Linux (no own token)": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
        "Safari/605.1.15"),
    "WebKit on FreeBSD": (
        "Mozilla/5.0 (X11; FreeBSD amd64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.0 "
        "Safari/605.1.15"),
    "KaiOS feature phone": (
        "Mozilla/5.0 (Mobile; Nokia_8110_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5"),
    "Kindle e-reader": (
        "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like "
        "Gecko) Version/5.0 Safari/531.2+ Kindle/3.0+"),
}

# Android phones whose model names imitate Apple's.
ANDROID_CALLED_IPHONE = {
    "Chrome on an Android 'iPhone X'": (
        "Mozilla/5.0 (Linux; Android 9; iPhone X Build/PKQ1.180904.001) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/88.0.4324.93 Mobile Safari/537.36"),
    "Chrome on an Android 'iPhone 12 Pro Max'": (
        "Mozilla/5.0 (Linux; Android 10; iPhone 12 Pro Max) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/91.0.4472.120 Mobile Safari/537.36"),
    "stock browser on an Android 'iPhone6s'": (
        "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; iPhone6s Build/KOT49H) AppleWebKit/534.30 "
        "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30"),
}

# An iPad asking for the desktop site: a Mac User-Agent, but the iOS browser keeps its token.
MAC_WITH_IOS_BROWSER = {
    "Firefox on an iPad (FxiOS)": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "FxiOS/124.0 Safari/605.1.15", "You are using Firefox for iPhone and iPad."),
    "Chrome on an iPad (CriOS)": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/123.0.6312.52 Safari/605.1.15", "You are using Chrome for iPhone and iPad."),
    "Chrome on an iPad (CriOS, Version token)": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/120.0.6099.119 Version/17.0 Safari/605.1.15",
        "You are using Chrome for iPhone and iPad."),
    "Edge on an iPad (EdgiOS)": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.0 EdgiOS/123.0.2420.56 Safari/605.1.15",
        "You are using Edge for iPhone and iPad."),
}

MAC_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
              "Gecko) Version/17.4.1 Safari/605.1.15")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1")
IPAD_CHROME = ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
               "Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1")


@pytest.mark.parametrize("user_agent", NOT_APPLE_WEBKIT.values(), ids=NOT_APPLE_WEBKIT.keys())
def test_other_makers_webkit_browsers_are_not_safari(user_agent):
    verdict = assess_user_agent(user_agent)
    assert not verdict.blocked, verdict
    assert describe_block(verdict) == ""
    assert "Safari" not in verdict.browser  # not even in the logs


@pytest.mark.parametrize("user_agent", ANDROID_CALLED_IPHONE.values(),
                         ids=ANDROID_CALLED_IPHONE.keys())
def test_an_android_phone_named_like_an_iphone_is_an_android_phone(user_agent):
    verdict = assess_user_agent(user_agent)
    assert not verdict.blocked, verdict
    assert verdict.os == "Android"


@pytest.mark.parametrize(("user_agent", "message"), MAC_WITH_IOS_BROWSER.values(),
                         ids=MAC_WITH_IOS_BROWSER.keys())
def test_a_mac_user_agent_with_an_ios_browser_token_is_an_ipad(user_agent, message):
    verdict = assess_user_agent(user_agent)
    assert verdict.blocked and verdict.reason == "apple_mobile_device"
    assert describe_block(verdict) == (
        f"{message} The imMTrax forms must not be opened on an Apple mobile device.")


@pytest.mark.parametrize(
    ("user_agent", "message"),
    [
        pytest.param(MAC_SAFARI, "You are using Safari.", id="Safari on a Mac"),
        pytest.param(IPHONE_SAFARI, "You are on an iPhone.", id="Safari on an iPhone"),
        pytest.param(IPAD_CHROME, "You are on an iPad.", id="Chrome on an iPad"),
    ],
)
def test_each_message_names_what_was_detected_and_nothing_more(user_agent, message):
    text = describe_block(assess_user_agent(user_agent))
    assert text.startswith(message + " ")
    others = {"Safari", "iPhone", "iPad", "iPod"} - set(message.rstrip(".").split())
    assert not any(word in text.split(".")[0] for word in others), text


def test_the_browser_side_ipad_finding_says_what_the_browser_saw():
    text = describe_ipad_as_mac()
    assert text.startswith("Your browser says it runs on a Mac, but this device has a touch screen")
    assert "Safari" not in text and "iPhone" not in text


def test_the_parser_runs_on_finite_automata_not_backtracking_regexes():
    from ua_parser.regex import Resolver

    resolver = browser_policy._PARSER.resolver
    assert isinstance(resolver, Resolver), type(resolver)
    source = browser_policy.__file__
    with open(source, encoding="utf-8") as module:
        text = module.read()
    assert "import re\n" not in text and "from re import" not in text


@pytest.mark.parametrize(
    "shape",
    [
        "a" * 5000,
        "Mozilla/5.0 (" + "; " * 3000,
        "Mozilla/5.0 (Linux; Android " + "1." * 3000,
        " ".join(["Version/1.0 Safari/1.0"] * 300),
        "iPhone " * 800,
        "Mozilla/5.0 (Macintosh; " + "CriOS" * 1000,
    ],
    ids=["letters", "separators", "version digits", "repeated tokens", "device names",
         "broken iOS tokens"],
)
def test_hostile_user_agents_are_cut_and_parsed_quickly(shape):
    browser_policy._assess.cache_clear()
    started = time.perf_counter()
    assess_user_agent(shape)
    assert time.perf_counter() - started < 0.05
    assert browser_policy._assess.cache_info().currsize == 1
    assert len(shape) > MAX_USER_AGENT_CHARS
