"""A request's page in Chromium: staff complete a request, a supervisor answers a question,
and nobody sees another organization's request."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e


def open_request(page, portal, subject, number):
    sign_in_as(page, portal, subject, return_to=f"/request?number={number}")
    page.get_by_role("main").get_by_role("heading", name=f"Request {number}").wait_for()
    return page.get_by_role("main")


def test_staff_marks_credentials_sent_and_the_request_completes(portal, page_at, in_review):
    page = page_at(width=1280)
    main = open_request(page, portal, "demo-staff", in_review("Kai"))
    main.get_by_text("In review", exact=True).wait_for()
    main.get_by_role("button", name="Mark login credentials sent and complete").click()
    main.get_by_label("imMTrax username").fill("kmorningstar")
    main.get_by_role("checkbox", name="Login credentials sent to the user, outside the portal").check()
    save_screenshot(page, "request-detail-staff-1280")
    main.get_by_role("form").get_by_role("button", name="Mark login credentials sent and complete").click()
    main.get_by_text("Done. The request and its history below are up to date.").wait_for()
    assert main.get_by_text("Completed", exact=True).is_visible()
    assert "kmorningstar" in main.inner_text()
    assert "Pat O'Connor marked the login credentials sent and completed the request." in \
        main.get_by_role("region", name="History").inner_text()


def test_supervisor_answers_the_programs_question(portal, page_at, in_review):
    page = page_at(width=390)
    number = in_review(question="Will Gray still manage the vaccine lots?")
    main = open_request(page, portal, "demo-supervisor-two-orgs", number)
    main.get_by_role("button", name="Answer the program's question").click()
    main.get_by_role("textbox", name="Answer").fill("Gray will still manage lots until January.")
    main.get_by_role("form").get_by_role("button", name="Answer the program's question").click()
    main.get_by_text("Done. The request and its history below are up to date.").wait_for()
    assert main.get_by_text("In review", exact=True).is_visible()
    assert "Gray will still manage lots until January." in main.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "request-detail-supervisor-390")


def test_supervisor_of_another_organization_sees_nothing_of_the_request(portal, page_at):
    page = page_at()
    sign_in_as(page, portal, "demo-supervisor-two-orgs", return_to="/request?number=IMR-2026-000003")
    main = page.get_by_role("main")
    main.get_by_text("That request does not exist or is not yours to see.").wait_for()
    assert "Gray McCall" not in main.inner_text()
