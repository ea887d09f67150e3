"""WCAG 2.2 AA in Chromium on every page of the portal, at 390 px and 1280 px, as each kind of
person who sees it: axe-core's rules (tags wcag2a, wcag2aa, wcag21a, wcag21aa, wcag22aa), and what
axe does not check:

- 2.5.8 Target Size (Minimum): every control at least 24x24 CSS px (or inline in text, or spaced).
- 2.4.11 Focus Not Obscured: tabbing through a page, no focused control sits under fixed or sticky
  content.
- 3.2.6 Consistent Help: the program's phone line is a call link, first in the footer, on every page.
- 2.5.3 Label in Name: a control's visible words are part of its accessible name.
- 4.1.2 / 1.3.1: the buttons that open a request's action forms say whether they are open
  (``aria-expanded``) and which form they open (``aria-controls``).
- 3.3.7 Redundant Entry: the applicant is not asked again for what the supervisor entered.
- 2.4.7 / 1.4.11: the date picker's calendar button shows a clear focus ring.

Each page is opened once per width and all page-wide checks run on it (``survey``: axe first, on
the page as it arrived, then the checks that move the focus); each criterion is then its own test
over the findings, so a failure names the criterion, the page and the control. The forms' error
states are checked by axe in ``test_accessibility.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from immtrax_portal.settings import get_settings
from tests.e2e.conftest import save_screenshot, sign_in_as
from tests.e2e.test_wizard_journeys import DANA, at_step, open_fresh_wizard, press_continue, radio
from tests.e2e.wcag_checks import (
    axe_violations,
    focus_hidden_while_tabbing,
    help_out_of_place,
    labels_not_in_names,
    undersized_targets,
)

pytestmark = pytest.mark.e2e

SUPERVISOR_TWO, SUPERVISOR_ONE = "demo-supervisor-two-orgs", "demo-supervisor-one-org"
APPLICANT, STAFF, ADMIN = "demo-applicant", "demo-staff", "demo-admin"
WIDTHS = (390, 1280)

# (who, path, the main heading that says the page has its data). Every page the portal serves.
PAGES = [
    (None, "/", None),
    (None, "/sign-in?return_to=/dashboard", None),
    (None, f"/agreement/{'C' * 43}", None),
    (None, "/auth/callback", "We could not finish signing you in"),
    (SUPERVISOR_TWO, "/dashboard", "Welcome, Dana Whitfield"),
    (SUPERVISOR_TWO, "/request?number=IMR-2026-000001", "Request IMR-2026-000001"),
    (SUPERVISOR_TWO, "/requests/new", None),
    (SUPERVISOR_TWO, "/requests/new/several", None),
    (SUPERVISOR_TWO, "/backups", None),
    (SUPERVISOR_ONE, "/dashboard", "Welcome, Marcus Reyes"),
    (SUPERVISOR_ONE, "/request?number=IMR-2026-000003", "Request IMR-2026-000003"),
    (APPLICANT, "/dashboard", "Welcome, Jordan Tall Bull"),
    (APPLICANT, "/admin/staff", "You are not allowed to open that page"),
    (STAFF, "/dashboard", "Welcome, Pat O'Connor"),
    (STAFF, "/staff/queue", "Request queue"),
    (STAFF, "/staff/metrics", "Queue metrics"),
    (STAFF, "/staff/organizations", "Organizations"),
    (STAFF, "/staff/organization?id=1", "Billings Family Clinic (BFC-0101)"),
    (STAFF, "/staff/organizations/import", "Import organizations"),
    (STAFF, "/staff/agreements", "User Agreement versions"),
    (STAFF, "/request?number=IMR-2026-000002", "Request IMR-2026-000002"),
    (STAFF, "/signed-agreement?number=IMR-2026-000002", None),
    (STAFF, "/dev/mailbox", "Outgoing mail"),
    (ADMIN, "/admin/staff", "Program staff"),
    # Pages of access over time, the owned queue and roster reviews.
    (None, f"/renew/{'C' * 43}", None),
    (SUPERVISOR_TWO, "/reviews", None),
    (STAFF, "/staff/targets", "Targets"),
    (STAFF, "/staff/backups", "Your backup while you are away"),
    (STAFF, "/staff/queue?owner=unassigned&sort=time_left", "Request queue"),
    (STAFF, "/request?number=IMR-2026-000008", "Request IMR-2026-000008"),
    (STAFF, "/staff/access-ends", "Upcoming removals"),
    (STAFF, "/staff/succession", "Supervisor succession"),
    (STAFF, "/staff/reviews", None),
    (STAFF, "/staff/inactivity", None),
]


def page_name(who, path, width) -> str:
    return f"{path} as {who or 'nobody'} at {width}px"


@dataclass
class Survey:
    findings: dict[str, list[str]] = field(default_factory=dict)

    def note(self, criterion: str, where: str, found: list[str]) -> None:
        self.findings.setdefault(criterion, []).extend(f"{where}: {item}" for item in found)


def open_page(browser, portal, contexts: dict, who, path, heading, width):
    """A fresh tab at ``width``, signed in as ``who``: one browser context per person, signed in
    once, so a page costs a tab, not a new context restoring a signed-in state."""
    if who not in contexts:
        contexts[who] = browser.new_context(viewport={"width": 1280, "height": 900})
        if who is not None:
            signing_in = contexts[who].new_page()
            sign_in_as(signing_in, portal, who)
            signing_in.close()
    page = contexts[who].new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(portal + path)
    main = page.get_by_role("main")
    if heading:
        main.get_by_role("heading", name=heading).first.wait_for(timeout=20000)
    else:
        main.get_by_role("heading", level=1).first.wait_for(timeout=20000)
    # The tab's state has arrived (pages served outside the app have no such mark) and the fonts
    # are in; then two frames, so what that state drew has been committed and laid out.
    page.wait_for_function("() => { const m = document.querySelector('main'); return !!m"
                           " && (!m.hasAttribute('data-hydrated') || m.dataset.hydrated === 'true'); }")
    page.evaluate("() => document.fonts.ready.then(() => new Promise((done) =>"
                  " requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))")
    return page


@pytest.fixture(scope="module")
def survey(portal, chromium_browser) -> Survey:
    """Every page at both widths, each check run on it once."""
    found = Survey()
    phone_digits = "".join(ch for ch in get_settings().program_phone if ch.isdigit())
    contexts: dict = {}
    try:
        for who, path, heading in PAGES:
            for width in WIDTHS:
                page = open_page(chromium_browser, portal, contexts, who, path, heading, width)
                where = page_name(who, path, width)
                try:
                    found.note("axe", where, [str(violation) for violation in axe_violations(page)])
                    found.note("2.5.8", where, undersized_targets(page))
                    found.note("2.5.3", where, labels_not_in_names(page))
                    found.note("3.2.6", where, help_out_of_place(page, phone_digits))
                    found.note("2.4.11", where, focus_hidden_while_tabbing(page))
                finally:
                    page.close()
    finally:
        for context in contexts.values():
            context.close()
    return found


def _report(survey: Survey, criterion: str) -> str:
    items = survey.findings.get(criterion, [])
    return f"{len(items)} found:\n" + "\n".join(items[:40])


def test_every_page_passes_axe_wcag_22_aa(survey):
    assert not survey.findings.get("axe"), _report(survey, "axe")


def test_every_control_is_at_least_24_by_24_css_pixels(survey):
    assert not survey.findings.get("2.5.8"), _report(survey, "2.5.8")


def test_visible_text_of_links_and_buttons_is_part_of_their_accessible_name(survey):
    assert not survey.findings.get("2.5.3"), _report(survey, "2.5.3")


def test_the_program_phone_line_is_in_the_same_place_on_every_page(survey):
    assert not survey.findings.get("3.2.6"), _report(survey, "3.2.6")


def test_tabbing_never_puts_focus_under_sticky_or_fixed_content(survey):
    assert not survey.findings.get("2.4.11"), _report(survey, "2.4.11")


def test_the_focus_check_does_notice_a_sticky_header_over_the_focused_control(portal, page_at):
    """The 2.4.11 check can fail: a sticky banner laid over the page's top is found."""
    page = page_at(width=1280)
    page.goto(portal + "/")
    page.get_by_role("main").get_by_role("heading", level=1).wait_for()
    page.evaluate("""() => {
        const cover = document.createElement('div');
        cover.style.cssText = 'position:fixed;top:0;left:0;right:0;height:160px;background:#fff';
        document.body.appendChild(cover);
    }""")
    found = focus_hidden_while_tabbing(page, most_stops=6)
    assert found and all("is under <div>" in item for item in found), found


