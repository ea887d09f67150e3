"""The invitation link's page, the signed-agreement page, the PDF download and the mailbox, through
their event handlers and HTTP routes exactly as a client calls them (real sessions, real database).
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func
from sqlmodel import select
from starlette.testclient import TestClient

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AuditEvent,
    Invitation,
    OutboundEmail,
    Person,
)
from immtrax_portal.http_app import build_http_app
from immtrax_portal.services import agreements
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.reminders import resend_invitation
from immtrax_portal.services.requests import submit_request
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.agreement import AgreementState, token_from_path
from immtrax_portal.ui.state.mailbox import MailboxState
from immtrax_portal.ui.state.signed_agreement import SignedAgreementState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import SAFARI, cookie_for, run, state_as, use_cookie
from tests.support.wizard_world import build_world, new_access

NORA_EMAIL = "new.nurse@alpha.example"
ALL_TICKED = {"ack-0": "yes", "ack-1": "yes", "ack-2": "yes"}


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            agreements.publish_default_agreement(session, published_by_id=None)
            staff = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff", is_staff=True)
            session.add(staff)
            session.flush()
            world.users["staff"] = staff.id
        yield world


@pytest.fixture
def invited(world):
    """Nora's New Access request at Alpha; Nora has signed in to Okta once (her subject is bound)."""
    request = submit_request(world.sam, new_access(world.alpha), "agreement-page-key-000000001")
    with session_scope() as session:
        nora = session.get(Person, request.subject_person_id)
        nora.okta_subject = "00u-nora"
        session.add(nora)
    return request, latest_token(request.id), request.subject_person_id


def latest_token(request_id: int) -> str:
    with session_scope() as session:
        body = session.exec(select(OutboundEmail.body_text).where(OutboundEmail.request_id == request_id,
                                                                  OutboundEmail.kind == "invitation")
                            .order_by(OutboundEmail.id.desc())).first()
    return re.search(r"/agreement/([A-Za-z0-9_-]+)", body).group(1)


def page(person_id: int | None, token: str, user_agent: str | None = None) -> AgreementState:
    state = state_as(AgreementState, person_id, path=f"/agreement/{token}",
                     **({"user_agent": user_agent} if user_agent else {}))
    state.load()
    return state


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def status_of(request_id: int) -> RequestStatus:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).status


def denials(action: str) -> int:
    return count(AuditEvent, AuditEvent.outcome == AuditOutcome.DENIED, AuditEvent.action == action)


# --- Opening the link -------------------------------------------------------------------------------


def test_the_token_is_read_only_from_the_agreement_path():
    assert token_from_path("/agreement/abc_DEF-123") == "abc_DEF-123"
    assert token_from_path("/agreement/abc/") == "abc"
    assert token_from_path("/dashboard") == ""
    assert token_from_path("/agreementx/abc") == ""


def test_someone_not_signed_in_is_asked_to_sign_in_and_comes_back_to_the_link(invited):
    request, token, _ = invited
    state = page(None, token)
    assert state.status == "valid" and state.identity == ""
    assert state.request_number == request.number and state.invited_name == "Nora Newhire"
    assert state.invited_email_hint == "n•••@alpha.example"
    assert state.sign_in_link.startswith("/auth/sign-in?return_to=/agreement/")
    assert count(Invitation, Invitation.consumed_at.is_not(None)) == 0  # opening never consumes


def test_another_account_is_told_to_sign_in_with_the_invited_one(world, invited):
    _, token, _ = invited
    state = page(world.user("ana.lopez@alpha.example"), token)
    assert state.status == "valid" and state.identity == "wrong"
    assert "n•••@alpha.example" in state.message and "Sign out" in state.message
    assert NORA_EMAIL not in state.message


def test_the_invited_person_sees_the_agreement_and_its_statements(invited):
    _, token, nora = invited
    state = page(nora, token)
    assert state.identity == "ok"
    assert state.agreement_label and state.agreement_paragraphs
    assert len(state.acknowledgements) == 3


def test_safari_gets_the_browser_gate(invited):
    _, token, nora = invited
    assert page(nora, token, user_agent=SAFARI).forms_blocked


def test_an_unknown_link_gets_its_own_page(world):
    state = page(world.sam, "x" * 43)
    assert state.status == "unknown" and "do not recognise" in state.message


def test_an_expired_link_says_when_it_expired_and_who_can_resend(invited):
    request, token, nora = invited
    with session_scope() as session:
        invitation = session.exec(select(Invitation).where(Invitation.request_id == request.id)).one()
        invitation.expires_at = invitation.created_at - timedelta(seconds=1)
        session.add(invitation)
    state = page(nora, token)
    assert state.status == "expired" and "expired on" in state.message and "supervisor" in state.message


