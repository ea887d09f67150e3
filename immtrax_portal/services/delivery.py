"""The delivery worker: sends the outbox through SMTP, each email once, retrying with back-off.

How an email moves::

    queued ──claim──► sending ──SMTP accepted──► sent
      ▲                  │
      └──── retry ◄──────┤ transient error (connection refused, 4xx): back to queued, later
                         └ permanent error (5xx) or too many attempts ──► failed

Claiming is one conditional UPDATE per row (``WHERE status = 'queued' AND next_attempt_at <= now``)
whose rowcount says whether this worker won the row, so any number of workers, threads or
processes can run at once and still hand each email to SMTP once.

While a row is ``sending``, ``next_attempt_at`` holds the end of the worker's lease (claim time +
``SENDING_LEASE``). A row still ``sending`` after its lease means the worker died between claim
and outcome; ``recover_stuck_emails`` puts it back in the queue. That makes delivery
*at-least-once* in one narrow case: the SMTP server accepted the message and the worker crashed
before writing ``sent``. The message then goes out a second time. Every message carries a
``Message-ID`` derived from its outbox row, so mail servers and clients that de-duplicate by
Message-ID show it once. Everywhere else (two workers, retries, restarts) it is exactly once.

With no SMTP host configured (the embedded default) nothing is sent: mail stays ``queued`` and is
read in the development mailbox (``services.mailbox``). Each such email is logged once (kind,
recipient, subject; never the body, which may hold an invitation link), and marked with
``KEPT_NOTE`` in ``last_error`` so the log line is not repeated. If an SMTP host is configured
later, the kept mail is delivered then.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib
import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import EmailStatus
from immtrax_portal.domain.models import OutboundEmail, utcnow
from immtrax_portal.settings import Settings, get_settings

log = logging.getLogger("immtrax_portal.mail")

FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
SENDING_LEASE = timedelta(minutes=10)
KEPT_NOTE = "Kept in the development mailbox: no SMTP server is configured."
INTERRUPTED_NOTE = "Delivery was interrupted (worker stopped while sending); retrying."
GAVE_UP_NOTE = "Delivery was interrupted (worker stopped while sending) on the last attempt."

_table = OutboundEmail.__table__  # type: ignore[attr-defined]


@dataclass
class DeliveryReport:
    """What one call of ``deliver_due`` did, by outbox id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    recovered: int = 0

    @property
    def claimed(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.failed)


@dataclass(frozen=True)
class _Outcome:
    error: str = ""
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4, 8, 16, 32, then 60 minutes.

    The first seven attempts span 63 minutes, so an outage of an hour is outlived by attempt 7;
    the default 12 attempts keep trying for about six hours before an email is called failed.
    """
    return min(FIRST_BACKOFF * (2 ** max(0, attempts - 1)), MAX_BACKOFF)


def message_id_for(email: OutboundEmail, settings: Settings) -> str:
    """Stable per outbox row, so a resend after a crash carries the same Message-ID."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "immtrax.invalid"
    stamp = int(email.created_at.timestamp()) if email.created_at else 0
    return f"<outbox-{email.id}-{stamp}@{domain}>"


def build_message(email: OutboundEmail, settings: Settings) -> EmailMessage:
    """A multipart/alternative message: plain text first, HTML as the preferred alternative."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at or utcnow())
    message["Message-ID"] = message_id_for(email, settings)
    message["X-Immtrax-Outbox-Id"] = str(email.id)
    message.set_content(email.body_text)
    message.add_alternative(email.body_html, subtype="html")
    return message


def _safe_error(exc: BaseException, settings: Settings) -> str:
    """The error for ``last_error``: type and message, without the SMTP password, bounded."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if settings.smtp_password:
        text = text.replace(settings.smtp_password, "***")
    return " ".join(text.split())[:500]


