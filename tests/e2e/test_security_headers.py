"""Security headers on everything the portal's port serves, and a CSP the app works under."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import sign_in_as

pytestmark = pytest.mark.e2e

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def built_asset_paths(portal: str) -> list[str]:
    """A script and a stylesheet the landing page loads (their names change with each build)."""
    html = httpx.get(f"{portal}/", timeout=10).text
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"|href="(/assets/[^"]+\.js)"', html)
    styles = re.findall(r'href="(/assets/[^"]+\.css)"', html)
    return [next(filter(None, scripts[0])), styles[0]]


def test_every_kind_of_response_carries_the_security_headers(portal):
    paths = ["/", "/dashboard/", "/requests/new/", "/portal.js", "/ping", "/auth/sign-in",
             "/auth/sign-out", "/no-such-page", *built_asset_paths(portal)]
    for path in paths:
        response = httpx.get(f"{portal}{path}", timeout=10, follow_redirects=False)
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (path, name, response.status_code)
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy, path
        assert response.headers.get("referrer-policy") in ("strict-origin-when-cross-origin", "no-referrer")
        assert "strict-transport-security" not in response.headers  # plain http here


def test_the_agreement_address_sends_no_referrer_and_other_pages_send_the_origin_only(portal):
    assert httpx.get(f"{portal}/agreement/?token=x", timeout=10).headers["referrer-policy"] == "no-referrer"
    assert httpx.get(f"{portal}/", timeout=10).headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_pages_work_under_the_policy_with_no_violation(portal, page_at):
    """Pages render, the event websocket connects, handlers run (the wizard moves focus with a
    script Reflex evaluates), sign-out follows the provider redirect: no CSP violation anywhere."""
    page = page_at(1280)
    page.add_init_script("""
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    """)
    console = []
    page.on("console", lambda message: console.append(message.text))
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    violations = []

    def collect():
        violations.extend(page.evaluate("window.__cspViolations || []"))

    page.goto(f"{portal}/")
    page.get_by_role("heading", level=1).first.wait_for()
    collect()
    sign_in_as(page, portal, "demo-supervisor-two-orgs", "/requests/new")
    page.get_by_role("button", name="Continue").click()
    page.locator("[role=alert], .error-summary").first.wait_for(timeout=15000)
    collect()
    page.goto(f"{portal}/dashboard")
    page.get_by_role("button", name="Sign out").first.wait_for()
    collect()
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert any("/_event" in url for url in sockets)
    assert violations == []
    assert not [line for line in console if "Content Security Policy" in line]
