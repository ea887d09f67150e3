"""Opening an invitation link and signing the User Agreement.

Opening a link (``open_invitation``) only reads: mail scanners that follow links cannot burn an
invitation. Signing (``sign_agreement``) is one transaction that re-checks the invitation,
the signer's identity, the ticked acknowledgements and the typed name, then consumes the
invitation with a conditional UPDATE (the one winner among concurrent attempts), writes the
signature, moves the request to in_review under the optimistic lock, and queues the emails.
A refusal changes nothing but the audit log, which records it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AgreementVersion,
    Invitation,
    Organization,
    Person,
    utcnow,
)
from immtrax_portal.domain.person_names import names_match
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_time
from immtrax_portal.services import audit, emails
from immtrax_portal.services.agreements import current_agreement
from immtrax_portal.services.invitations import hash_token
from immtrax_portal.services.request_store import RequestChanged, save_transition
from immtrax_portal.settings import get_settings

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_invitations = Invitation.__table__  # type: ignore[attr-defined]


# --- Small helpers ----------------------------------------------------------------------------


def masked_email(email: str) -> str:
    """j•••@clinic.example: enough to recognise one's own address, not to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


# The typed name is compared with the invited one by the names module's one rule
# (``names_match``: Unicode forms, case, the kind of apostrophe, periods and spaces).


# --- Opening the link -----------------------------------------------------------------------------


REASON_CODES = ("expired", "used", "revoked", "unknown", "wrong_identity", "name_mismatch",
                "acknowledgements_missing", "agreement_changed", "request_changed", "unavailable")


@dataclass(frozen=True)
class InvitationView:
    """What the agreement page shows for a link. Agreement fields are filled only when valid."""

    status: str  # valid | expired | used | revoked | unknown
    message: str
    request_id: int | None = None
    request_number: str = ""
    organization_name: str = ""
    first_name: str = ""
    last_name: str = ""
    invited_email_hint: str = ""
    expires_on: str = ""
    agreement_version_id: int | None = None
    agreement_label: str = ""
    agreement_title: str = ""
    agreement_body: str = ""
    acknowledgements: list[str] = field(default_factory=list)
    identity_ok: bool | None = None  # None: nobody signed in yet

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"


def _invitation_for(session: Session, token: str) -> Invitation | None:
    if not _TOKEN_SHAPE.match(token or ""):
        return None
    return session.exec(select(Invitation).where(Invitation.token_hash == hash_token(token))).first()


def _newer_invitation(session: Session, invitation: Invitation) -> Invitation | None:
    return session.exec(
        select(Invitation).where(Invitation.request_id == invitation.request_id,
                                 Invitation.id > invitation.id)  # type: ignore[operator]
        .order_by(Invitation.id.desc())  # type: ignore[union-attr]
    ).first()


def invitation_status(session: Session, invitation: Invitation | None, request: AccessRequest | None,
                      now: datetime) -> tuple[str, str]:
    """(status, the sentence the page shows) for an invitation at ``now``."""
    s = get_settings()
    call = f"call the {s.program_name} at {s.program_phone} ({s.program_hours})"
    if invitation is None or request is None:
        return "unknown", ("We do not recognise this link. Copy the whole link from the invitation "
                           "email into the address bar, or ask your supervisor to resend the invitation, "
                           f"or {call}.")
    if invitation.consumed_at is not None or request.status in (
            RequestStatus.IN_REVIEW, RequestStatus.NEEDS_INFO, RequestStatus.COMPLETED):
        return "used", (f"This invitation has already been used: the User Agreement for request "
                        f"{request.number} is signed. Sign in to your dashboard to see it.")
    if request.status in (RequestStatus.CANCELLED, RequestStatus.REJECTED):
        return "revoked", (f"Request {request.number} was {request.status.value}, so this invitation no "
                           f"longer works. If you still need imMTrax access, ask your supervisor.")
    if invitation.revoked_at is not None:
        newer = _newer_invitation(session, invitation)
        when = f" on {program_time(newer.created_at)}" if newer else ""
        return "revoked", (f"This link was replaced by a newer invitation sent{when}. Use the link in the "
                           "most recent invitation email.")
    if invitation.expires_at <= now or request.status == RequestStatus.EXPIRED:
        return "expired", (f"This invitation expired on {program_time(invitation.expires_at)}. Ask your "
                           f"supervisor to resend it from their dashboard, or {call}.")
    return "valid", "Read the agreement, tick each statement, and type your full name to sign."


