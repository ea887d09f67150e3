"""The outbox and its delivery worker, against a real SMTP server on loopback (aiosmtpd).

Each email reaches the server once: through outages, retries with back-off, racing workers and
a crash between claim and send. Without an SMTP host, mail is kept for the development mailbox.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import EmailStatus, RequestStatus
from immtrax_portal.domain.models import OutboundEmail, Person, utcnow
from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.services import mailbox
from immtrax_portal.services.delivery import KEPT_NOTE, backoff, deliver_due, run_delivery_loop
from immtrax_portal.services.mail import queue_email
from immtrax_portal.services.requests import submit_request
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.smtp_server import FakeSmtp
from tests.support.wizard_world import build_world, new_access

# --- A real SMTP server on loopback, and settings pointing at it -----------------------------------


@contextmanager
def env(**values: str | None):
    """Set (or with None, unset) IMMTRAX_* variables and re-read the settings; restore after."""
    keys = {f"IMMTRAX_{name.upper()}": value for name, value in values.items()}
    saved = {key: os.environ.get(key) for key in keys}
    try:
        for key, value in keys.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@contextmanager
def smtp_configured(server: FakeSmtp, **extra: str | None):
    with env(smtp_host="127.0.0.1", smtp_port=str(server.port), smtp_security="none",
             smtp_username=None, smtp_password=None, **extra):
        yield


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_world()


@pytest.fixture
def smtp(world):
    server = FakeSmtp()
    with smtp_configured(server):
        yield server
    server.stop()


def queue(count: int = 1, to: str = "ana.lopez@alpha.example", kind: str = "test") -> list[int]:
    """Test emails with the program's signature, as every email of the catalog has."""
    s = get_settings()
    signature = f"{s.program_name}\n{s.program_phone}, {s.program_hours}"
    with session_scope() as session:
        emails = [queue_email(session, kind=kind, to=to, subject=f"Test message {n}",
                              body_text=f"Hello Ana,\n\nThis is message {n}.\n\n--\n{signature}\n",
                              body_html=f"<p>Hello Ana,</p><p>This is message {n}.</p><hr><p>{signature}</p>")
                  for n in range(count)]
        session.flush()
        return [e.id for e in emails]


def row(email_id: int) -> OutboundEmail:
    with session_scope() as session:
        return session.get(OutboundEmail, email_id)


def statuses() -> Counter:
    with session_scope() as session:
        return Counter(e.status for e in session.exec(select(OutboundEmail)))


# --- Delivery ---------------------------------------------------------------------------------------


def test_a_queued_email_is_delivered_once_with_both_bodies_and_the_program_contacts(smtp):
    smtp.start()
    [email_id] = queue()
    report = deliver_due()
    assert report.sent == [email_id]
    assert deliver_due().claimed == 0
    assert len(smtp.received) == 1
    message = smtp.received[0]
    assert message["To"] == "ana.lopez@alpha.example"
    assert message["Subject"] == "Test message 0"
    assert message["Message-ID"].startswith(f"<outbox-{email_id}-")
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (plain, html):
        assert "This is message 0." in body
        assert "(406) 444-5580" in body and "Montana Immunization Program" in body
        assert "8am" in body
    stored = row(email_id)
    assert (stored.status, stored.attempts, stored.last_error) == (EmailStatus.SENT, 1, "")
    assert stored.sent_at is not None


def test_smtp_down_keeps_mail_queued_with_growing_back_off_then_delivers_once(smtp):
    [email_id] = queue()
    t0 = utcnow()
    assert deliver_due(now=t0).retrying == [email_id]
    first = row(email_id)
    assert first.status == EmailStatus.QUEUED and first.attempts == 1
    assert "127.0.0.1" in first.last_error and first.next_attempt_at == t0 + timedelta(minutes=1)
    assert deliver_due(now=t0 + timedelta(seconds=59)).claimed == 0  # not due yet
    deliver_due(now=t0 + timedelta(minutes=1))
    second = row(email_id)
    assert second.attempts == 2
    assert second.next_attempt_at == t0 + timedelta(minutes=1) + timedelta(minutes=2)
    smtp.start()
    assert deliver_due(now=t0 + timedelta(minutes=3)).sent == [email_id]
    assert deliver_due(now=t0 + timedelta(minutes=30)).claimed == 0
    assert smtp.outbox_ids() == Counter({email_id: 1})
    assert row(email_id).last_error == ""


