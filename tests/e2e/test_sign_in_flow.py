"""Signing in and out in Chromium through the real demo OpenID Connect provider."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e


def test_supervisor_signs_in_sees_dashboard_and_signs_out(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-supervisor-two-orgs")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Welcome, Dana Whitfield").wait_for()
    assert main.get_by_role("heading", name="Needs you").is_visible()
    assert "IMR-2026-" in main.inner_text()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["immtrax_session"]["httpOnly"] is True
    assert cookies["immtrax_session"]["sameSite"] == "Lax"
    save_screenshot(page, "dashboard-supervisor-1280")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto(portal + "/dashboard")
    # A signed-out browser is sent to sign in again.
    page.wait_for_url("**/sign-in?return_to=/dashboard**", timeout=15000)


def test_session_cookie_is_not_readable_by_page_scripts(portal, page_at):
    page = page_at()
    sign_in_as(page, portal, "demo-applicant")
    page.get_by_role("main").get_by_role("heading", name="Welcome, Jordan Tall Bull").wait_for()
    assert "immtrax_session" not in page.evaluate("document.cookie")


def test_signed_out_visitor_is_told_about_okta_and_continues_to_the_demo_picker(portal, page_at):
    page = page_at(width=390)
    page.goto(portal + "/dashboard")
    page.wait_for_url("**/sign-in?return_to=/dashboard**", timeout=15000)
    main = page.get_by_role("main")
    main.get_by_role("heading", name="No Okta account yet?").wait_for()
    assert main.get_by_role("link", name="Create Okta User Account guide").is_visible()
    assert "need your own Okta account to sign the imMTrax User Agreement" in main.inner_text()
    assert "Demo sign-in." in main.get_by_test_id("demo-sign-in-label").inner_text()
    save_screenshot(page, "sign-in-page-390")

    main.get_by_role("link", name="Continue to sign in with Okta").click()
    page.wait_for_url("**/oauth2/authorize**", timeout=15000)
    assert page.locator('button[name="sub"]').count() >= 5
    page.locator('button[name="sub"][value="demo-staff"]').click()
    page.wait_for_url(portal + "/dashboard**", wait_until="domcontentloaded")
    page.get_by_role("main").get_by_role("heading", name="Open requests (program queue)").wait_for()
    save_screenshot(page, "dashboard-staff-390")


def test_applicant_opening_a_supervisor_page_sees_not_allowed(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-applicant")
    page.get_by_role("main").get_by_role("heading", name="Welcome, Jordan Tall Bull").wait_for()
    assert page.get_by_role("heading", name="Needs you").count() == 0
    save_screenshot(page, "dashboard-applicant-390")
