"""The browser policy against every device Playwright knows how to emulate.

Playwright ships over 200 device descriptors with real-world User-Agent
strings. Reading them needs the Playwright driver but no browser. The
expected verdict is worked out here from the descriptor alone, with a rule
deliberately simpler than (and independent of) the module under test.
"""

from __future__ import annotations

from functools import cache

import pytest
from playwright.sync_api import sync_playwright

from immtrax_portal.browser_policy import assess_user_agent

APPLE_MOBILE_TOKENS = ("iPhone", "iPad", "iPod")


@cache
def playwright_devices() -> dict[str, dict]:
    """All device descriptors, read once (names are needed at collection time)."""
    with sync_playwright() as playwright:
        return dict(playwright.devices)


def expected_to_be_blocked(descriptor: dict) -> bool:
    """Blocked iff it is an Apple mobile device or desktop Safari.

    Desktop Safari is the only descriptor Playwright runs in WebKit without
    mobile emulation. The other WebKit descriptors are phones and tablets
    running non-Apple browsers (old Android stock browser, Amazon Silk,
    BlackBerry, Nokia), which are not Safari and stay allowed.
    """
    user_agent = descriptor["user_agent"]
    apple_mobile = any(token in user_agent for token in APPLE_MOBILE_TOKENS)
    desktop_safari = descriptor["default_browser_type"] == "webkit" and not descriptor["is_mobile"]
    return apple_mobile or desktop_safari


@pytest.fixture(scope="module")
def devices() -> dict[str, dict]:
    return playwright_devices()


def test_playwright_provides_over_two_hundred_devices_to_check(devices):
    assert len(devices) > 200


def test_the_device_list_includes_both_blocked_and_allowed_devices(devices):
    verdicts = [expected_to_be_blocked(d) for d in devices.values()]
    assert any(verdicts) and not all(verdicts)
    assert expected_to_be_blocked(devices["Desktop Safari"])
    assert not expected_to_be_blocked(devices["Desktop Chrome"])


@pytest.mark.parametrize("device_name", sorted(playwright_devices()))
def test_each_playwright_device_gets_the_expected_verdict(devices, device_name):
    descriptor = devices[device_name]
    verdict = assess_user_agent(descriptor["user_agent"])
    assert verdict.blocked == expected_to_be_blocked(descriptor), (
        f"{device_name}: {descriptor['user_agent']!r} parsed as "
        f"{verdict.browser!r} on {verdict.os!r} (reason {verdict.reason!r})"
    )