def test_a_submission_while_smtp_is_down_is_committed_and_its_mail_delivered_once_later(world, smtp):
    request = submit_request(world.sam, new_access(world.alpha), "delivery-test-key-000000001")
    assert request.status == RequestStatus.AWAITING_AGREEMENT
    t0 = utcnow()
    report = deliver_due(now=t0)
    assert len(report.retrying) == 2 and not report.sent
    smtp.start()
    report = deliver_due(now=t0 + timedelta(minutes=1))
    assert len(report.sent) == 2
    deliver_due(now=t0 + timedelta(hours=2))
    assert sorted(m["To"] for m in smtp.received) == ["new.nurse@alpha.example",
                                                        "sam.supervisor@alpha.example"]
    assert set(smtp.outbox_ids().values()) == {1}


def test_back_off_doubles_from_a_minute_and_is_capped_at_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_an_hour_long_outage_with_a_controlled_clock_delivers_once_afterwards(smtp):
    [email_id] = queue()
    t0 = utcnow()
    for minute in range(0, 61):
        deliver_due(now=t0 + timedelta(minutes=minute))
    during = row(email_id)
    assert during.status == EmailStatus.QUEUED and during.attempts == 6  # at 0, 1, 3, 7, 15, 31 minutes
    smtp.start()
    for minute in range(61, 130):
        deliver_due(now=t0 + timedelta(minutes=minute))
    after = row(email_id)
    assert after.status == EmailStatus.SENT and after.attempts == 7
    assert after.sent_at == t0 + timedelta(minutes=63)
    assert smtp.outbox_ids() == Counter({email_id: 1})


def test_an_hour_of_refusals_then_silence_delivers_every_email_once_afterwards(smtp):
    """Mail keeps coming during the outage and outnumbers a batch: first the server is up but
    answers 421 to every message, then it does not answer at all; the worker runs every minute
    (several batches a tick, as the loop does). Nothing is lost, nothing fails, nothing doubles."""
    t0 = utcnow()

    def tick(minute: int) -> None:
        for _ in range(10):
            if deliver_due(now=t0 + timedelta(minutes=minute), limit=20).claimed < 20:
                break

    smtp.refusing = True
    smtp.start()
    ids = queue(25, kind="before")
    for minute in range(0, 61):
        if minute == 20:
            ids += queue(15, kind="during")
        if minute == 30:
            smtp.stop()
        if minute == 50:
            ids += queue(5, kind="late")
        tick(minute)
    assert smtp.received == []
    assert statuses() == Counter({EmailStatus.QUEUED: 45})
    assert all(row(email_id).attempts >= 2 and row(email_id).last_error for email_id in ids)

    smtp.refusing = False
    smtp.start()
    minute = 61
    while statuses()[EmailStatus.SENT] < 45 and minute < 61 + 120:
        tick(minute)
        minute += 1
    assert statuses() == Counter({EmailStatus.SENT: 45})
    assert minute <= 61 + 61  # the longest back-off is an hour
    assert smtp.outbox_ids() == Counter({email_id: 1 for email_id in ids})
    message_ids = [m["Message-ID"] for m in smtp.received]
    assert len(message_ids) == 45 and len(set(message_ids)) == 45
    for later in range(minute, minute + 120, 7):  # and nothing goes out again later
        tick(later)
    assert len(smtp.received) == 45


def test_racing_workers_deliver_every_email_exactly_once(smtp):
    smtp.start()
    ids = queue(30)
    start = threading.Barrier(4)
    errors = []

    def worker():
        start.wait()
        try:
            for _ in range(5):
                deliver_due(limit=7)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    deliver_due(limit=50)
    assert smtp.outbox_ids() == Counter({email_id: 1 for email_id in ids})
    assert statuses() == Counter({EmailStatus.SENT: 30})


