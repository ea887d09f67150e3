"""The embedded demo can be played through, and it agrees with itself, in Chromium.

- Dana invites a new employee; the employee opens the emailed link, where the header's "Sign in"
  leads back to the invitation (not the dashboard); the demo sign-in offers the employee under its
  "Demo only" heading; signed in as them, they sign the agreement.
- Every demo request past the agreement has its signed agreement (IMR-…-000004 showed "User
  Agreement ✓ done" on its request page while its signed-agreement page said "not signed yet").
"""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_agreement_journey import poll
from tests.e2e.test_wizard_journeys import (
    DANA,
    at_step,
    fill_person,
    open_fresh_wizard,
    press_continue,
    radio,
)

pytestmark = pytest.mark.e2e

STAFF = "demo-staff"


def invitation_link(mail_server, address: str) -> str:
    def link() -> str | None:
        for message in mail_server.messages_to(address):
            found = re.search(r"https?://\S+/agreement/[A-Za-z0-9_-]+",
                              message.get_body(("plain",)).get_content())
            if found:
                return found.group(0)
        return None
    return poll(link, 30, f"no invitation email to {address}")


def dana_invites(page, portal: str, first: str, last: str, email: str) -> str:
    open_fresh_wizard(page, portal, DANA)
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, first, last, email)
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    page.locator("#wizard-submit").click()
    at_step(page, 5, "Request submitted")
    return page.locator("#request-number").inner_text()


def test_invite_a_new_employee_then_sign_in_as_them_from_the_invitation(portal, page_at, mail_server):
    tag = uuid.uuid4().hex[:6]
    email = f"rowan.quill.{tag}@laurelpeds.example"
    number = dana_invites(page_at(1280), portal, "Rowan", "Quill", email)
    link = invitation_link(mail_server, email)

    page = page_at(390, 900)  # the employee's own browser, nobody signed in
    page.goto(link, wait_until="domcontentloaded")
    header = page.get_by_role("navigation", name="Account")
    sign_in = header.get_by_role("link", name="Sign in")
    expect(sign_in).to_have_attribute("href", re.compile(r"^/sign-in\?return_to=/agreement/"))
    save_screenshot(page, "demo-invitation-before-sign-in-390")
    sign_in.click()
    page.wait_for_url(re.compile(r"/sign-in\?return_to=/agreement/"))
    page.get_by_role("link", name="Continue to sign in with Okta").click()

    invitees = page.get_by_role("form", name="Demo only: people with a pending invitation")
    expect(page.get_by_role("heading", name="Demo only: people with a pending invitation")).to_be_visible()
    button = invitees.get_by_role("button", name=re.compile("Rowan Quill"))
    expect(button).to_contain_text(f"Invited to Laurel Pediatrics ({number})")
    save_screenshot(page, "demo-sign-in-pending-invitees-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    save_screenshot(page, "demo-sign-in-pending-invitees-1280")
    button.click()

    page.wait_for_url(link, timeout=20000)  # back on the invitation, not the dashboard
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("Rowan Quill")
    main = page.get_by_role("main")
    expect(main.get_by_text("Laurel Pediatrics").first).to_be_visible(timeout=20000)
    for box in main.get_by_role("checkbox").all():
        box.check()
    main.get_by_label("Type your full name to sign").fill("Rowan Quill")
    main.get_by_role("button", name="Sign the agreement").click()
    expect(page.get_by_role("heading", name="You signed the imMTrax User Agreement")).to_be_visible(
        timeout=20000)
    save_screenshot(page, "demo-invitee-signed-1280")


def test_every_demo_request_past_the_agreement_shows_its_signed_agreement(portal, page_at):
    page = page_at(1280)
    sign_in_as(page, portal, STAFF)
    year = date.today().year
    for serial, signer in ((2, "Kai Morningstar"), (4, "Indigo Brandt"), (5, "Lane Fairweather")):
        number = f"IMR-{year}-{serial:06d}"
        page.goto(f"{portal}/signed-agreement?number={number}", wait_until="domcontentloaded")
        main = page.get_by_role("main")
        expect(main).to_contain_text(signer, timeout=15000)
        expect(main).not_to_contain_text("not signed yet")
        if serial == 4:
            save_screenshot(page, "demo-signed-agreement-000004-1280")
            page.set_viewport_size({"width": 390, "height": 900})
            save_screenshot(page, "demo-signed-agreement-000004-390")
            page.set_viewport_size({"width": 1280, "height": 900})
