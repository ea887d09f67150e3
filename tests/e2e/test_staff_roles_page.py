"""Admins manage the staff role in the browser; staff without the flag are turned away."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e


def test_admin_adds_and_removes_a_staff_member(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-admin", return_to="/admin/staff")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Program staff").wait_for()
    main.get_by_label("Work email of the person to make staff").fill("jules.keller@greatfallsph.example")
    main.get_by_role("button", name="Add to staff").click()
    main.get_by_text("Jules Keller (jules.keller@greatfallsph.example) is now program staff").wait_for()
    assert main.get_by_role("cell", name="jules.keller@greatfallsph.example").is_visible()
    save_screenshot(page, "admin-staff-1280")

    main.get_by_role("button", name="Remove staff role from Jules Keller").click()
    main.get_by_role("button", name="Yes, remove the staff role").click()
    main.get_by_text("Jules Keller (jules.keller@greatfallsph.example) is no longer program staff."
                     ).wait_for()
    assert main.get_by_role("cell", name="jules.keller@greatfallsph.example").count() == 0


def test_admin_sees_a_clear_message_for_an_unknown_email(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-admin", return_to="/admin/staff")
    main = page.get_by_role("main")
    main.get_by_label("Work email of the person to make staff").fill("nobody@nowhere.example")
    main.get_by_role("button", name="Add to staff").click()
    main.locator("#field-staff-email-error").get_by_text("Nobody with that email has signed in to the "
                                                         "portal yet").wait_for()
    field = main.get_by_label("Work email of the person to make staff")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "admin-staff-error-390")


def test_staff_without_admin_flag_sees_not_allowed(portal, page_at):
    page = page_at()
    sign_in_as(page, portal, "demo-staff", return_to="/admin/staff")
    page.wait_for_url("**/not-allowed**")
    page.get_by_role("heading", name="You are not allowed to open that page").wait_for()
