"""The owned queue, the program's clock and the provisioning worksheet in Chromium, as staff use
them: assign to me, reassign with a note, copy the worksheet, bulk actions with a refused row, the
targets form with a bad value, and the pages at 390 and 1280 px with axe on each new state."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot, sign_in_as, wait_until_hydrated
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e


def test_staff_take_a_request_copy_its_worksheet_and_hand_it_on(portal, page_at):
    page = page_at(width=1280)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal)
    sign_in_as(page, portal, "demo-staff", return_to="/request?number=IMR-2026-000002")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Request IMR-2026-000002").wait_for()
    owner = main.locator("#request-owner")
    expect(owner).to_contain_text("nobody yet")
    expect(main.locator("#request-clock")).to_contain_text("with the program")

    main.get_by_role("button", name="Assign to me").click()
    expect(owner).to_contain_text("Pat O'Connor")
    expect(main.get_by_text("This request is now assigned to Pat O'Connor.")).to_be_visible()
    expect(main.get_by_role("button", name="Assign to me")).to_have_count(0)

    # The worksheet, in the registry screen's order, each field with its own copy button.
    sheet = main.locator("#worksheet-fields")
    labels = sheet.locator("li > div > span:first-child").all_inner_texts()
    assert labels[:5] == ["Organization", "Organization registry identifier (PIN)", "Last name", "First name",
                          "Email"], labels
    main.get_by_role("button", name="Copy Last name").click()
    expect(main.locator("#worksheet-copied")).to_have_text("Copied Last name.")
    assert page.evaluate("navigator.clipboard.readText()") == "Morningstar"
    main.get_by_role("button", name="Copy the whole worksheet").click()
    expect(main.locator("#worksheet-copied")).to_have_text("Copied the whole worksheet.")
    whole = page.evaluate("navigator.clipboard.readText()")
    assert whole.splitlines()[:3] == ["Organization: Laurel Pediatrics", "Organization registry identifier "
                                      "(PIN): LPD-0202", "Last name: Morningstar"], whole
    assert main.locator("#worksheet-copied").get_attribute("aria-live") == "polite"
    assert_no_violations(page, "request page with owner and worksheet")
    save_screenshot(page, "owned-request-1280")

    # Hand it to a colleague with a note: the history (staff view) keeps the note.
    main.get_by_label("Assign to").select_option(label="Lee Nakamura")
    main.get_by_label("Note for the new owner (optional, staff only)").fill("Lee knows Laurel Pediatrics")
    main.get_by_role("button", name="Reassign").click()
    expect(owner).to_contain_text("Lee Nakamura")
    history = main.get_by_role("region", name="History")
    expect(history).to_contain_text("owns this request")
    expect(history).to_contain_text("Lee knows Laurel Pediatrics")

    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "owned-request-390")


def test_bulk_actions_assign_selected_rows_and_refuse_a_row_the_rules_do_not_allow(portal, page_at):
    page = page_at(width=1280)
    # The demo's first nine requests by number: other tests on this portal add requests of their
    # own, which would push these two off the queue's first page.
    sign_in_as(page, portal, "demo-staff", return_to="/staff/queue?q=IMR-2026-00000")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Request queue").wait_for()
    main.locator("tr[data-number]").first.wait_for()
    expect(main.get_by_role("columnheader", name="Owner")).to_be_visible()

    main.get_by_label("Select IMR-2026-000008").check()
    main.get_by_label("Select IMR-2026-000001").check()
    main.get_by_label("Assign them to").check()
    main.get_by_label("Staff member").select_option(label="Pat O'Connor (me)")
    main.get_by_role("button", name="Apply to the selected requests").click()
    outcome = main.locator("#bulk-outcome")
    expect(outcome).to_contain_text("2 of 2 selected requests assigned.")
    expect(main.locator('tr[data-number="IMR-2026-000008"]')).to_contain_text("Pat O'Connor")

    # Mine: the two, by the owner filter in the URL.
    main.get_by_label("Owner").select_option("mine")
    main.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"owner=mine"))
    expect(outcome).to_have_text("")              # the new page has loaded (it clears the outcome)
    expect(main.locator('tr[data-number="IMR-2026-000001"]')).to_be_visible()
    numbers = main.locator("tr[data-number]").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert {"IMR-2026-000001", "IMR-2026-000008"} <= set(numbers), numbers

    # Rejecting together is for expired requests and likely duplicates: this one is refused.
    main.get_by_label("Select IMR-2026-000008").check()
    main.get_by_label("Reject them (expired requests and likely duplicates only)").check()
    main.get_by_label("Reason (the supervisors read it)").fill("Duplicate of another request")
    main.get_by_role("button", name="Apply to the selected requests").click()
    # A rejection cannot be undone: asked first, focus in the question; Escape is "No".
    question = main.get_by_role("alertdialog", name="Reject the selected requests?")
    expect(question).to_contain_text("IMR-2026-000008")
    expect(question).to_contain_text("Duplicate of another request")
    expect(question.get_by_role("heading")).to_be_focused()
    save_screenshot(page, "owned-queue-bulk-reject-question-1280")
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(main.get_by_role("button", name="Apply to the selected requests")).to_be_focused()
    expect(outcome).to_have_text("")
    assert main.get_by_label("Select IMR-2026-000008").is_checked()   # the selection stays
    main.get_by_role("button", name="Apply to the selected requests").click()
    question.get_by_role("button", name="Yes, reject them").click()
    expect(outcome).to_contain_text("0 of 1 selected request rejected. 1 not changed (see below).")
    expect(outcome).to_contain_text("Only expired requests and likely duplicates can be rejected together")
    assert outcome.get_attribute("aria-live") == "polite"
    assert_no_violations(page, "queue after a bulk action with a refusal")
    save_screenshot(page, "owned-queue-bulk-1280")

    # Nothing selected: said plainly, nothing changes.
    main.get_by_role("button", name="Apply to the selected requests").click()
    expect(main.get_by_role("alert")).to_contain_text("Select at least one request in the table first.")

    main.get_by_label("Sort by").select_option("time_left")
    main.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"sort=time_left"))
    expect(main.get_by_role("columnheader", name="Time left (business hours)")).to_be_visible()
    assert_no_violations(page, "queue, mine, least time left")
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "owned-queue-390")
    page.mouse.move(60, 20)                      # over the header's brand link
    assert_no_violations(page, "queue at 390 px, pointer over the header")


def test_staff_set_targets_a_bad_value_is_named_at_its_field(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/targets")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Targets").wait_for()
    field = main.get_by_label("New Access (business hours)")
    field.wait_for()
    field.fill("two days")
    main.get_by_role("button", name="Save targets").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the New Access target as a whole number of business hours")
    assert field.get_attribute("aria-invalid") == "true"
    assert_no_violations(page, "targets form with an error")
    save_screenshot(page, "targets-error-1280")
    page.reload()   # the target as it stands now (other tests on this portal may have set it)
    wait_until_hydrated(page)
    current = int(field.input_value())
    field.fill(str(current + 1))
    main.get_by_role("button", name="Save targets").click()
    expect(main.get_by_text("Saved: 1 target changed.")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "targets-390")
    field.fill(str(current))
    main.get_by_role("button", name="Save targets").click()
    expect(main.get_by_text("Saved: 1 target changed.")).to_be_visible()


def test_metrics_show_time_with_the_program(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/metrics")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Queue metrics").wait_for()
    section = main.get_by_role("region", name="Time with the program", exact=True)
    expect(section.get_by_role("table", name=re.compile("by request type"))).to_be_visible()
    expect(section).to_contain_text("Within target")
    save_screenshot(page, "metrics-program-time-1280")
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "metrics-program-time-390")
