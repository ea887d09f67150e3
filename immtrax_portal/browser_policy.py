"""Which browsers may open the imMTrax forms.

The program's own guidance says the forms cannot be filled out in Apple's
Safari and must not be opened on an iPhone or other Apple mobile device.
This module turns a User-Agent header into a verdict the UI can act on,
and the verdict names only what was really detected.

It is plain Python on purpose (no Reflex import) so that it can be tested
and reused on its own. The User-Agent is read with the maintained
``ua_parser`` package rather than hand-written substring checks, because
the obvious tokens lie: desktop Chrome and Android Chrome both say "Safari",
smart TVs and game consoles send "Version/… Safari/…" from their own WebKit
builds, and cheap Android phones call their model "iPhone X". The parser's
answers are therefore read together: Apple's Safari is Safari on Apple's
systems (macOS, and the old Safari for Windows); an Apple device is one whose
system is Apple's, or unknown.

Linear time: ``ua_parser`` runs its rules through ``ua_parser_rs`` (Rust's
``regex`` crate, finite automata without backtracking), never Python's
backtracking ``re``; the few checks made here are plain substring tests. The
header is also cut to :data:`MAX_USER_AGENT_CHARS` first.

The server can only see the User-Agent. iPadOS 13+ claims to be a Mac, so
:data:`IPAD_AS_MAC_JS` lets the browser finish the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import Parser
from ua_parser.loaders import load_builtins
from ua_parser.regex import Resolver as LinearTimeResolver

REASON_SAFARI = "safari"
REASON_APPLE_MOBILE_DEVICE = "apple_mobile_device"

MAX_USER_AGENT_CHARS = 1024
"""Real User-Agents are a few hundred characters; longer ones are cut before parsing."""

_PARSER = Parser(LinearTimeResolver(load_builtins()))

# Every browser on iOS/iPadOS is Safari's engine underneath (Chrome = CriOS,
# Firefox = FxiOS, Edge = EdgiOS, in-app browsers), so the device decides.
_APPLE_MOBILE_OS = frozenset({"iOS", "iPadOS", "watchOS"})
# The parser's device names for Apple's mobile devices, and how to say them.
_APPLE_MOBILE_DEVICES = (("iPhone", "an iPhone"), ("iPad", "an iPad"), ("iPod", "an iPod touch"),
                         ("Apple Watch", "an Apple Watch"))
# A device name is believed only when the system is Apple's or unknown: an Android phone
# whose model is called "iPhone 12 Pro Max" is an Android phone.
_APPLE_OR_UNKNOWN_OS = frozenset({"iOS", "iPadOS", "watchOS", "Mac OS X", "Other"})

# Browsers that exist only for iOS/iPadOS. An iPad asking for the desktop site sends a Mac
# User-Agent, but these keep their token ("CriOS/124…"), so such a "Mac" is an iPad.
_IOS_ONLY_BROWSER_TOKENS = (("CriOS/", "Chrome for iPhone and iPad"),
                            ("FxiOS/", "Firefox for iPhone and iPad"),
                            ("EdgiOS/", "Edge for iPhone and iPad"),
                            ("OPiOS/", "Opera for iPhone and iPad"))

# Browser families ua_parser uses for Apple's Safari (desktop, mobile, and
# apps embedding Safari's WKWebView) ...
_SAFARI_FAMILIES = frozenset({"Safari", "Mobile Safari", "Mobile Safari UI/WKWebView"})
# ... which is Apple's Safari only on Apple's systems (and the Safari for Windows of 2007-2012).
# Elsewhere (Tizen, webOS, PlayStation, Roku, Linux) it is another maker's WebKit browser.
_SAFARI_SYSTEMS = ("Mac OS X", "Windows")

IPAD_AS_MAC_JS = "(/Macintosh/.test(navigator.userAgent) && (navigator.maxTouchPoints || 0) > 1)"
"""JavaScript expression, true on an iPad that presents itself as a Mac.

