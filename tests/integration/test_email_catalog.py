"""The email catalog: every kind renders from its template, as text and as escaped HTML, with the
right links and dates in the program's time zone.

The rows are real (SQLite) and hostile on purpose: the applicant is called ``<script>``, the
organization has an ampersand and a tag in its name, the staff reason carries markup and a line break.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementVersion,
    Organization,
    OutboundEmail,
    Person,
)
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import emails
from immtrax_portal.settings import get_settings
from tests.support.databases import fresh_database_url, use_database

TEMPLATES = Path(emails.__file__).resolve().parents[1] / "templates" / "email"
HOSTILE_FIRST = "<script>alert(1)</script>"
SIGNED_AT = datetime(2026, 3, 3, 16, 5, tzinfo=UTC)  # 9:05 AM in Montana (MST, UTC-7)
EXPIRES_AT = datetime(2026, 7, 14, 18, 30, tzinfo=UTC)  # 12:30 PM in Montana (MDT, UTC-6)
TOKEN = "tok_" + "A" * 40


@pytest.fixture
def rows(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        with session_scope() as session:
            old_org = Organization(name="Old Clinic", code="OLD-1", city="Butte")
            org = Organization(name="Alpha & <b>Clinic</b>", code="ALPHA-1", city="Helena")
            applicant = Person(email="nguyen@alpha.example", first_name=HOSTILE_FIRST, last_name="Nguyễn")
            submitter = Person(email="sam@alpha.example", first_name="Sam", last_name="Supervisor")
            agreement = AgreementVersion(label="2026-1", title="imMTrax User Agreement", body="Text.",
                                         text_hash="0" * 64)
            session.add_all([old_org, org, applicant, submitter, agreement])
            session.flush()
            request = AccessRequest(
                number="IMR-2026-000042", request_type=RequestType.CHANGE_EMPLOYER,
                status=RequestStatus.AWAITING_AGREEMENT, organization_id=org.id, submitter_id=submitter.id,
                subject_person_id=applicant.id, former_organization_id=old_org.id,
                idempotency_key="catalog-test-key-0001")
            session.add(request)
            session.flush()
            yield session, request, agreement


def queue_every_kind(session, request, agreement) -> dict[str, OutboundEmail]:
    """Every function of the catalog once (the notices once per action), by kind."""
    queued = [
        emails.invitation(session, request, to="nguyen@alpha.example", token=TOKEN, expires_at=EXPIRES_AT,
                          first=True),
        emails.invitation_reminder(session, request, to="nguyen@alpha.example", token=TOKEN,
                                   expires_at=EXPIRES_AT),
        emails.submission_receipt(session, request, ["1. First step.", "2. Second step."]),
        emails.agreement_receipt(session, request, agreement, SIGNED_AT),
        emails.agreement_signed(session, request, SIGNED_AT),
        emails.review_needed(session, request, agreement, SIGNED_AT),
        emails.invitation_expired(session, request),
        emails.former_employer_notice(session, request, to="boss@old.example"),
        emails.batch_receipt(session, [request], ["First step.", "Second step."]),
        emails.backup_copy(session, request, session.get(Person, request.submitter_id),
                           "Request IMR-2026-000042: the agreement invitation expired"),
        *(emails.action_notice(session, request, action, "Missing <b>badge</b> &\nstart date. ")
          for action in emails.NOTICE_ACTIONS),
        emails.clock_notice(session, request, to="owner@mt.example", percent=75, used="36 business hours",
                            target_hours=48),
        emails.clock_breach(session, request, to="owner@mt.example", used="2 business days 1 hour",
                            target_hours=48, owner_name="Pat O'Connor"),
        *_review_and_inactivity_kinds(session, request),
    ]
    return {email.kind: email for email in queued}


def _review_and_inactivity_kinds(session, request) -> list[OutboundEmail]:
    organization = session.get(Organization, request.organization_id)
    return [
        emails.review_started(session, to="sam@alpha.example", organization=organization,
                              ends_at=EXPIRES_AT, people=3),
        emails.review_reminder(session, to="sam@alpha.example", organization=organization,
                               ends_at=EXPIRES_AT, pending=2),
        emails.review_overdue_staff(session, organization=organization, ends_at=SIGNED_AT,
                                    grace_ends_at=EXPIRES_AT, pending=2),
        emails.automatic_deletion(session, request, to="sam@alpha.example",
                                  explanation="nobody confirmed this access."),
        emails.automatic_deletion_person(session, request, explanation="nobody confirmed this access."),
        emails.automatic_deletion_staff(session, request, explanation="nobody confirmed this access."),
        emails.idle_notice(session, to="sam@alpha.example", organization=organization, people=2),
    ]


def template_kinds() -> set[str]:
    return {path.stem for path in TEMPLATES.glob("*.j2") if not path.name.startswith("_")}


def test_every_template_is_a_kind_the_catalog_sends_and_every_kind_renders(rows):
    queued = queue_every_kind(*rows)
    assert set(queued) == template_kinds()
    for kind, email in queued.items():
        assert email.subject and "\n" not in email.subject, kind
        assert email.body_text.endswith("--\nMontana Immunization Program\n(406) 444-5580, "
                                        "Monday–Friday 8am–5pm (MST)\n"), kind
        assert "<p>" in email.body_html and "(406) 444-5580" in email.body_html, kind
        assert "{{" not in email.body_text + email.body_html, kind


def test_a_hostile_name_is_plain_text_in_the_text_and_escaped_in_the_html(rows):
    for kind, email in queue_every_kind(*rows).items():
        assert "<script" not in email.body_html and "<b>" not in email.body_html, kind
        shown = html.unescape(re.sub(r"<[^>]+>", "", email.body_html))
        for name in (HOSTILE_FIRST, "Alpha & <b>Clinic</b>", "Missing <b>badge</b> &"):
            if name in email.body_text:
                assert name in shown, (kind, name)
    queued = queue_every_kind(*rows)
    assert f"Hello {HOSTILE_FIRST}," in queued["invitation"].body_text
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in queued["invitation"].body_html
    assert "Alpha &amp; &lt;b&gt;Clinic&lt;/b&gt;" in queued["receipt"].body_html


def test_links_point_at_the_right_pages_of_the_public_address(rows):
    public = get_settings().public_url
    queued = queue_every_kind(*rows)
    expected = {
        "invitation": f"{public}/agreement/{TOKEN}",
        "invitation_reminder": f"{public}/agreement/{TOKEN}",
        "agreement_receipt": f"{public}/dashboard",
        "agreement_signed": f"{public}/dashboard",
        "invitation_expired": f"{public}/dashboard",
        "notice_ask_for_info": f"{public}/dashboard",
        "review_needed": f"{public}/staff/queue",
        "clock_notice": f"{public}/request?number=IMR-2026-000042",
        "clock_breach": f"{public}/request?number=IMR-2026-000042",
        "batch_receipt": f"{public}/dashboard",
        "backup_copy": f"{public}/request?number=IMR-2026-000042",
        "review_started": f"{public}/reviews",
        "review_reminder": f"{public}/reviews",
        "review_overdue_staff": f"{public}/staff/reviews",
        "automatic_deletion": f"{public}/dashboard",
        "automatic_deletion_staff": f"{public}/request?number=IMR-2026-000042",
        "idle_notice": f"{public}/reviews",
    }
    for kind, email in queued.items():
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', email.body_html)]
        text_links = re.findall(r"https?://\S+", email.body_text)
        assert hrefs == text_links == ([expected[kind]] if kind in expected else []), kind
    assert "Sign the User Agreement: " + expected["invitation"] in queued["invitation"].body_text


def test_dates_are_shown_in_the_program_time_zone(rows):
    queued = queue_every_kind(*rows)
    assert "on March 3, 2026 at 9:05 AM MST" in queued["agreement_receipt"].body_text
    assert "works until July 14, 2026 at 12:30 PM MDT" in queued["invitation_reminder"].body_text
    # The first invitation leaves the deadline out; a resend says it.
    assert "works until" not in queued["invitation"].body_text


def test_the_program_time_zone_is_the_one_in_the_settings(rows, monkeypatch):
    monkeypatch.setenv("IMMTRAX_BUSINESS_TIME_ZONE", "America/New_York")
    get_settings.cache_clear()
    try:
        queued = queue_every_kind(*rows)
    finally:
        monkeypatch.delenv("IMMTRAX_BUSINESS_TIME_ZONE")
        get_settings.cache_clear()
    assert "on March 3, 2026 at 11:05 AM EST" in queued["agreement_receipt"].body_text


def test_wording_is_the_same_as_before_the_catalog(rows):
    session, request, agreement = rows
    queued = queue_every_kind(session, request, agreement)
    assert queued["invitation"].subject == "Sign your imMTrax User Agreement"
    assert queued["invitation_reminder"].body_text.startswith(
        f"Hello {HOSTILE_FIRST},\n\nThis is a reminder: Alpha & <b>Clinic</b> requested imMTrax access for "
        "you (request IMR-2026-000042), and your User Agreement is not signed yet.\n\nOpen the link below")
    assert queued["receipt"].body_text.startswith(
        "Hello Sam,\n\nWe received your Change Employer request IMR-2026-000042 for "
        f"{HOSTILE_FIRST} Nguyễn at Alpha & <b>Clinic</b>.\n\n1. First step.\n\n2. Second step.\n\n--\n")
    assert queued["notice_reject"].subject == "Request IMR-2026-000042 was not approved"
    assert ("did not approve request IMR-2026-000042. Reason: Missing <b>badge</b> &\nstart date.\n\n--"
            in queued["notice_reject"].body_text)
    assert "Missing &lt;b&gt;badge&lt;/b&gt; &amp;<br>\nstart date.</p>" in queued["notice_reject"].body_html
    assert queued["former_employer_notice"].body_text.startswith(
        f"{HOSTILE_FIRST} Nguyễn now works for Alpha & <b>Clinic</b>, and their imMTrax access under your "
        "organization has ended.")
    assert queued["review_needed"].to_address == get_settings().program_inbox
    assert queued["clock_notice"].subject == "Request IMR-2026-000042 has used 75% of its target"
    assert "has been with the program for 36 business hours of its 48 business hours." \
        in queued["clock_notice"].body_text
    assert queued["clock_breach"].subject == "Request IMR-2026-000042 is over its target"
    assert "It is assigned to Pat O'Connor." in queued["clock_breach"].body_text


def test_a_staff_action_without_a_notice_has_no_email(rows):
    session, request, _ = rows
    with pytest.raises(ValueError, match="no notice"):
        emails.action_notice(session, request, Action.CANCEL)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.paragraphs = 0

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br", "hr", "!doctype"):
            self.open.append(tag)
        self.paragraphs += tag == "p"

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"


def test_the_html_twin_is_a_whole_document_with_one_paragraph_per_text_paragraph(rows):
    for kind, email in queue_every_kind(*rows).items():
        assert email.body_html.startswith('<!DOCTYPE html>\n<html lang="en">'), kind
        assert f"<title>{html.escape(email.subject, quote=False)}</title>" in email.body_html, kind
        tags = _Tags()
        tags.feed(email.body_html)
        assert tags.open == [], kind
        # As many as the text has: the body's, and the signature (its "--" line is the <hr>).
        assert tags.paragraphs == email.body_text.count("\n\n") + 1, kind


def test_queued_emails_are_rows_of_the_callers_transaction(rows):
    session, request, agreement = rows
    queue_every_kind(session, request, agreement)
    session.flush()
    stored = session.exec(select(OutboundEmail.kind).where(OutboundEmail.request_id == request.id)).all()
    about_no_request = session.exec(select(OutboundEmail.kind)
                                    .where(OutboundEmail.request_id.is_(None))).all()
    assert sorted(stored + about_no_request) == sorted(template_kinds())
    assert set(about_no_request) == {"review_started", "review_reminder", "review_overdue_staff",
                                     "idle_notice"}
