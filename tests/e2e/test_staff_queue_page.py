"""The staff queue and metrics pages in Chromium: filter, search, open a request, add a note."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as

pytestmark = pytest.mark.e2e


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def result_numbers(page) -> list[str]:
    return page.locator("tr[data-number]").evaluate_all("rows => rows.map(r => r.dataset.number)")


def test_at_1280_px_every_column_of_the_queue_is_in_view_without_scrolling(portal, page_at):
    """The demo's open requests, with the longest status ("Awaiting agreement"), fit the page's
    column: the last column ("Submitted") is not cut at the edge of the table's scroll box. (Only
    the demo's own nine requests, by number: what other tests add to this portal has other
    words.)"""
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue?q=IMR-2026-00000")
    results = page.get_by_role("region", name="Queue results")
    expect(results.locator("tr[data-number]").first).to_be_visible(timeout=20000)
    box, table = results.evaluate("r => [r.clientWidth, r.scrollWidth]")
    assert table <= box, f"the queue's table is {table} px wide in a {box} px box"
    submitted = results.get_by_role("columnheader", name="Submitted")
    edge = results.evaluate("r => r.getBoundingClientRect().right")
    assert submitted.bounding_box()["x"] + submitted.bounding_box()["width"] <= edge + 0.5


def test_at_390_px_the_queue_caption_stays_whole_in_view_while_the_table_scrolls(portal, page_at):
    """On a phone the table scrolls inside its region; its caption (what the rows are, how many)
    wraps within the window and stays at the left while the columns scroll."""
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue?q=IMR-2026-00000")
    results = page.get_by_role("region", name="Queue results")
    expect(results.locator("tr[data-number]").first).to_be_visible(timeout=20000)
    caption = results.locator("caption")
    expect(caption).to_contain_text("Showing 1–")
    for scrolled in (0, 300):
        results.evaluate("(r, x) => { r.scrollLeft = x; }", scrolled)
        box = caption.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (scrolled, box)
    assert results.evaluate("r => r.scrollLeft") == 300   # the table did scroll under it
    save_screenshot(page, "staff-queue-caption-390")


def test_staff_filter_search_open_a_request_and_add_a_note(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Request queue").wait_for()
    tabs = main.get_by_role("navigation", name="Requests by status")
    current = tabs.get_by_role("link", name=re.compile(r"^All open \(\d+\)$"))
    assert current.get_attribute("aria-current") == "page"

    # Filter by type: the URL keeps the filter, and a reload shows the same rows.
    main.get_by_label("Type").select_option("access_deletion")
    main.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"type=access_deletion"))
    # The demo's two Access Deletions: one today, one with a last day three weeks ahead.
    expect(main.locator("tr[data-number]")).to_have_count(2)
    deletions = sorted(result_numbers(page))
    assert deletions[0] == "IMR-2026-000008"
    page.reload()
    expect(main.locator("tr[data-number]")).to_have_count(2)
    assert main.get_by_label("Type").input_value() == "access_deletion"
    assert sorted(result_numbers(page)) == deletions

    # Search every status by name (each step waits for the page to show its new filters).
    main.get_by_role("link", name="Clear filters").click()
    expect(main.get_by_label("Type")).to_have_value("")
    all_tab = tabs.get_by_role("link", name=re.compile(r"^All \(\d+\)$"))
    all_tab.click()
    expect(all_tab).to_have_attribute("aria-current", "page")
    main.get_by_label("Search").fill("morningstar")
    main.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"q=morningstar"))
    expect(main.locator('tr[data-number="IMR-2026-000002"]')).to_be_visible()
    expect(main.locator("tr[data-number]")).to_have_count(1)
    assert result_numbers(page) == ["IMR-2026-000002"] and query_of(page)["status"] == ["all"]
    export = main.get_by_role("link", name="Export these requests (CSV)")
    assert "/staff/queue.csv?status=all&q=morningstar" in export.get_attribute("href")
    save_screenshot(page, "staff-queue-1280")

    # Open it and add an internal note.
    main.get_by_role("link", name="IMR-2026-000002").click()
    main.get_by_role("heading", name="Request IMR-2026-000002").wait_for()
    note_box = main.get_by_role("textbox", name="Add an internal note")
    note_box.fill("Phoned Laurel Pediatrics: start date confirmed.")
    main.get_by_role("button", name="Save note").click()
    main.get_by_text("Note saved. Only program staff can see it.").wait_for()
    notes = main.get_by_role("region", name="Internal notes (program staff only)")
    assert "Phoned Laurel Pediatrics: start date confirmed." in notes.inner_text()
    assert "Pat O'Connor" in notes.inner_text()
    save_screenshot(page, "staff-request-notes-1280")


def test_the_queue_fits_a_phone(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue")
    page.get_by_role("main").get_by_role("heading", name="Request queue").wait_for()
    page.locator("tr[data-number]").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "staff-queue-390")


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_see_the_metrics_with_a_readable_weekly_chart(portal, page_at, width):
    page = page_at(width=width)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/metrics")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Queue metrics").wait_for()
    weekly = main.get_by_role("table", name=re.compile("Requests submitted per week"))
    expect(weekly.locator("tbody tr")).to_have_count(12)
    assert int(weekly.locator("tbody tr").last.locator("td").first.inner_text()) >= 1
    completion = main.get_by_role("table", name="Time from submission to completion")
    assert "Last 30 days" in completion.inner_text() and "Last 90 days" in completion.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"staff-metrics-{width}")


def test_a_supervisor_is_not_allowed_on_the_queue(portal, page_at):
    page = page_at()
    sign_in_as(page, portal, "demo-supervisor-two-orgs", return_to="/staff/queue")
    page.get_by_role("heading", name="You are not allowed to open that page").wait_for()
    assert "IMR-2026" not in page.get_by_role("main").inner_text()


def test_the_status_tabs_show_no_list_bullets_while_plain_lists_keep_theirs(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue")
    tabs = page.get_by_role("main").get_by_role("navigation", name="Requests by status")
    tabs.get_by_role("link").first.wait_for()
    marker, indent = tabs.locator("ul").evaluate(
        "ul => [getComputedStyle(ul).listStyleType, getComputedStyle(ul).paddingLeft]")
    assert (marker, indent) == ("none", "0px")  # a "•" between the tab buttons otherwise
    page.goto(portal + "/")
    plain = page.get_by_role("main").locator("ul").first
    assert plain.evaluate("ul => getComputedStyle(ul).listStyleType") == "disc"
