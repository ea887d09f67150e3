"""The staff mailbox says that a delivered email's stored copy keeps no working invitation link,
at phone and desktop widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [390, 1280])
def test_the_mailbox_says_stored_mail_keeps_no_working_invitation_link(width, portal, page_at):
    page = page_at(width=width)
    sign_in_as(page, portal, "demo-staff", return_to="/dev/mailbox")
    expect(page.get_by_role("heading", name="Outgoing mail")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ emails?$"))).to_be_visible()   # the list has loaded
    expect(page.get_by_text("the stored copy no longer holds a working invitation link")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"mailbox-{width}")