def test_a_refused_recipient_fails_at_once_with_the_reason(smtp):
    smtp.start()
    smtp.refused_recipients.add("gone@alpha.example")
    [bad] = queue(to="gone@alpha.example")
    [good] = queue()
    report = deliver_due()
    assert report.failed == [bad] and report.sent == [good]
    failed = row(bad)
    assert failed.status == EmailStatus.FAILED and "550" in failed.last_error


def test_after_the_last_allowed_attempt_an_email_is_failed(world):
    server = FakeSmtp()  # never started
    with smtp_configured(server, mail_max_attempts="2"):
        [email_id] = queue()
        t0 = utcnow()
        deliver_due(now=t0)
        deliver_due(now=t0 + timedelta(minutes=1))
        assert deliver_due(now=t0 + timedelta(hours=1)).claimed == 0
    failed = row(email_id)
    assert (failed.status, failed.attempts) == (EmailStatus.FAILED, 2)
    assert failed.last_error


def test_an_email_stuck_in_sending_after_a_crash_is_recovered_with_the_same_message_id(smtp):
    smtp.start()
    [email_id] = queue()
    t0 = utcnow()
    with session_scope() as session:  # a worker claimed it, then died before sending
        stuck = session.get(OutboundEmail, email_id)
        stuck.status, stuck.attempts = EmailStatus.SENDING, 1
        stuck.next_attempt_at = t0 + timedelta(minutes=10)
        session.add(stuck)
    assert deliver_due(now=t0 + timedelta(minutes=5)).claimed == 0  # still within the lease
    report = deliver_due(now=t0 + timedelta(minutes=10))
    assert report.recovered == 1 and report.sent == [email_id]
    assert row(email_id).attempts == 2
    assert smtp.received[0]["Message-ID"].startswith(f"<outbox-{email_id}-")


def test_the_delivery_loop_delivers_in_the_background_and_stops_when_asked(smtp):
    smtp.start()
    stop = threading.Event()
    loop = threading.Thread(target=run_delivery_loop, args=(stop,), kwargs={"interval_s": 0.05}, daemon=True)
    loop.start()
    try:
        ids = queue(3)
        for _ in range(200):
            if len(smtp.received) == 3:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        loop.join(5)
    assert not loop.is_alive()
    assert smtp.outbox_ids() == Counter({email_id: 1 for email_id in ids})


# --- No SMTP configured: the development mailbox ------------------------------------------------------


def test_without_smtp_mail_is_kept_and_logged_once_without_the_link_or_the_address(world, caplog):
    with env(smtp_host=None):
        submit_request(world.sam, new_access(world.alpha), "delivery-test-key-000000002")
        with session_scope() as session:
            invitation = session.exec(select(OutboundEmail).where(OutboundEmail.kind == "invitation")).one()
        token = re.search(r"/agreement/([A-Za-z0-9_-]+)", invitation.body_text).group(1)
        with caplog.at_level(logging.INFO, logger="immtrax_portal.mail"):
            report = deliver_due()
            again = deliver_due()
    assert len(report.kept) == 2 and not report.sent and again.kept == []
    lines = [r.getMessage() for r in caplog.records if r.name == "immtrax_portal.mail"]
    assert len(lines) == 2
    assert f"Mail #{invitation.id} (invitation) kept in the development mailbox" in lines
    # The address and subject are in the outbox (and on /dev/mailbox), not in the log.
    assert not any("@" in line or "Sign your" in line for line in lines)
    assert not any(token in line or "/agreement/" in line for line in lines)
    assert statuses() == Counter({EmailStatus.QUEUED: 2})
    assert row(invitation.id).last_error == KEPT_NOTE
    # The embedded demo's mailbox keeps the working link: a demo applicant finds it there.
    assert token in row(invitation.id).body_text


