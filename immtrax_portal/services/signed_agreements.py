"""The signed User Agreement afterwards: what its signer (and program staff) can read and download.

The stored text is hashed again on every read, so a page or PDF says whether the version's text
is still exactly what was signed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AccessRequest, AgreementSignature, AgreementVersion, Organization
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.program_time import program_time
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.agreements import text_hash
from immtrax_portal.services.pdf_text import Block, text_pdf
from immtrax_portal.settings import get_settings


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
    signer_person_id: int


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
        text_hash(version.body) == signature.text_hash, signature.person_id,
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
    return text_pdf(_pdf_blocks(signed), title=f"{signed.title} - {signed.request_number}")


def signed_agreement_of_request(person_id: int, number: str) -> SignedAgreement | None:
    """For the signed-agreement page: by request number, for the request's applicant or staff.

    Who may look is checked before whether anything is signed, so nobody else learns even that.
    """
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number[:20])).first()
        if request is None or request.subject_person_id != person_id:
            actor = load_actor(session, person_id)
            if request is None or actor is None or not actor.is_program_staff:
                raise NotAllowed("You can see only your own signed agreements.",
                                 target_type="access_request", target_id=number[:20])
        request_id = request.id
    return signed_agreement_for(person_id, request_id)


def _pdf_blocks(signed: SignedAgreement) -> list[Block]:
    """The agreement as signed, then the acknowledgements and the signature record."""
    s = get_settings()
    blocks: list[Block] = [(signed.title, 16, True), (f"Version {signed.agreement_label}", 10, False),
                           ("", 10, False)]
    blocks += [(paragraph, 10, False) for paragraph in signed.body.splitlines() or [""]]
    blocks += [("", 10, False), ("Acknowledgements", 12, True)]
    blocks += [(f"[x] {acknowledgement}", 10, False) for acknowledgement in signed.acknowledgements]
    blocks += [("", 10, False), ("Signature", 12, True)]
    for label, value in (("Signed by (typed name)", signed.typed_name), ("Signed at", signed.signed_at_text),
                         ("Okta account (subject)", signed.okta_subject),
                         ("Request", f"{signed.request_number}, {signed.organization_name}"),
                         ("IP address", signed.ip_address), ("Browser", signed.user_agent),
                         ("Agreement text SHA-256", signed.text_hash)):
        blocks.append((f"{label}: {value}", 10, False))
    blocks += [("", 10, False), (f"{s.program_name} - {s.program_phone}, {s.program_hours}", 9, False)]
    return blocks
