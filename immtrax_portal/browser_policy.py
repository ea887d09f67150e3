"""Which browsers may open the imMTrax forms.

The program's own guidance says the forms cannot be filled out in Apple's
Safari and must not be opened on an iPhone or other Apple mobile device.
This module turns a User-Agent header into a verdict the UI can act on.

It is plain Python on purpose (no Reflex import) so that it can be tested
and reused on its own. The User-Agent is read with the maintained
``ua_parser`` package rather than hand-written substring checks, because
the obvious tokens lie: desktop Chrome and Android Chrome both say "Safari",
and Windows Phone once said "like iPhone".

The server can only see the User-Agent. iPadOS 13+ claims to be a Mac, so
:data:`IPAD_AS_MAC_JS` lets the browser finish the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

REASON_SAFARI = "safari"
REASON_APPLE_MOBILE_DEVICE = "apple_mobile_device"

# Every browser on iOS/iPadOS is Safari's engine underneath (Chrome = CriOS,
# Firefox = FxiOS, Edge = EdgiOS, in-app browsers), so the device decides.
_APPLE_MOBILE_OS = frozenset({"iOS", "iPadOS"})
_APPLE_MOBILE_DEVICES = ("iPhone", "iPad", "iPod")

# Browser families ua_parser uses for Apple's Safari (desktop, mobile, and
# apps embedding Safari's WKWebView).
_SAFARI_FAMILIES = frozenset({"Safari", "Mobile Safari", "Mobile Safari UI/WKWebView"})

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
    ``os`` are the parser's family names, kept for logs and messages.
    """

    blocked: bool
    reason: str
    browser: str
    os: str


def assess_user_agent(user_agent: str | None) -> BrowserVerdict:
    """Decide from a User-Agent header whether the forms may be used.

    A missing or unrecognised User-Agent is allowed: the rule exists to keep
    people off Safari and Apple mobile devices, not to lock out unusual but
    legitimate browsers.
    """
    return _assess((user_agent or "").strip())


@lru_cache(maxsize=1024)
def _assess(user_agent: str) -> BrowserVerdict:
    """Cached core of :func:`assess_user_agent`: the same few User-Agent
    strings arrive on every request, and parsing runs many regexes."""
    if not user_agent:
        return BrowserVerdict(blocked=False, reason="", browser="", os="")
    result = parse(user_agent).with_defaults()
    browser, os_family = result.user_agent.family, result.os.family

    # Checked first: on an Apple mobile device changing browser does not help,
    # so that is the more useful thing to tell the person.
    if os_family in _APPLE_MOBILE_OS or result.device.family.startswith(_APPLE_MOBILE_DEVICES):
        reason = REASON_APPLE_MOBILE_DEVICE
    elif browser in _SAFARI_FAMILIES:
        reason = REASON_SAFARI
    else:
        reason = ""
    return BrowserVerdict(blocked=bool(reason), reason=reason, browser=browser, os=os_family)


_BLOCK_MESSAGES = {
    REASON_SAFARI: "You are using Safari. The imMTrax forms cannot be filled out in Safari.",
    REASON_APPLE_MOBILE_DEVICE: (
        "You are on an iPhone or iPad. "
        "The imMTrax forms must not be opened on an Apple mobile device."
    ),
}


def describe_block(verdict: BrowserVerdict) -> str:
    """Plain-English sentence for the blocking page ("" when not blocked).

    The browser-side iPad check can reuse the ``apple_mobile_device`` reason:
    ``describe_block(BrowserVerdict(True, "apple_mobile_device", "", ""))``.
    """
    if not verdict.blocked:
        return ""
    return _BLOCK_MESSAGES.get(verdict.reason, "The imMTrax forms cannot be used in this browser.")
