"""Program staff manage organizations in Chromium: create one, link its supervisor, and import a
CSV file whose bad row shows in the preview while the good rows are imported on confirm."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_accessibility import assert_no_violations

pytestmark = pytest.mark.e2e

IMPORT_FILE = ("\ufeffcode,name,city,active\r\n"
               "RMC-0707,\"Red Lodge Medical, Clinic\",Red Lodge,yes\r\n"
               ",Nameless Code Clinic,Havre,yes\r\n"
               # Great Falls: no other browser test relies on its name.
               "GFP-0505,Great Falls Public Health and Family,Great Falls,\r\n").encode()


def test_staff_create_an_organization_and_link_its_supervisor(portal, page_at):
    page = page_at(width=1280)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/organizations")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Organizations", level=1).wait_for()
    main.get_by_role("cell", name="BFC-0101").wait_for()
    save_screenshot(page, "organizations-list-1280")

    main.get_by_role("link", name="Add an organization").click()
    main.get_by_role("heading", name="Add an organization").wait_for()
    main.get_by_label("Code (provider PIN)").fill("bfc-0101")
    main.get_by_role("button", name="Add organization").click()
    summary = main.get_by_role("alert").filter(has_text="There is a problem")
    summary.get_by_role("link", name="Enter the organization's name.").wait_for()
    assert_no_violations(page, "organization form with errors")

    main.get_by_label("Name", exact=True).fill("Havre Health Center")
    main.get_by_label("Code (provider PIN)").fill("hhc-0606")
    main.get_by_label("City (optional)").fill("Havre")
    main.get_by_role("button", name="Add organization").click()
    main.get_by_role("heading", name="Havre Health Center (HHC-0606)").wait_for()
    main.get_by_text("Organization added. Now link its supervisors.").wait_for()

    main.get_by_label("Work email").fill("riley.quinn@havrehealth.example")
    main.get_by_label("First name").fill("Riley")
    main.get_by_label("Last name").fill("Quinn")
    main.get_by_role("button", name="Link supervisor").click()
    main.get_by_text("Riley Quinn is now a supervisor of this organization").wait_for()
    assert "riley.quinn@havrehealth.example" in main.get_by_role("region", name="Supervisors").inner_text()

    main.get_by_label("Work email").fill("riley.quinn@havrehealth.example")
    main.get_by_role("button", name="Link supervisor").click()
    main.get_by_role("link", name="Riley Quinn (riley.quinn@havrehealth.example) is already a "
                                  "supervisor of Havre Health Center.").wait_for()

    main.get_by_role("button", name="Unlink Riley Quinn").click()
    main.get_by_role("button", name="Keep as supervisor").wait_for()
    save_screenshot(page, "organization-detail-1280")
    assert_no_violations(page, "organization detail with unlink confirmation")
    main.get_by_role("button", name="Keep as supervisor").click()

    main.get_by_role("link", name="Organizations", exact=True).click()
    main.get_by_label("Search by the start of the name or code").fill("havre")
    main.get_by_role("button", name="Search").click()
    main.get_by_text("1 organization whose name or code starts with “havre”.").wait_for()
    row = main.get_by_role("row").filter(has_text="HHC-0606")
    assert [c.strip() for c in row.get_by_role("cell").all_inner_texts()] == [
        "HHC-0606", "Havre Health Center", "Havre", "Active", "1", "0"]


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_import_a_csv_whose_bad_row_is_shown_and_left_out(portal, page_at, tmp_path, width):
    page = page_at(width=width)
    sign_in_as(page, portal, "demo-staff", return_to="/staff/organizations/import")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Import organizations").wait_for()
    page.get_by_text("Pat O'Connor (Staff)").wait_for()  # the page's load has run: a file may come
    csv_file = tmp_path / "organizations.csv"
    csv_file.write_bytes(IMPORT_FILE)
    page.locator("input[type=file]").set_input_files(str(csv_file))

    errors = main.get_by_role("region", name="Problems by row")
    errors.wait_for()
    assert "Enter the organization's code" in errors.inner_text()
    assert [c.strip() for c in errors.get_by_role("row").nth(1).get_by_role("cell").all_inner_texts()][:2] \
        == ["3", "—"]
    preview = main.get_by_role("region", name="What the import will do").inner_text()
    if width == 1280:
        assert "Will be created" in preview and "Red Lodge Medical, Clinic" in preview
        assert "name: Great Falls Public Health → Great Falls Public Health and Family" in preview
    save_screenshot(page, f"organizations-import-preview-{width}")
    assert_no_violations(page, f"import preview at {width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    if width == 1280:
        button = main.get_by_role("button", name="Import 2 organizations")
        button.dblclick()
        main.get_by_text("1 created, 1 updated, 0 unchanged; rows with errors, left out: 1.").wait_for()
        main.get_by_role("link", name="Organizations", exact=True).click()
        main.get_by_label("Search by the start of the name or code").fill("RMC")
        main.get_by_role("button", name="Search").click()
        main.get_by_role("cell", name="Red Lodge Medical, Clinic").wait_for()
    else:
        main.get_by_text("Nothing to import:").wait_for()  # the 1280 run imported these rows
        main.get_by_role("button", name="Discard this file").click()
        main.get_by_text("Preview discarded; nothing was imported.").wait_for()
        main.get_by_role("link", name="Organizations", exact=True).click()
        main.get_by_role("cell", name="BFC-0101").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save_screenshot(page, "organizations-list-390")


def test_a_supervisor_cannot_open_the_organization_pages(portal, page_at):
    page = page_at(width=390)
    sign_in_as(page, portal, "demo-supervisor-one-org", return_to="/staff/organizations")
    page.get_by_role("main").get_by_role("heading", name="You are not allowed to open that page").wait_for()
