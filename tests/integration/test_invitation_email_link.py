"""The whole path through real SMTP: a supervisor submits, the worker delivers the invitation,
the link in the received email opens the agreement, and signing it works and mails the receipts.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.domain.models import utcnow
from immtrax_portal.services.delivery import deliver_due
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.signing import open_invitation, sign_agreement
from immtrax_portal.settings import get_settings
from tests.integration.test_mail_delivery import smtp_configured
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.smtp_server import FakeSmtp
from tests.support.wizard_world import build_world, new_access

NORA = "new.nurse@alpha.example"


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        from immtrax_portal.db import session_scope
        from immtrax_portal.services.agreements import publish_default_agreement

        world = build_world()
        with session_scope() as session:
            publish_default_agreement(session, published_by_id=None)
        yield world


@pytest.fixture
def smtp(world):
    server = FakeSmtp()
    with smtp_configured(server):
        yield server
    server.stop()


def received_by(server: FakeSmtp, address: str, subject_part: str = ""):
    return [m for m in server.received if m["To"] == address and subject_part in m["Subject"]]


def link_in(message) -> tuple[str, str]:
    """The agreement link as the HTML part's href and as the plain-text part shows it."""
    body_html = message.get_body(preferencelist=("html",)).get_content()
    plain = message.get_body(preferencelist=("plain",)).get_content()
    href = html.unescape(re.search(r'href="([^"]+/agreement/[^"]+)"', body_html).group(1))
    shown = re.search(r"(\S+/agreement/\S+)", plain).group(1)
    return href, shown


def token_of(url: str) -> str:
    parts = urlsplit(url)
    base = urlsplit(get_settings().public_url)
    assert (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    prefix, token = parts.path.rsplit("/", 1)
    assert prefix == "/agreement"
    return token


def sign_as_nora(token: str, person_id: int):
    return sign_agreement(token, person_id=person_id, okta_subject="00u-nora", verified_email=NORA,
                          typed_name="Nora Newhire", acknowledged=[0, 1, 2], ip_address="198.51.100.20",
                          user_agent="Mozilla/5.0 Firefox/130.0")


def test_the_emailed_link_opens_the_agreement_and_signing_it_mails_the_receipts(world, smtp):
    smtp.start()
    request = submit_request(world.sam, new_access(world.alpha), "email-link-test-key-00000001")
    assert len(deliver_due().sent) == 2
    [invitation] = received_by(smtp, NORA, "Sign your imMTrax User Agreement")
    href, shown = link_in(invitation)
    assert href == shown
    token = token_of(href)
    assert len(token) >= 43  # 32 random bytes, URL-safe
    view = open_invitation(token)
    assert view.status == "valid" and view.request_number == request.number
    assert sign_as_nora(token, request.subject_person_id).request_number == request.number
    assert len(deliver_due().sent) == 3
    assert received_by(smtp, NORA, "You signed the imMTrax User Agreement")
    assert received_by(smtp, "sam.supervisor@alpha.example", "signed the User Agreement")
    assert received_by(smtp, get_settings().program_inbox, "ready for review")
    assert Counter(m["Message-ID"] for m in smtp.received).most_common(1)[0][1] == 1


def test_smtp_down_at_submission_then_up_delivers_the_invitation_once_and_its_link_works(world, smtp):
    request = submit_request(world.sam, new_access(world.alpha), "email-link-test-key-00000002")
    assert request.status == RequestStatus.AWAITING_AGREEMENT  # committed although SMTP is down
    t0 = utcnow()
    assert len(deliver_due(now=t0).retrying) == 2
    smtp.start()
    for minute in range(1, 10):
        deliver_due(now=t0 + timedelta(minutes=minute))
    invitations = received_by(smtp, NORA, "Sign your imMTrax User Agreement")
    assert len(invitations) == 1 and len(smtp.received) == 2
    token = token_of(link_in(invitations[0])[0])
    assert sign_as_nora(token, request.subject_person_id).signature_id


def test_once_delivered_the_stored_invitation_holds_no_working_link(world, smtp):
    """The applicant's email has the link; the copy kept in outbound_email does not, and the staff
    mailbox shows it removed."""
    from sqlmodel import select

    from immtrax_portal.db import session_scope
    from immtrax_portal.domain.models import OutboundEmail

    smtp.start()
    submit_request(world.sam, new_access(world.alpha), "email-link-test-key-00000003")
    assert len(deliver_due().sent) == 2
    [invitation] = received_by(smtp, NORA, "Sign your imMTrax User Agreement")
    token = token_of(link_in(invitation)[0])
    with session_scope() as session:
        stored = session.exec(select(OutboundEmail).where(OutboundEmail.kind == "invitation")).one()
    assert token not in stored.body_text and token not in stored.body_html
    assert "/agreement/[link removed after delivery]" in stored.body_text
    assert open_invitation(token).status == "valid"   # the applicant's own link still works