def test_a_replaced_link_points_to_the_newest_invitation(world, invited):
    request, token, nora = invited
    resend_invitation(load_actor_for(world.sam), request.id)
    state = page(nora, token)
    assert state.status == "revoked" and "newer invitation" in state.message
    assert page(nora, latest_token(request.id)).status == "valid"


def load_actor_for(person_id: int):
    with session_scope() as session:
        return load_actor(session, person_id)


# --- Signing ----------------------------------------------------------------------------------------


def test_signing_without_every_statement_ticked_changes_nothing_and_points_at_the_boxes(invited):
    request, token, nora = invited
    state = page(nora, token)
    run(state.sign({"ack-0": "yes", "typed_name": "Nora Newhire"}))
    assert state.acknowledgement_error == "Tick every statement to confirm that you agree to it."
    assert state.status == "valid" and not state.signing
    assert count(AgreementSignature) == 0 and status_of(request.id) == RequestStatus.AWAITING_AGREEMENT


def test_a_typed_name_that_is_not_the_invited_one_is_refused_next_to_the_field(invited):
    request, token, nora = invited
    state = page(nora, token)
    run(state.sign({**ALL_TICKED, "typed_name": "Someone Else"}))
    assert "does not match the name on the request" in state.name_error
    assert count(AgreementSignature) == 0 and status_of(request.id) == RequestStatus.AWAITING_AGREEMENT


def test_signing_moves_the_request_to_review_and_shows_the_receipt(invited):
    request, token, nora = invited
    state = page(nora, token)
    events = run(state.sign({**ALL_TICKED, "typed_name": "  nora   NEWHIRE "}))
    assert events == []  # no error focus: the receipt replaces the form
    assert state.status == "signed" and state.signed_name == "nora NEWHIRE"
    assert state.pdf_link == f"/downloads/signed-agreement/{state.signature_id}.pdf"
    assert state.signed_agreement_link == f"/signed-agreement?number={request.number}"
    assert status_of(request.id) == RequestStatus.IN_REVIEW
    assert count(OutboundEmail, OutboundEmail.kind == "agreement_receipt") == 1