def test_kept_mail_of_an_installation_with_a_real_issuer_keeps_no_working_link(world):
    with env(smtp_host=None, oidc_issuer="https://okta-test.mt.example/oauth2/default",
             environment="development"):
        submit_request(world.sam, new_access(world.alpha), "delivery-test-key-000000009")
        assert len(deliver_due().kept) == 2
        with session_scope() as session:
            invitation = session.exec(select(OutboundEmail).where(OutboundEmail.kind == "invitation")).one()
    assert not re.search(r"/agreement/[A-Za-z0-9_-]{20,}", invitation.body_text + invitation.body_html)


def test_a_failed_invitation_keeps_no_working_link(world):
    with env(smtp_host="127.0.0.1", smtp_port="9", smtp_security="none", mail_max_attempts="1"):
        submit_request(world.sam, new_access(world.alpha), "delivery-test-key-000000010")
        assert deliver_due().failed
        with session_scope() as session:
            invitation = session.exec(select(OutboundEmail).where(OutboundEmail.kind == "invitation")).one()
    assert invitation.status == EmailStatus.FAILED
    assert not re.search(r"/agreement/[A-Za-z0-9_-]{20,}", invitation.body_text + invitation.body_html)


# --- The mailbox / email-status read side ---------------------------------------------------------


def staff_actor() -> Actor:
    with session_scope() as session:
        person = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff", is_staff=True)
        session.add(person)
        session.flush()
        return Actor(person_id=person.id, email=person.email, is_staff=True)


def test_staff_list_emails_newest_first_by_page_and_status(world):
    with env(smtp_host=None):
        ids = queue(25)
        deliver_due()
        staff = staff_actor()
        first, total = mailbox.list_emails(staff, 1)
        second, _ = mailbox.list_emails(staff, 2)
        kept, kept_total = mailbox.list_emails(staff, 1, status="kept")
        sent, sent_total = mailbox.list_emails(staff, 1, status="sent")
    assert total == 25 and len(first) == 20 and len(second) == 5
    assert [r["id"] for r in first + second] == sorted(ids, reverse=True)
    assert set(first[0]) >= {"id", "to", "subject", "kind", "status", "attempts", "last_error", "created",
                             "sent"}
    assert first[0]["status"] == "kept" and first[0]["last_error"] == ""
    assert kept_total == 25 and sent_total == 0 and sent == [] and len(kept) == 20


def test_with_a_mail_server_only_staff_read_the_mailbox_and_links_are_hidden_outside_development(
        world, monkeypatch):
    submit_request(world.sam, new_access(world.alpha), "delivery-test-key-000000003")
    supervisor = Actor(person_id=world.sam, email="sam.supervisor@alpha.example",
                       supervised_org_ids=frozenset({world.alpha}))
    with session_scope() as session:
        invitation_id = session.exec(select(OutboundEmail.id).where(OutboundEmail.kind == "invitation")).one()
    with env(smtp_host="127.0.0.1"):
        with pytest.raises(NotAllowed):
            mailbox.list_emails(supervisor, 1)
        with pytest.raises(NotAllowed):
            mailbox.email_detail(supervisor, invitation_id)
    staff = staff_actor()
    shown = mailbox.email_detail(staff, invitation_id)
    assert re.search(r"/agreement/[A-Za-z0-9_-]{40,}", shown["body_text"])
    assert shown["request_number"].startswith("IMR-") and shown["message_id"].startswith("<outbox-")
    monkeypatch.setattr(mailbox, "links_are_shown", lambda: False)
    hidden = mailbox.email_detail(staff, invitation_id)
    assert not re.search(r"/agreement/[A-Za-z0-9_-]{20,}", hidden["body_text"] + hidden["body_html"])
    assert "link hidden" in hidden["body_text"]
    assert mailbox.email_detail(staff, 999_999) is None
    assert [e["kind"] for e in mailbox.emails_for_request(staff, shown["request_id"])] == ["invitation",
                                                                                           "receipt"]
