"""Reading the outbox: the staff email-status view and the development mailbox.

Program staff (and admins) only. In the embedded default (no SMTP host) this *is* the mailbox:
mail is kept here and the demo staff read invitations from it. Outside development, invitation
links in bodies are hidden, because a working token in a staff member's browser is a credential
that was meant for the applicant alone.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import EmailStatus
from immtrax_portal.domain.models import AccessRequest, OutboundEmail
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_staff
from immtrax_portal.program_time import program_stamp
from immtrax_portal.services.delivery import INVITATION_LINK, KEPT_NOTE, message_id_for
from immtrax_portal.settings import get_settings

PAGE_SIZE = 20
_TOKEN_IN_LINK = INVITATION_LINK
HIDDEN_LINK = r"\1[link hidden outside development]"
_LINK = re.compile(r"https?://[^\s<>\"')]+")


def mail_is_kept() -> bool:
    """True when no SMTP server is configured: nothing leaves, the mailbox is where mail is read."""
    return not get_settings().smtp_host


def links_are_shown() -> bool:
    return get_settings().environment == "development"


def may_read_mailbox(actor: Actor) -> bool:
    """Program staff always. In the embedded demo (demo sign-in, no SMTP) every signed-in person
    too: nothing leaves the machine, so the mailbox is the only place a demo applicant finds
    their invitation link."""
    settings = get_settings()
    return actor.is_program_staff or (settings.uses_demo_sign_in and mail_is_kept())


def require_mailbox_reader(actor: Actor) -> None:
    if not may_read_mailbox(actor):
        raise NotAllowed("Only program staff can read the portal's outgoing mail.")


def links_in(text: str) -> list[str]:
    """The web addresses in a plain-text body, for the mailbox's "open this link" buttons."""
    return list(dict.fromkeys(_LINK.findall(text)))


def _when(value: datetime | None) -> str:
    return program_stamp(value) if value else ""


def shown_status(email: OutboundEmail) -> str:
    """queued, sending, sent, failed; or "kept" for mail held in the development mailbox."""
    if email.status == EmailStatus.QUEUED and email.last_error == KEPT_NOTE:
        return "kept"
    return email.status.value


def _row(email: OutboundEmail, number: str | None) -> dict:
    return {
        "id": email.id,
        "to": email.to_address,
        "subject": email.subject,
        "kind": email.kind,
        "status": shown_status(email),
        "attempts": email.attempts,
        "last_error": "" if email.last_error == KEPT_NOTE else email.last_error,
        "created": _when(email.created_at),
        "sent": _when(email.sent_at),
        "next_attempt": _when(email.next_attempt_at) if email.status == EmailStatus.QUEUED else "",
        "request_id": email.request_id,
        "request_number": number or "",
    }


def _numbers(session, emails: list[OutboundEmail]) -> dict[int, str]:
    ids = {e.request_id for e in emails if e.request_id}
    if not ids:
        return {}
    rows = session.exec(select(AccessRequest.id, AccessRequest.number)
                        .where(AccessRequest.id.in_(ids))).all()  # type: ignore[union-attr]
    return dict(rows)


def list_emails(actor: Actor, page: int = 1, status: str | None = None) -> tuple[list[dict], int]:
    """One page (20) of emails, newest first, and how many match. ``status`` filters by
    queued, sending, sent or failed ("kept" filters the development mailbox's held mail)."""
    require_mailbox_reader(actor)
    where = []
    if status == "kept":
        where = [OutboundEmail.status == EmailStatus.QUEUED, OutboundEmail.last_error == KEPT_NOTE]
    elif status:
        where = [OutboundEmail.status == EmailStatus(status)]
    with session_scope() as session:
        total = session.exec(select(sa.func.count()).select_from(OutboundEmail).where(*where)).one()
        emails = list(session.exec(
            select(OutboundEmail).where(*where)
            .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())  # type: ignore[union-attr]
            .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ))
        numbers = _numbers(session, emails)
        return [_row(e, numbers.get(e.request_id)) for e in emails], total


def emails_for_request(actor: Actor, request_id: int) -> list[dict]:
    """Every email a request caused, oldest first: for the staff request detail's timeline."""
    require_staff(actor)
    with session_scope() as session:
        emails = list(session.exec(
            select(OutboundEmail).where(OutboundEmail.request_id == request_id)
            .order_by(OutboundEmail.created_at, OutboundEmail.id)  # type: ignore[arg-type]
        ))
        numbers = _numbers(session, emails)
        return [_row(e, numbers.get(e.request_id)) for e in emails]


def email_detail(actor: Actor, email_id: int) -> dict | None:
    """One email with both bodies (the HTML is the portal's own escaped markup; still show it in a
    sandboxed iframe), or None when there is no such email."""
    require_mailbox_reader(actor)
    with session_scope() as session:
        email = session.get(OutboundEmail, email_id)
        if email is None:
            return None
        detail = _row(email, _numbers(session, [email]).get(email.request_id))
    text, body_html = email.body_text, email.body_html
    if not links_are_shown():
        text = _TOKEN_IN_LINK.sub(HIDDEN_LINK, text)
        body_html = _TOKEN_IN_LINK.sub(HIDDEN_LINK, body_html)
    settings = get_settings()
    detail.update(body_text=text, body_html=body_html, message_id=message_id_for(email, settings),
                  mail_from=settings.mail_from, kept=mail_is_kept())
    return detail
