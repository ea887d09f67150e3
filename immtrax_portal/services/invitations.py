"""Invitation tokens: random, single-use, stored only as a hash, bound to the invited email."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from immtrax_portal.domain.models import AccessRequest, Invitation, Organization, Person, utcnow
from immtrax_portal.settings import get_settings

TOKEN_BYTES = 32  # 256 bits
PROGRAM_ZONE = ZoneInfo("America/Denver")


def program_time(value: datetime) -> str:
    """A timestamp as the program reads it: 'March 3, 2026 at 9:05 AM MST'."""
    return value.astimezone(PROGRAM_ZONE).strftime("%B %-d, %Y at %-I:%M %p %Z")


def program_date(value: datetime) -> str:
    """A day as the program reads it: 'March 3, 2026'."""
    return value.astimezone(PROGRAM_ZONE).strftime("%B %-d, %Y")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{get_settings().public_url}/agreement/{token}"


def issue_invitation(session: Session, request: AccessRequest, email: str) -> tuple[Invitation, str]:
    """A new token for ``request``; any earlier unused one is revoked. Returns (row, token)."""
    now = utcnow()
    for earlier in session.exec(
        select(Invitation).where(
            Invitation.request_id == request.id,
            Invitation.consumed_at.is_(None),  # type: ignore[union-attr]
            Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
        )
    ):
        earlier.revoked_at = now
        session.add(earlier)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        request_id=request.id,
        token_hash=hash_token(token),
        email=email.lower(),
        created_at=now,
        expires_at=now + timedelta(days=get_settings().invitation_lifetime_days),
    )
    session.add(invitation)
    return invitation, token


def invitation_paragraphs(subject: Person, organization: Organization, request: AccessRequest,
                          expires_at: datetime, *, reminder: bool = False,
                          first: bool = False) -> list[str]:
    """The invitation email's text: the first one, a resend, and the reminders.

    Later ones say until when the link works and that it replaces the earlier link."""
    opening = (f"This is a reminder: {organization.name} requested imMTrax access for you (request "
               f"{request.number}), and your User Agreement is not signed yet." if reminder else
               f"{organization.name} has requested imMTrax access for you (request {request.number}). "
               "Before the program can send your login credentials, you need to sign the imMTrax "
               "User Agreement.")
    paragraphs = [
        f"Hello {subject.first_name},",
        opening,
        "Open the link below on a computer with Chrome, Edge or Firefox (not Safari, not an iPhone or "
        "iPad), sign in with your own Okta account, and sign the agreement.",
    ]
    if first:
        return paragraphs
    return [
        *paragraphs,
        f"The link works until {program_time(expires_at)}. Any earlier invitation link no longer works.",
    ]
