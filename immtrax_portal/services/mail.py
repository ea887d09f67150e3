"""The outbox: an email is a row written in the same transaction as the change that causes it.

Delivery to SMTP is a separate worker (see the agreement issue); until then mail stays queued and
shows in the development mailbox.
"""

from __future__ import annotations

import html

from sqlmodel import Session

from immtrax_portal.domain.models import OutboundEmail
from immtrax_portal.settings import get_settings


def _signature_text() -> str:
    s = get_settings()
    return f"\n\n--\n{s.program_name}\n{s.program_phone}, {s.program_hours}\n"


def queue_email(
    session: Session,
    *,
    kind: str,
    to: str,
    subject: str,
    paragraphs: list[str],
    link: tuple[str, str] | None = None,
    request_id: int | None = None,
) -> OutboundEmail:
    """Queue one email with plain-text and HTML bodies built from the same paragraphs."""
    text = "\n\n".join(paragraphs)
    body_html = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if link:
        label, url = link
        text += f"\n\n{label}: {url}"
        body_html += (f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>'
                      f"<p>{html.escape(url)}</p>")
    s = get_settings()
    text += _signature_text()
    body_html += (f"<hr><p>{html.escape(s.program_name)}<br>{html.escape(s.program_phone)}, "
                  f"{html.escape(s.program_hours)}</p>")
    email = OutboundEmail(kind=kind, to_address=to, subject=subject, body_text=text,
                          body_html=body_html, request_id=request_id)
    session.add(email)
    return email