def test_a_double_click_signs_once_and_both_clicks_end_on_the_receipt(invited):
    _, token, nora = invited
    first, second = page(nora, token), page(nora, token)
    run(first.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    run(second.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    assert first.status == second.status == "signed" and second.problem == ""
    assert count(AgreementSignature) == 1
    assert count(OutboundEmail, OutboundEmail.kind == "agreement_receipt") == 1


def test_the_used_link_shows_the_receipt_to_its_signer_and_used_to_anyone_else(world, invited):
    _, token, nora = invited
    run(page(nora, token).sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    assert page(nora, token).status == "signed"
    assert page(world.users["staff"], token).status == "used"
    assert page(None, token).status == "used"


def test_a_session_that_ended_cannot_sign(invited):
    request, token, nora = invited
    state = page(nora, token)
    use_cookie(state, "", path=f"/agreement/{token}")
    run(state.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    assert "session has ended" in state.problem
    assert count(AgreementSignature) == 0 and denials("agreement.sign") == 1


def test_a_forged_payload_is_refused_without_a_traceback(invited):
    request, token, nora = invited
    state = page(nora, token)
    for payload in (None, [1, 2], "x" * 100_000, {"typed_name": ["Nora"], "ack-0": {"a": 1}}):
        run(state.sign(payload))
    assert count(AgreementSignature) == 0 and status_of(request.id) == RequestStatus.AWAITING_AGREEMENT


def test_another_person_cannot_sign_with_the_link(world, invited):
    request, token, _ = invited
    ana = world.user("ana.lopez@alpha.example")
    state = page(ana, token)
    run(state.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    assert state.status == "valid" and state.identity == "wrong"
    assert count(AgreementSignature) == 0
    assert denials("sign_agreement_refused") == 1


def test_too_many_signing_attempts_are_refused_with_when_to_try_again(invited, monkeypatch):
    request, token, nora = invited
    monkeypatch.setenv("IMMTRAX_RATE_LIMIT_INVITATION_PER_PERSON", "2")
    get_settings.cache_clear()
    try:
        state = page(nora, token)
        for _ in range(2):
            run(state.sign({**ALL_TICKED, "typed_name": "Someone Else"}))
            assert state.problem == ""
        run(state.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
        assert "minute" in state.problem and state.status == "valid"
        assert count(AgreementSignature) == 0 and status_of(request.id) == RequestStatus.AWAITING_AGREEMENT
        assert denials("rate_limited:redeem_invitation") == 1
    finally:
        monkeypatch.delenv("IMMTRAX_RATE_LIMIT_INVITATION_PER_PERSON")
        get_settings.cache_clear()


def test_empty_sign_events_cost_nothing_and_lock_nobody_out(world, invited, monkeypatch):
    """32 empty submissions are refused as empty forms, before any budget is charged: the invited
    person (behind the same address) can still sign."""
    request, token, nora = invited
    monkeypatch.setenv("IMMTRAX_RATE_LIMIT_INVITATION_PER_PERSON", "10")
    monkeypatch.setenv("IMMTRAX_RATE_LIMIT_INVITATION_PER_IP", "30")
    get_settings.cache_clear()
    try:
        state = page(nora, token)
        for _ in range(32):
            run(state.sign({}))
            assert "typed_name" in state.errors and "minute" not in state.problem
        assert denials("rate_limited:redeem_invitation") == 0
        run(state.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
        assert state.status == "signed" and status_of(request.id) == RequestStatus.IN_REVIEW
    finally:
        get_settings.cache_clear()


# --- Afterwards: the signed agreement page and its PDF ------------------------------------------------


@pytest.fixture
def signed(invited):
    request, token, nora = invited
    state = page(nora, token)
    run(state.sign({**ALL_TICKED, "typed_name": "Nora Newhire"}))
    return request, state.signature_id, nora


def signed_agreement_page(person_id: int, number: str) -> SignedAgreementState:
    return state_as(SignedAgreementState, person_id, path=f"/signed-agreement?number={number}")


def test_the_applicant_reads_their_signed_agreement(signed):
    request, _, nora = signed
    state = signed_agreement_page(nora, request.number)
    state.load()
    assert state.found and state.text_verified and state.label
    assert ["Signed by (typed name)", "Nora Newhire"] in state.facts


def test_the_supervisor_cannot_read_the_applicants_signed_agreement(world, signed):
    request, _, _ = signed
    state = signed_agreement_page(world.sam, request.number)
    state.load()
    assert not state.found and "only your own" in state.problem
    assert state.facts == []
    assert denials("signed_agreement.open") == 1


@pytest.fixture
def http():
    return TestClient(build_http_app(), follow_redirects=False)


def test_the_signer_downloads_the_pdf_and_others_are_refused(world, signed, http):
    _, signature_id, nora = signed
    url = f"/downloads/signed-agreement/{signature_id}.pdf"
    mine = http.get(url, headers={"cookie": cookie_for(nora)})
    assert mine.status_code == 200 and mine.headers["content-type"] == "application/pdf"
    assert mine.content.startswith(b"%PDF-")
    shown = PdfReader(io.BytesIO(mine.content)).pages[0].extract_text()
    assert "Signed by (typed name): Nora Newhire" in shown
    assert "attachment" in mine.headers["content-disposition"]
    theirs = http.get(url, headers={"cookie": cookie_for(world.sam)})
    assert theirs.status_code == 403 and b"%PDF" not in theirs.content
    assert denials("download.signed_agreement") == 1
    anonymous = http.get(url)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in?return_to=")
    assert denials("download.signed_agreement") == 2, "the anonymous refusal leaves one row too"
    with session_scope() as session:
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (last.actor_id, last.actor_role, last.target_id) == (None, "anonymous", str(signature_id))
    assert http.get("/downloads/signed-agreement/abc.pdf").status_code == 404


# --- The mailbox -------------------------------------------------------------------------------------


def test_staff_read_the_kept_invitation_and_its_link(world, invited):
    request, token, _ = invited
    state = state_as(MailboxState, world.users["staff"], path="/dev/mailbox")
    state.load()
    assert state.mail_is_kept and state.total >= 1
    invitation = next(row for row in state.rows if row["subject"] == "Sign your imMTrax User Agreement")
    assert invitation["request_number"] == request.number and invitation["status"] == "queued"
    state.open_email(invitation["id"])
    assert any(link.endswith(f"/agreement/{token}") for link in state.opened_links)


def test_in_the_embedded_demo_any_signed_in_person_reads_the_mailbox(world, invited):
    state = state_as(MailboxState, world.user("ana.lopez@alpha.example"), path="/dev/mailbox")
    assert state.load() is None and state.total >= 1


def test_with_a_mail_server_only_staff_read_the_outgoing_mail(world, invited, monkeypatch):
    monkeypatch.setenv("IMMTRAX_SMTP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    try:
        state = state_as(MailboxState, world.user("ana.lopez@alpha.example"), path="/dev/mailbox")
        assert "not-allowed" in str(state.load())
        assert state.rows == []
        state.open_email("1")
        assert state.opened == {} and "Only program staff" in state.problem
        assert denials("mailbox.open") == 1 and denials("mailbox.open_email") == 1
    finally:
        monkeypatch.delenv("IMMTRAX_SMTP_HOST")
        get_settings.cache_clear()


def test_a_bad_email_id_or_page_turn_is_harmless(world, invited):
    state = state_as(MailboxState, world.users["staff"], path="/dev/mailbox")
    state.load()
    for bad in ("abc", "9" * 40, "-1"):
        state.open_email(bad)
        assert state.opened == {}
    state.turn_page("lots")
    assert state.page == 1
