"""Invitation tokens: random, single-use, stored only as a hash, bound to the invited email."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from immtrax_portal.domain.models import AccessRequest, Invitation, utcnow
from immtrax_portal.settings import get_settings

TOKEN_BYTES = 32  # 256 bits


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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