def wrong_identity_message(signed_in_email: str, invited_email: str) -> str:
    s = get_settings()
    return (f"You are signed in as {signed_in_email}, but this invitation was sent to "
            f"{masked_email(invited_email)}. Sign out, then sign in with the Okta account that uses "
            f"that work email (if you have none, create one: {s.okta_account_guide_url}). If your "
            f"work email is different, ask your supervisor to call the program at {s.program_phone}.")


def open_invitation(token: str, *, signed_in_email: str | None = None,
                    now: datetime | None = None) -> InvitationView:
    """What the link shows. Reads only: opening never consumes the invitation."""
    now = now or utcnow()
    with session_scope() as session:
        invitation = _invitation_for(session, token)
        request = session.get(AccessRequest, invitation.request_id) if invitation else None
        status, message = invitation_status(session, invitation, request, now)
        if status == "unknown":
            return InvitationView(status, message)
        subject = session.get(Person, request.subject_person_id)
        organization = session.get(Organization, request.organization_id)
        common = dict(request_id=request.id, request_number=request.number,
                      organization_name=organization.name if organization else "",
                      first_name=subject.first_name, last_name=subject.last_name,
                      invited_email_hint=masked_email(invitation.email),
                      expires_on=program_time(invitation.expires_at))
        if status != "valid":
            return InvitationView(status, message, **common)
        identity_ok = None
        if signed_in_email is not None:
            identity_ok = signed_in_email.strip().lower() == invitation.email
            if not identity_ok:
                message = wrong_identity_message(signed_in_email, invitation.email)
        agreement = current_agreement(session)
        if agreement is None:
            return InvitationView("valid", "The agreement is not available right now. Please try again "
                                  "later.", identity_ok=identity_ok, **common)
        return InvitationView(
            status, message, agreement_version_id=agreement.id, agreement_label=agreement.label,
            agreement_title=agreement.title, agreement_body=agreement.body,
            acknowledgements=json.loads(agreement.acknowledgements), identity_ok=identity_ok, **common,
        )


# --- Signing --------------------------------------------------------------------------------------


class SigningRefused(Exception):
    """The signature was not taken; ``reason_code`` is one of REASON_CODES, ``message`` is for the page."""

    def __init__(self, reason_code: str, message: str, *, request_id: int | None = None,
                 organization_id: int | None = None) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.request_id = request_id
        self.organization_id = organization_id


@dataclass(frozen=True)
class SignResult:
    signature_id: int
    request_id: int
    request_number: str
    agreement_label: str
    signed_at: datetime


@dataclass(frozen=True)
class _Signer:
    person_id: int
    okta_subject: str
    verified_email: str
    typed_name: str
    acknowledged: frozenset[int]
    ip_address: str
    user_agent: str


def _refuse(code: str, message: str, request: AccessRequest | None = None) -> SigningRefused:
    return SigningRefused(code, message, request_id=request.id if request else None,
                          organization_id=request.organization_id if request else None)


def _check_signer(session: Session, invitation: Invitation, request: AccessRequest, signer: _Signer,
                  agreement_version_id: int | None) -> tuple[Person, AgreementVersion, list[str]]:
    """Everything about the signer and their answers; raises the first refusal."""
    subject = session.get(Person, request.subject_person_id)
    same_okta_account = subject.okta_subject in (None, signer.okta_subject)
    if (signer.verified_email.strip().lower() != invitation.email or signer.person_id != subject.id
            or not signer.okta_subject or not same_okta_account):
        raise _refuse("wrong_identity", wrong_identity_message(signer.verified_email, invitation.email),
                      request)
    agreement = current_agreement(session)
    if agreement is None:
        raise _refuse("unavailable", "The agreement is not available right now. Please try again later.",
                      request)
    if agreement_version_id is not None and agreement_version_id != agreement.id:
        raise _refuse("agreement_changed", "The agreement was updated while you were reading it. Read "
                      "the new version and sign again.", request)
    acknowledgements = json.loads(agreement.acknowledgements)
    if not set(range(len(acknowledgements))) <= signer.acknowledged:
        raise _refuse("acknowledgements_missing", "Tick every statement to confirm that you agree to it.",
                      request)
    if not names_match(signer.typed_name, subject.first_name, subject.last_name):
        raise _refuse("name_mismatch", f"The name you typed does not match the name on the request "
                      f"({subject.first_name} {subject.last_name}). Type your first and last name as "
                      "shown. If that name is wrong, ask your supervisor to contact the program.", request)
    return subject, agreement, acknowledgements


