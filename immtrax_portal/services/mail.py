"""The outbox: an email is a row written in the same transaction as the change that causes it.

So a change and its emails are saved together or not at all. This module only writes the row;
what an email says comes from the catalog (``services.emails``), and sending is the delivery
worker's (``services.delivery``: SMTP with retries, each email once). With no SMTP host
configured, rows stay queued and are read in the development mailbox (``services.mailbox``).
"""

from __future__ import annotations

from sqlmodel import Session

from immtrax_portal.domain.models import OutboundEmail


def queue_email(session: Session, *, kind: str, to: str, subject: str, body_text: str, body_html: str,
                request_id: int | None = None) -> OutboundEmail:
    """Add one outgoing email to ``session``; it is sent once the caller's transaction commits."""
    email = OutboundEmail(kind=kind, to_address=to, subject=subject, body_text=body_text,
                          body_html=body_html, request_id=request_id)
    session.add(email)
    return email
