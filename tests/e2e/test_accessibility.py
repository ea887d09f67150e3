"""WCAG 2.1 A/AA rules checked by axe-core on every page, signed out and signed in."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.conftest import sign_in_as

pytestmark = pytest.mark.e2e

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


def assert_no_violations(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    results = Axe().run(page, options=WCAG_21_AA)
    found = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
             for v in results.response["violations"]]
    assert found == [], f"{name}: {found}"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path", ["/", "/sign-in?return_to=/dashboard", f"/agreement/{'C' * 43}"])
def test_public_pages_pass_wcag_21_aa(portal, page_at, path, width):
    page = page_at(width=width)
    page.goto(portal + path)
    page.get_by_role("main").get_by_role("heading", level=1).wait_for()
    assert_no_violations(page, path)


@pytest.mark.parametrize(
    ("subject", "path", "heading"),
    [
        ("demo-supervisor-two-orgs", "/dashboard", "Welcome, Dana Whitfield"),
        ("demo-staff", "/dashboard", "Welcome, Pat O'Connor"),
        ("demo-applicant", "/dashboard", "Welcome, Jordan Tall Bull"),
        ("demo-staff", "/request?number=IMR-2026-000004", "Request IMR-2026-000004"),
        ("demo-admin", "/admin/staff", "Program staff"),
        ("demo-staff", "/dev/mailbox", "Outgoing mail"),
        ("demo-staff", "/staff/queue", "Request queue"),
        ("demo-staff", "/staff/queue?status=all", "Request queue"),
        ("demo-staff", "/staff/metrics", "Queue metrics"),
        ("demo-staff", "/request?number=IMR-2026-000003", "Request IMR-2026-000003"),
        ("demo-applicant", "/admin/staff", "You are not allowed to open that page"),
        ("demo-staff", "/staff/organizations", "Organizations"),
        ("demo-staff", "/staff/organization?id=1", "Billings Family Clinic (BFC-0101)"),
        ("demo-staff", "/staff/organizations/import", "Import organizations"),
        ("demo-staff", "/staff/agreements", "User Agreement versions"),
    ],
)
def test_signed_in_pages_pass_wcag_21_aa(portal, page_at, subject, path, heading):
    page = page_at(width=1280)
    sign_in_as(page, portal, subject, return_to=path)
    page.get_by_role("main").get_by_role("heading", name=heading).wait_for()
    assert_no_violations(page, f"{path} as {subject}")