def _consume(session: Session, invitation: Invitation, request: AccessRequest, now: datetime) -> None:
    """The one winner: only the first UPDATE finds the invitation still open."""
    open_row = sa.and_(_invitations.c.id == invitation.id, _invitations.c.consumed_at.is_(None),
                       _invitations.c.revoked_at.is_(None), _invitations.c.expires_at > now)
    if session.execute(_invitations.update().where(open_row).values(consumed_at=now)).rowcount == 1:
        return
    session.expire(invitation)
    status, message = invitation_status(session, session.get(Invitation, invitation.id), request, now)
    raise _refuse("used" if status == "valid" else status, message, request)


def _queue_signed_emails(session: Session, request: AccessRequest, agreement: AgreementVersion,
                         signed_at: datetime) -> None:
    emails.agreement_receipt(session, request, agreement, signed_at)
    emails.agreement_signed(session, request, signed_at)
    emails.review_needed(session, request, agreement, signed_at)


def _sign(session: Session, token: str, signer: _Signer, agreement_version_id: int | None,
          now: datetime) -> SignResult:
    invitation = _invitation_for(session, token)
    request = None
    if invitation is not None:
        # Lock the request row first, as resend, reminders and expiry do: one order, no deadlocks.
        request = session.get(AccessRequest, invitation.request_id, with_for_update=True)
        session.refresh(invitation)
    status, message = invitation_status(session, invitation, request, now)
    if status != "valid":
        raise _refuse(status, message, request)
    subject, agreement, acknowledgements = _check_signer(session, invitation, request, signer,
                                                         agreement_version_id)
    _consume(session, invitation, request, now)
    signature = AgreementSignature(
        request_id=request.id, invitation_id=invitation.id, person_id=signer.person_id,
        agreement_version_id=agreement.id, text_hash=agreement.text_hash,
        typed_name=" ".join(signer.typed_name.split())[:200],
        acknowledgements=json.dumps(acknowledgements), signed_at=now,
        okta_subject=signer.okta_subject[:255], ip_address=signer.ip_address[:64],
        user_agent=signer.user_agent[:512],
    )
    session.add(signature)
    session.flush()
    save_transition(session, request, Action.SIGN_AGREEMENT, actor_id=signer.person_id,
                    actor_role=Role.APPLICANT, source_ip=signer.ip_address,
                    details={"signature_id": signature.id, "invitation_id": invitation.id,
                             "agreement": agreement.label, "okta_subject": signer.okta_subject})
    _queue_signed_emails(session, request, agreement, now)
    return SignResult(signature.id, request.id, request.number, agreement.label, now)


def sign_agreement(token: str, *, person_id: int, okta_subject: str, verified_email: str, typed_name: str,
                   acknowledged: list[int], ip_address: str, user_agent: str,
                   agreement_version_id: int | None = None, now: datetime | None = None) -> SignResult:
    """Sign with the invitation ``token`` as the signed-in person, or raise SigningRefused.

    ``agreement_version_id`` is the version the page showed; if a newer one was published since,
    the signer is asked to read that one (reason ``agreement_changed``).
    """
    now = now or utcnow()
    signer = _Signer(person_id, okta_subject, verified_email, typed_name, frozenset(acknowledged),
                     ip_address, user_agent)
    try:
        with session_scope() as session:
            return _sign(session, token, signer, agreement_version_id, now)
    except SigningRefused as refused:
        _record_refusal(refused, signer)
        raise
    except (IntegrityError, RequestChanged):
        # Another signature for this request, or a concurrent cancel, won the race.
        refused = SigningRefused("request_changed", "This request changed while you were signing. "
                                 "Reload the page to see where it stands.")
        _record_refusal(refused, signer)
        raise refused from None


def _record_refusal(refused: SigningRefused, signer: _Signer) -> None:
    with session_scope() as session:
        audit.record(session, action=AuditAction.SIGN_AGREEMENT_REFUSED, actor_id=signer.person_id,
                     actor_role=Role.APPLICANT, outcome=AuditOutcome.DENIED,
                     organization_id=refused.organization_id, request_id=refused.request_id,
                     reason=refused.reason_code, source_ip=signer.ip_address,
                     details={"signed_in_email": signer.verified_email, "okta_subject": signer.okta_subject})