Macs have no touch screen, so a "Macintosh" User-Agent with several touch
points is an iPad in desktop mode (Safari by default on iPadOS 13+, or
Chrome/Firefox/Edge asking for the desktop site). Real iPads report 5.
"""


@dataclass(frozen=True)
class BrowserVerdict:
    """Whether the forms are blocked, why, and what the parser saw.

    ``reason`` is a short machine code (``"safari"``,
    ``"apple_mobile_device"``, or ``""`` when allowed); ``browser`` and
    ``os`` are the parser's family names, kept for logs and messages;
    ``detected`` is what was found, in words for the message ("an iPhone",
    "Chrome for iPhone and iPad", "Safari").
    """

    blocked: bool
    reason: str
    browser: str
    os: str
    detected: str = ""


def assess_user_agent(user_agent: str | None) -> BrowserVerdict:
    """Decide from a User-Agent header whether the forms may be used.

    A missing or unrecognised User-Agent is allowed: the rule exists to keep
    people off Safari and Apple mobile devices, not to lock out unusual but
    legitimate browsers.
    """
    return _assess((user_agent or "")[:MAX_USER_AGENT_CHARS].strip())


def _apple_device(device_family: str, os_family: str) -> str:
    if os_family not in _APPLE_OR_UNKNOWN_OS:
        return ""
    for prefix, words in _APPLE_MOBILE_DEVICES:
        if device_family.startswith(prefix):
            return words
    return ""


@lru_cache(maxsize=1024)
def _assess(user_agent: str) -> BrowserVerdict:
    """Cached core of :func:`assess_user_agent`: the same few User-Agent
    strings arrive on every request, and parsing runs many rules."""
    if not user_agent:
        return BrowserVerdict(blocked=False, reason="", browser="", os="")
    result = _PARSER.parse(user_agent).with_defaults()
    browser, os_family = result.user_agent.family, result.os.family

    def blocked(reason: str, detected: str) -> BrowserVerdict:
        return BrowserVerdict(True, reason, browser, os_family, detected)

    # Apple mobile devices first: there changing browser does not help, so that is the more
    # useful thing to tell the person.
    if "Macintosh" in user_agent:
        for token, words in _IOS_ONLY_BROWSER_TOKENS:
            if token in user_agent:
                return blocked(REASON_APPLE_MOBILE_DEVICE, words)
    if device := _apple_device(result.device.family, os_family):
        return blocked(REASON_APPLE_MOBILE_DEVICE, device)
    if os_family in _APPLE_MOBILE_OS:
        return blocked(REASON_APPLE_MOBILE_DEVICE, f"Apple's {os_family}")
    if browser in _SAFARI_FAMILIES:
        if os_family.startswith(_SAFARI_SYSTEMS):
            return blocked(REASON_SAFARI, "Safari")
        # Not Apple's Safari: say what it is, not what its User-Agent imitates.
        browser = "WebKit browser"
    return BrowserVerdict(blocked=False, reason="", browser=browser, os=os_family)


_POLICY = {
    REASON_SAFARI: "The imMTrax forms cannot be filled out in Safari.",
    REASON_APPLE_MOBILE_DEVICE: "The imMTrax forms must not be opened on an Apple mobile device.",
}


def describe_block(verdict: BrowserVerdict) -> str:
    """Plain-English sentence for the blocking page ("" when not blocked), naming only what was
    detected: "You are using Safari.", "You are on an iPad.", "You are using Chrome for iPhone and
    iPad." (an iPad asking for the desktop site)."""
    if not verdict.blocked:
        return ""
    policy = _POLICY.get(verdict.reason, "The imMTrax forms cannot be used in this browser.")
    detected = verdict.detected
    if not detected:
        return policy
    if detected.startswith("an "):
        return f"You are on {detected}. {policy}"
    if detected.startswith("Apple's "):
        return f"Your device runs {detected}. {policy}"
    return f"You are using {detected}. {policy}"


IPAD_AS_MAC = BrowserVerdict(True, REASON_APPLE_MOBILE_DEVICE, "", "", "")
"""The browser's own finding (:data:`IPAD_AS_MAC_JS`): a Mac User-Agent on a touch screen."""


def describe_ipad_as_mac() -> str:
    """What the browser-side check really found, in words."""
    return ("Your browser says it runs on a Mac, but this device has a touch screen, as an iPad "
            "has. " + _POLICY[REASON_APPLE_MOBILE_DEVICE])