# --- Forms that open from a button: they say so ---------------------------------------------------


def test_the_buttons_that_open_action_forms_expose_their_state(portal, page_at, in_review):
    number = in_review()
    page = page_at(width=1280)
    sign_in_as(page, portal, STAFF, return_to=f"/request?number={number}")
    actions = page.locator("#actions")
    expect(actions.get_by_role("heading", name="What you can do")).to_be_visible(timeout=20000)
    openers = actions.locator("button[aria-controls]")
    expect(openers.first).to_be_visible()
    count = actions.get_by_role("button").filter(has_not=page.locator("[type=submit]")).count()
    assert openers.count() >= 1 and openers.count() == actions.locator("button[type=button]").count(), (
        count, openers.count())
    for index in range(openers.count()):
        opener = openers.nth(index)
        expect(opener).to_have_attribute("aria-expanded", "false")
        opener.click()
        expect(opener).to_have_attribute("aria-expanded", "true")
        form = page.locator(f"#{opener.get_attribute('aria-controls')}")
        expect(form).to_be_visible()
        expect(form.locator("button[type=submit]")).to_have_text(opener.inner_text())
        for other in range(openers.count()):
            if other != index:
                expect(openers.nth(other)).to_have_attribute("aria-expanded", "false")
    save_screenshot(page, "wcag-request-actions-expanded-1280")


