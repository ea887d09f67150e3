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
import textwrap
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
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
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import audit
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.agreements import current_agreement, text_hash
from immtrax_portal.services.invitations import hash_token, program_time
from immtrax_portal.services.mail import queue_email
from immtrax_portal.services.request_store import RequestChanged, save_transition
from immtrax_portal.settings import get_settings

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_invitations = Invitation.__table__  # type: ignore[attr-defined]


# --- Small helpers ----------------------------------------------------------------------------


def masked_email(email: str) -> str:
    """j•••@clinic.example: enough to recognise one's own address, not to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def normalized_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def names_match(typed: str, first_name: str, last_name: str) -> bool:
    """Typed full name against the invited one, ignoring case and runs of whitespace."""
    return bool(typed.strip()) and normalized_name(typed) == normalized_name(f"{first_name} {last_name}")


def dashboard_url() -> str:
    return f"{get_settings().public_url}/dashboard"


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


def _queue_signed_emails(session: Session, request: AccessRequest, subject: Person,
                         agreement: AgreementVersion, signed_at: datetime) -> None:
    organization = session.get(Organization, request.organization_id)
    submitter = session.get(Person, request.submitter_id)
    when = program_time(signed_at)
    queue_email(
        session, kind="agreement_receipt", to=subject.email, request_id=request.id,
        subject=f"You signed the imMTrax User Agreement (request {request.number})",
        paragraphs=[
            f"Hello {subject.first_name},",
            f"You signed the imMTrax User Agreement, version {agreement.label}, on {when}.",
            "Next, Montana Immunization Program staff review the request. When your imMTrax account "
            "is ready, they send your login credentials to this address.",
            "You can read and download your signed agreement on your dashboard at any time.",
        ],
        link=("Your dashboard", dashboard_url()),
    )
    queue_email(
        session, kind="agreement_signed", to=submitter.email, request_id=request.id,
        subject=f"Request {request.number}: {subject.full_name} signed the User Agreement",
        paragraphs=[
            f"Hello {submitter.first_name},",
            f"{subject.full_name} signed the imMTrax User Agreement on {when} for request "
            f"{request.number} at {organization.name}. The request is now with program staff for review.",
        ],
        link=("Follow the request", dashboard_url()),
    )
    queue_email(
        session, kind="review_needed", to=get_settings().program_inbox, request_id=request.id,
        subject=f"Request {request.number} is ready for review",
        paragraphs=[
            f"{subject.full_name} signed the imMTrax User Agreement (version {agreement.label}) on "
            f"{when}. Request {request.number} ({request.request_type.label}, {organization.name}) is "
            "now in review.",
        ],
        link=("Open the staff queue", dashboard_url()),
    )


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
    _queue_signed_emails(session, request, subject, agreement, now)
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
        audit.record(session, action="sign_agreement_refused", actor_id=signer.person_id,
                     actor_role=Role.APPLICANT, outcome=AuditOutcome.DENIED,
                     organization_id=refused.organization_id, request_id=refused.request_id,
                     reason=refused.reason_code, source_ip=signer.ip_address,
                     details={"signed_in_email": signer.verified_email, "okta_subject": signer.okta_subject})


# --- The signed agreement afterwards --------------------------------------------------------------


@dataclass(frozen=True)
class SignedAgreement:
    signature_id: int
    request_id: int
    request_number: str
    organization_name: str
    agreement_label: str
    title: str
    body: str
    acknowledgements: list[str]
    typed_name: str
    signed_at: datetime
    signed_at_text: str
    okta_subject: str
    ip_address: str
    user_agent: str
    text_hash: str
    text_verified: bool  # the stored version's text still hashes to what was signed


def _may_see_signature(session: Session, person_id: int, signature: AgreementSignature) -> None:
    if signature.person_id == person_id:
        return
    actor = load_actor(session, person_id)
    if actor is None or not actor.is_program_staff:
        raise NotAllowed("Only the person who signed and program staff can see a signed agreement.")


def _signed(session: Session, signature: AgreementSignature) -> SignedAgreement:
    version = session.get(AgreementVersion, signature.agreement_version_id)
    request = session.get(AccessRequest, signature.request_id)
    organization = session.get(Organization, request.organization_id)
    return SignedAgreement(
        signature.id, request.id, request.number, organization.name if organization else "",
        version.label, version.title, version.body, json.loads(signature.acknowledgements),
        signature.typed_name, signature.signed_at, program_time(signature.signed_at),
        signature.okta_subject, signature.ip_address, signature.user_agent, signature.text_hash,
        text_hash(version.body) == signature.text_hash,
    )


def signed_agreement_for(person_id: int, request_id: int) -> SignedAgreement | None:
    """The signed agreement of a request, for its signer (or staff); None if not signed yet."""
    with session_scope() as session:
        signature = session.exec(
            select(AgreementSignature).where(AgreementSignature.request_id == request_id)).first()
        if signature is None:
            return None
        _may_see_signature(session, person_id, signature)
        return _signed(session, signature)


def agreement_pdf(signature_id: int, person_id: int) -> bytes:
    """The signed agreement as a PDF, for its signer (or staff)."""
    with session_scope() as session:
        signature = session.get(AgreementSignature, signature_id)
        if signature is None:
            raise NotAllowed("There is no such signed agreement.")
        _may_see_signature(session, person_id, signature)
        signed = _signed(session, signature)
    return text_pdf(_pdf_lines(signed), title=f"{signed.title} - {signed.request_number}")


# --- A tiny PDF writer: a few pages of Helvetica text, no dependency ------------------------------

_PAGE_W, _PAGE_H, _MARGIN = 612, 792, 54


def _pdf_lines(signed: SignedAgreement) -> list[tuple[str, int, bool]]:
    s = get_settings()
    lines: list[tuple[str, int, bool]] = [(signed.title, 16, True),
                                          (f"Version {signed.agreement_label}", 10, False), ("", 10, False)]
    for paragraph in signed.body.splitlines() or [""]:
        lines += _wrapped(paragraph, 10, False) or [("", 10, False)]
    lines += [("", 10, False), ("Acknowledgements", 12, True)]
    for acknowledgement in signed.acknowledgements:
        lines += _wrapped(f"[x] {acknowledgement}", 10, False)
    lines += [("", 10, False), ("Signature", 12, True)]
    for label, value in (("Signed by (typed name)", signed.typed_name), ("Signed at", signed.signed_at_text),
                         ("Okta account (subject)", signed.okta_subject),
                         ("Request", f"{signed.request_number}, {signed.organization_name}"),
                         ("IP address", signed.ip_address), ("Browser", signed.user_agent),
                         ("Agreement text SHA-256", signed.text_hash)):
        lines += _wrapped(f"{label}: {value}", 10, False)
    lines += [("", 10, False), (f"{s.program_name} - {s.program_phone}, {s.program_hours}", 9, False)]
    return lines


def _wrapped(text: str, size: int, bold: bool) -> list[tuple[str, int, bool]]:
    width = int((_PAGE_W - 2 * _MARGIN) / (size * 0.52))
    return [(line, size, bold) for line in textwrap.wrap(text, width, break_long_words=True)]


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page_streams(lines: list[tuple[str, int, bool]]) -> list[bytes]:
    pages, current, y = [], [], _PAGE_H - _MARGIN
    for text, size, bold in lines:
        step = size * 1.4
        if y - step < _MARGIN and current:
            pages.append(b"".join(current))
            current, y = [], _PAGE_H - _MARGIN
        y -= step
        if text:
            current.append(b"BT /%s %d Tf 1 0 0 1 %d %.1f Tm %s Tj ET\n"
                           % (b"F2" if bold else b"F1", size, _MARGIN, y, _pdf_string(text)))
    pages.append(b"".join(current))
    return pages


def text_pdf(lines: list[tuple[str, int, bool]], *, title: str = "") -> bytes:
    """A valid PDF 1.4 of (text, size, bold) lines: catalog, pages, two base-14 fonts, xref."""
    streams = _page_streams(lines)
    first_page = 5
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(streams)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for i, stream in enumerate(streams):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}] "
                       f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                       f"/Contents {first_page + 2 * i + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Title %s /Producer (imMTrax Access Portal) >>" % _pdf_string(title))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref_at)
    return bytes(out)