def _is_permanent(exc: BaseException) -> bool:
    """5xx answers (unknown recipient, refused content) will not improve by waiting."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError)
    return isinstance(exc, ValueError)  # a header the message cannot carry


def _smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        timeout=settings.smtp_timeout_seconds,
    )


async def send_messages(messages: list[EmailMessage], settings: Settings) -> list[_Outcome]:
    """Send over one connection, reconnecting after a dropped one; one outcome per message.

    When the server cannot be reached at all, every message gets that error without a new
    connection attempt each, so an outage costs one timeout per batch, not one per email.
    """
    outcomes: list[_Outcome] = []
    client = _smtp_client(settings)
    try:
        for message in messages:
            if not client.is_connected:
                try:
                    await client.connect()
                except Exception as exc:  # any failure to connect is this batch's outcome, not a crash
                    error = _Outcome(_safe_error(exc, settings), _is_permanent(exc))
                    outcomes.extend([error] * (len(messages) - len(outcomes)))
                    break
            try:
                await client.send_message(message)
                outcomes.append(_Outcome())
            except Exception as exc:  # recorded on the row; an unforeseen error must not strand the batch
                outcomes.append(_Outcome(_safe_error(exc, settings), _is_permanent(exc)))
                if not isinstance(exc, aiosmtplib.SMTPResponseException | ValueError):
                    client.close()  # the connection's state is unknown: start afresh
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
    return outcomes


# --- The database side --------------------------------------------------------------------------


def recover_stuck_emails(now: datetime) -> int:
    """Rows left ``sending`` past their lease go back to the queue (or fail if out of attempts)."""
    max_attempts = get_settings().mail_max_attempts
    stuck = sa.and_(_table.c.status == EmailStatus.SENDING.value, _table.c.next_attempt_at <= now)
    with session_scope() as session:
        gave_up = session.execute(
            _table.update().where(stuck, _table.c.attempts >= max_attempts)
            .values(status=EmailStatus.FAILED.value, last_error=GAVE_UP_NOTE)
        ).rowcount
        requeued = session.execute(
            _table.update().where(stuck)
            .values(status=EmailStatus.QUEUED.value, next_attempt_at=now, last_error=INTERRUPTED_NOTE)
        ).rowcount
    if gave_up or requeued:
        log.warning("Recovered %d interrupted email(s); %d gave up after too many attempts",
                    requeued, gave_up)
    return gave_up + requeued


def claim_due_emails(now: datetime, limit: int) -> list[OutboundEmail]:
    """Win up to ``limit`` due emails for this worker; a row another worker won is skipped."""
    due = sa.and_(_table.c.status == EmailStatus.QUEUED.value, _table.c.next_attempt_at <= now)
    with session_scope() as session:
        candidates = session.execute(
            sa.select(_table.c.id).where(due).order_by(_table.c.next_attempt_at, _table.c.id).limit(limit)
        ).scalars().all()
        won = []
        for email_id in candidates:
            result = session.execute(
                _table.update().where(_table.c.id == email_id, due).values(
                    status=EmailStatus.SENDING.value,
                    attempts=_table.c.attempts + 1,
                    next_attempt_at=now + SENDING_LEASE,
                )
            )
            if result.rowcount == 1:
                won.append(email_id)
    if not won:
        return []
    with session_scope() as session:
        rows = session.exec(select(OutboundEmail).where(OutboundEmail.id.in_(won))).all()  # type: ignore[union-attr]
        return sorted(rows, key=lambda row: won.index(row.id))


# An invitation link in a body: /agreement/<token>. Once the email has left (or will never leave),
# the stored copy must not hold a working link: the token was meant for the applicant alone.
INVITATION_LINK = re.compile(r"(/agreement/)[A-Za-z0-9_-]{20,}+")
LINK_REMOVED = r"\1[link removed after delivery]"


def without_links(email) -> dict[str, str]:
    """The bodies of ``email`` with every invitation link replaced (columns to update)."""
    return {"body_text": INVITATION_LINK.sub(LINK_REMOVED, email.body_text),
            "body_html": INVITATION_LINK.sub(LINK_REMOVED, email.body_html)}


def record_outcome(email: OutboundEmail, outcome: _Outcome, now: datetime, report: DeliveryReport) -> None:
    """Write sent, retry-later or failed, only if this worker still holds the row."""
    settings = get_settings()
    mine = sa.and_(_table.c.id == email.id, _table.c.status == EmailStatus.SENDING.value)
    if outcome.ok:
        values = dict(status=EmailStatus.SENT.value, sent_at=now, last_error="", **without_links(email))
        bucket = report.sent
    elif outcome.permanent or email.attempts >= settings.mail_max_attempts:
        values = dict(status=EmailStatus.FAILED.value, last_error=outcome.error, **without_links(email))
        bucket = report.failed
    else:
        values = dict(status=EmailStatus.QUEUED.value, last_error=outcome.error,
                      next_attempt_at=now + backoff(email.attempts))
        bucket = report.retrying
    with session_scope() as session:
        updated = session.execute(_table.update().where(mine).values(**values)).rowcount
    if updated != 1:
        log.warning("Mail #%s: outcome not recorded, the row is no longer ours", email.id)
        return
    bucket.append(email.id)
    if outcome.ok:
        # Ids and kinds only: an address is personal data, and the outbox row has it.
        log.info("Mail #%s (%s) sent", email.id, email.kind)
    else:
        log.warning("Mail #%s (%s) not delivered, attempt %d: %s%s", email.id, email.kind,
                    email.attempts, outcome.error,
                    "" if bucket is report.retrying else " (failed, no more attempts)")


def keep_in_development_mailbox(report: DeliveryReport) -> None:
    """No SMTP host: log each not-yet-logged queued email once, and leave it queued."""
    not_logged = sa.and_(_table.c.status == EmailStatus.QUEUED.value, _table.c.last_error != KEPT_NOTE)
    # Only the embedded demo's mailbox keeps working links: there it is how a demo applicant
    # finds their invitation. Kept mail of any other installation keeps none.
    keeps_links = get_settings().uses_demo_sign_in
    with session_scope() as session:
        rows = session.execute(
            sa.select(_table.c.id, _table.c.kind, _table.c.to_address, _table.c.subject,
                      _table.c.body_text, _table.c.body_html)
            .where(not_logged).order_by(_table.c.id).limit(200)
        ).all()
        for row in rows:
            values = {"last_error": KEPT_NOTE, **({} if keeps_links else without_links(row))}
            marked = session.execute(
                _table.update().where(_table.c.id == row.id, not_logged).values(**values)
            ).rowcount
            if marked == 1:
                report.kept.append(row.id)
                log.info("Mail #%s (%s) kept in the development mailbox", row.id, row.kind)


def deliver_due(now: datetime | None = None, limit: int = 20) -> DeliveryReport:
    """Send up to ``limit`` due emails once each; safe to run from several workers at once.

    Synchronous (it runs its own event loop for the SMTP conversation); from async code call it
    through ``asyncio.to_thread``.
    """
    now = now or utcnow()
    settings = get_settings()
    report = DeliveryReport()
    report.recovered = recover_stuck_emails(now)
    if not settings.smtp_host:
        keep_in_development_mailbox(report)
        return report
    claimed = claim_due_emails(now, limit)
    if not claimed:
        return report
    messages, sendable = [], []
    for email in claimed:
        try:
            messages.append(build_message(email, settings))
            sendable.append(email)
        except (ValueError, TypeError) as exc:
            record_outcome(email, _Outcome(_safe_error(exc, settings), permanent=True), now, report)
    outcomes = asyncio.run(send_messages(messages, settings)) if messages else []
    for email, outcome in zip(sendable, outcomes, strict=True):
        record_outcome(email, outcome, now, report)
    return report


def run_delivery_loop(
    stop_event: threading.Event,
    interval_s: float = 5,
    *,
    clock: Callable[[], datetime] = utcnow,
    limit: int = 20,
    max_batches_per_tick: int = 10,
) -> None:
    """Deliver until ``stop_event`` is set: a full batch is followed at once by another (at most
    ``max_batches_per_tick``), then the loop sleeps ``interval_s``. Errors are logged, never
    fatal. Meant for a daemon thread: ``threading.Thread(target=run_delivery_loop,
    args=(stop,), daemon=True).start()``; stopping takes at most one SMTP timeout."""
    while not stop_event.is_set():
        try:
            for _ in range(max_batches_per_tick):
                report = deliver_due(clock(), limit)
                if report.claimed < limit or stop_event.is_set():
                    break
        except Exception:  # the loop must outlive a bad tick (database restart, a bug)
            log.exception("Mail delivery tick failed; trying again in %ss", interval_s)
        stop_event.wait(interval_s)