# --- Errors the server found are told at their field ----------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_staff_action_marks_its_field_and_ties_the_message_to_it(portal, page_at, width,
                                                                          in_review):
    from tests.e2e.wcag_checks import axe_violations, errors_not_tied_to_fields

    number = in_review()
    page = page_at(width=width)
    sign_in_as(page, portal, STAFF, return_to=f"/request?number={number}")
    actions = page.locator("#actions")
    actions.get_by_role("button", name="Ask the supervisor a question").first.click()
    page.locator("#actions form").get_by_role("button", name="Ask the supervisor a question").click()
    field_box = page.locator("#field-text")
    expect(field_box).to_have_attribute("aria-invalid", "true", timeout=10000)
    message = page.locator(f"#{field_box.get_attribute('aria-describedby').split()[-1]}")
    expect(message).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()  # the linked summary, as every form
    page.locator("#error-summary").get_by_role("link").first.click()
    expect(field_box).to_be_focused()
    assert errors_not_tied_to_fields(page) == []
    assert axe_violations(page) == []
    save_screenshot(page, f"wcag-request-action-error-{width}")


# --- The date picker's calendar button ------------------------------------------------------------


def _ring_pixels(png: bytes) -> int:
    """Pixels dark enough to stand out from white by at least 3:1 (a focus ring drawn there)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")

    def luminance(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    count = 0
    for r, g, b in image.getdata():
        lum = 0.2126 * luminance(r) + 0.7152 * luminance(g) + 0.0722 * luminance(b)
        if 1.05 / (lum + 0.05) >= 3:
            count += 1
    return count


@pytest.mark.parametrize("width", WIDTHS)
def test_the_date_pickers_calendar_button_shows_a_clear_focus_ring(portal, page_at, width):
    page = page_at(width=width)
    open_fresh_wizard(page, portal, DANA)
    radio(page, "Billings Family Clinic").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    date_input = page.get_by_role("main").get_by_label("Start date")
    date_input.scroll_into_view_if_needed()
    page.get_by_role("main").get_by_label("Job title").click()
    page.mouse.move(0, 0)
    box = date_input.bounding_box()
    # The calendar button sits at the input's right end: the square of the input's height there.
    clip = {"x": box["x"] + box["width"] - box["height"] - 6, "y": box["y"] - 4,
            "width": box["height"] + 12, "height": box["height"] + 8}
    before = page.screenshot(clip=clip)  # nothing in it has focus
    page.keyboard.press("Tab")  # month
    page.keyboard.press("Tab")  # day
    page.keyboard.press("Tab")  # year
    expect(date_input).to_be_focused()
    page.keyboard.press("Tab")  # the calendar button
    expect(date_input).to_be_focused()
    after = page.screenshot(clip=clip)
    shots = save_screenshot(page, f"wcag-date-calendar-focus-{width}").parent
    (shots / f"wcag-date-calendar-before-{width}.png").write_bytes(before)
    (shots / f"wcag-date-calendar-after-{width}.png").write_bytes(after)
    # What a 3 px ring round a 24 px button adds, at the least; the browser's own thin ring adds
    # about a third of it.
    gained = _ring_pixels(after) - _ring_pixels(before)
    assert gained >= 250, f"the calendar button's focus adds only {gained} strong pixels"
    page.get_by_role("button", name="Cancel request").click()
    page.get_by_role("button", name="Yes, discard it").click()


# --- What the supervisor entered is not asked again -----------------------------------------------


def test_the_applicant_is_asked_only_for_the_signature(portal, page_at, mail_server):
    """3.3.7: the supervisor typed Jordan's name, email, phone, job title, start date and level;
    the invitation page asks for none of them. The typed name is the signature itself (the
    "essential" exception), and the name it expects is written next to the field."""
    from tests.e2e.test_agreement_journey import invitation_link

    link = invitation_link(mail_server, "IMR-2026-000001", timeout_s=60)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = page_at(width=390)
    sign_in_as(page, portal, APPLICANT, return_to="/" + path)
    main = page.get_by_role("main")
    expect(main.get_by_role("checkbox").first).to_be_visible(timeout=20000)
    asked = main.locator("input:not([type=hidden]):not([type=checkbox]), select, textarea")
    names = [asked.nth(i).get_attribute("name") for i in range(asked.count())]
    assert names == ["typed_name"], names
    hint = page.locator("#field-typed-name-hint")
    expect(hint).to_contain_text("Jordan Tall Bull")
    described = page.locator("#field-typed-name").get_attribute("aria-describedby")
    assert "field-typed-name-hint" in described.split()
    for fact in ("jordan.tallbull", "406", "Start date", "Job title", "Phone"):
        expect(main.get_by_role("textbox", name=re.compile(fact, re.I))).to_have_count(0)
    save_screenshot(page, "wcag-agreement-asks-only-the-signature-390")
