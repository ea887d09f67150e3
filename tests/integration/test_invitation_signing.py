"""Opening an invitation, signing the User Agreement, reminders, expiry, resend, versions and the PDF.

Runs on a migrated SQLite database and, where it answers, on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AuditEvent,
    Invitation,
    OutboundEmail,
    Person,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services import agreements
from immtrax_portal.services.agreement_admin import (
    AgreementRefused,
    list_agreement_versions,
    publish_agreement,
)
from immtrax_portal.services.reminders import (
    expire_overdue_invitations,
    resend_invitation,
    send_due_reminders,
)
from immtrax_portal.services.request_store import RequestChanged, save_transition
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.signed_agreements import (
    agreement_pdf,
    signed_agreement_for,
    signed_agreement_of_request,
)
from immtrax_portal.services.signing import (
    SigningRefused,
    names_match,
    open_invitation,
    sign_agreement,
)
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

NORA = "new.nurse@alpha.example"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            agreements.publish_default_agreement(session, published_by_id=None)
            staff = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff", is_staff=True)
            admin = Person(email="lee.admin@mt.example", first_name="Lee", last_name="Admin", is_staff=True,
                           is_admin=True)
            session.add_all([staff, admin])
            session.flush()
            world.users["staff"], world.users["admin"] = staff.id, admin.id
        yield world


@pytest.fixture
def invited(world):
    """A New Access request for Nora Newhire at Alpha: (request id, token, Nora's person id)."""
    request = submit_request(world.sam, new_access(world.alpha), "signing-test-key-0000000001")
    return request.id, latest_token(request.id), request.subject_person_id


def latest_token(request_id: int) -> str:
    with session_scope() as session:
        bodies = session.exec(
            select(OutboundEmail.body_text).where(
                OutboundEmail.request_id == request_id,
                OutboundEmail.kind.in_(["invitation", "invitation_reminder"]))  # type: ignore[attr-defined]
            .order_by(OutboundEmail.id.desc())).all()
    return re.search(r"/agreement/([A-Za-z0-9_-]+)", bodies[0]).group(1)


def sign(token: str, person_id: int, **changes):
    fields = dict(person_id=person_id, okta_subject="00u-nora-okta", verified_email=NORA,
                  typed_name="Nora Newhire", acknowledged=[0, 1, 2], ip_address="203.0.113.9",
                  user_agent=FIREFOX)
    fields.update(changes)
    return sign_agreement(token, **fields)


def refusal(token: str, person_id: int, **changes) -> str:
    with pytest.raises(SigningRefused) as refused:
        sign(token, person_id, **changes)
    assert refused.value.message
    return refused.value.reason_code


def request_row(request_id: int) -> AccessRequest:
    with session_scope() as session:
        return session.get(AccessRequest, request_id)


def emails(kind: str | None = None) -> list[OutboundEmail]:
    with session_scope() as session:
        query = select(OutboundEmail).order_by(OutboundEmail.id)
        if kind:
            query = query.where(OutboundEmail.kind == kind)
        return list(session.exec(query))


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def snapshot() -> tuple:
    """Everything a refused signature must leave unchanged."""
    with session_scope() as session:
        invitations = [(i.id, i.consumed_at, i.revoked_at) for i in session.exec(select(Invitation))]
        requests = [(r.id, r.status, r.version) for r in session.exec(select(AccessRequest))]
    return invitations, requests, count(AgreementSignature), count(OutboundEmail)


def actor(person_id: int) -> Actor:
    from immtrax_portal.services.actors import load_actor

    with session_scope() as session:
        return load_actor(session, person_id)


# --- Opening and signing ------------------------------------------------------------------------------


def test_opening_the_link_shows_the_agreement_and_consumes_nothing(world, invited):
    request_id, token, _ = invited
    for _ in range(3):  # a mail scanner, a preview, the applicant
        view = open_invitation(token)
        assert view.status == "valid" and view.is_valid
    assert (view.first_name, view.last_name, view.organization_name) == ("Nora", "Newhire", "Alpha Clinic")
    assert view.request_number == request_row(request_id).number
    assert view.agreement_label == "2026-1" and view.agreement_body == agreements.DEFAULT_BODY
    assert view.acknowledgements == agreements.DEFAULT_ACKNOWLEDGEMENTS
    assert view.invited_email_hint == "n•••@alpha.example" and view.identity_ok is None
    assert open_invitation(token, signed_in_email="NEW.NURSE@alpha.example").identity_ok is True
    other = open_invitation(token, signed_in_email="ana.lopez@alpha.example")
    assert other.identity_ok is False and "ana.lopez@alpha.example" in other.message
    with session_scope() as session:
        assert session.exec(select(Invitation)).one().consumed_at is None


def test_signing_records_the_signature_moves_the_request_on_and_tells_everyone(world, invited):
    request_id, token, nora = invited
    before = request_row(request_id)
    result = sign(token, nora)
    with session_scope() as session:
        signature = session.exec(select(AgreementSignature)).one()
        version = agreements.current_agreement(session)
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_agreement")).one()
    assert result.signature_id == signature.id and result.agreement_label == "2026-1"
    assert signature.agreement_version_id == version.id and signature.text_hash == version.text_hash
    assert signature.text_hash == agreements.text_hash(agreements.DEFAULT_BODY)
    assert (signature.typed_name, signature.okta_subject, signature.ip_address, signature.user_agent) == (
        "Nora Newhire", "00u-nora-okta", "203.0.113.9", FIREFOX)
    assert json.loads(signature.acknowledgements) == agreements.DEFAULT_ACKNOWLEDGEMENTS
    after = request_row(request_id)
    assert after.status == RequestStatus.IN_REVIEW and after.version == before.version + 1
    assert (event.from_status, event.to_status, event.actor_id, event.source_ip) == (
        "awaiting_agreement", "in_review", nora, "203.0.113.9")
    told = {(e.kind, e.to_address) for e in emails() if e.kind not in ("invitation", "receipt")}
    assert told == {("agreement_receipt", NORA), ("agreement_signed", "sam.supervisor@alpha.example"),
                    ("review_needed", get_settings().program_inbox)}
    assert all("(406) 444-5580" in e.body_text for e in emails())
    assert open_invitation(token).status == "used"


def test_twenty_concurrent_redemptions_of_one_token_make_exactly_one_signature(world, invited):
    request_id, token, nora = invited
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int):
        start.wait()
        try:
            sign(token, nora, ip_address=f"203.0.113.{n}")
            outcome = "signed"
        except SigningRefused as refused:
            outcome = refused.reason_code
        except Exception as exc:  # pragma: no cover - shown in the assertion
            outcome = repr(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["signed"] + ["used"] * 19
    assert count(AgreementSignature) == 1
    assert request_row(request_id).status == RequestStatus.IN_REVIEW
    assert len(emails("agreement_receipt")) == 1
    assert count(AuditEvent, AuditEvent.action == "sign_agreement_refused") == 19


def _expired(world, token, nora):
    return token, dict(now=utcnow() + timedelta(days=15))


def _used(world, token, nora):
    sign(token, nora)
    return token, {}


def _revoked(world, token, nora):
    with session_scope() as session:
        request_id = session.exec(select(Invitation.request_id)).one()
    resend_invitation(actor(world.sam), request_id)
    return token, {}


def _unknown(world, token, nora):
    return secrets.token_urlsafe(32), {}


def _wrong_identity(world, token, nora):
    ana = "ana.lopez@alpha.example"
    return token, dict(person_id=world.user(ana), verified_email=ana, typed_name="Nora Newhire")


def _name_mismatch(world, token, nora):
    return token, dict(typed_name="Nora Newhyre")


def _acknowledgements_missing(world, token, nora):
    return token, dict(acknowledged=[0, 2])


@pytest.mark.parametrize("setup", [_expired, _used, _revoked, _unknown, _wrong_identity, _name_mismatch,
                                   _acknowledgements_missing], ids=lambda f: f.__name__.strip("_"))
def test_each_bad_signature_gets_its_own_reason_and_changes_nothing(world, invited, setup):
    _, token, nora = invited
    token, changes = setup(world, token, nora)
    before = snapshot()
    code = refusal(token, changes.pop("person_id", nora), **changes)
    assert code == setup.__name__.strip("_")
    assert snapshot() == before
    denied = session_events("sign_agreement_refused")
    assert denied[-1].outcome == AuditOutcome.DENIED and denied[-1].reason == code


def session_events(action: str) -> list[AuditEvent]:
    with session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(query))


def test_a_wrong_verified_email_or_okta_account_is_refused_even_for_the_right_person(world, invited):
    _, token, nora = invited
    assert refusal(token, nora, verified_email="nora.personal@gmail.example") == "wrong_identity"
    with session_scope() as session:  # her Person is linked to one Okta account at sign-in
        person = session.get(Person, nora)
        person.okta_subject = "00u-nora-okta"
        session.add(person)
    assert refusal(token, nora, okta_subject="00u-someone-else") == "wrong_identity"
    assert sign(token, nora, verified_email="New.Nurse@Alpha.example").signature_id


def test_the_typed_name_ignores_case_and_spacing_but_nothing_else(world, invited):
    assert names_match("  nora   NEWHIRE ", "Nora", "Newhire")
    assert names_match("Nora\tNewhire", "Nora", "Newhire")
    assert not names_match("Newhire, Nora", "Nora", "Newhire")
    assert not names_match("Nora", "Nora", "Newhire")
    assert not names_match("", "", "")
    _, token, nora = invited
    assert sign(token, nora, typed_name="  nora   NEWHIRE ").signature_id
    with session_scope() as session:
        assert session.exec(select(AgreementSignature.typed_name)).one() == "nora NEWHIRE"


def test_a_cancelled_request_makes_its_link_stop_working(world, invited):
    request_id, token, nora = invited
    with session_scope() as session:
        save_transition(session, session.get(AccessRequest, request_id), Action.CANCEL, actor_id=world.sam,
                        actor_role=Role.SUPERVISOR)
    view = open_invitation(token)
    assert view.status == "revoked" and "cancelled" in view.message
    assert refusal(token, nora) == "revoked"


def test_a_stale_move_is_refused_by_the_optimistic_lock(world, invited):
    request_id, _, _ = invited
    stale = request_row(request_id)
    with session_scope() as session:
        save_transition(session, session.get(AccessRequest, request_id), Action.CANCEL, actor_id=world.sam,
                        actor_role=Role.SUPERVISOR)
    with pytest.raises(RequestChanged), session_scope() as session:
        save_transition(session, stale, Action.EXPIRE_INVITATION, actor_id=None, actor_role=Role.SYSTEM)
    assert request_row(request_id).status == RequestStatus.CANCELLED


# --- Resend, reminders, expiry --------------------------------------------------------------------------


def test_resend_revokes_the_old_token_and_only_the_right_people_may_resend(world, invited):
    request_id, old, nora = invited
    version = request_row(request_id).version
    with pytest.raises(NotAllowed):
        resend_invitation(actor(world.tess), request_id)  # supervises another organization
    with pytest.raises(NotAllowed):
        resend_invitation(actor(nora), request_id)
    with pytest.raises(RequestChanged):
        resend_invitation(actor(world.sam), request_id, expected_version=version - 1)
    resent = resend_invitation(actor(world.sam), request_id, expected_version=version)
    assert resent.status == RequestStatus.AWAITING_AGREEMENT and resent.version == version + 1
    new = latest_token(request_id)
    assert new != old
    old_view = open_invitation(old)
    assert old_view.status == "revoked" and "newer invitation" in old_view.message
    assert open_invitation(new).status == "valid"
    assert len(session_events("resend_invitation")) == 1
    resend_invitation(actor(world.users["staff"]), request_id)  # staff may too
    assert open_invitation(new).status == "revoked"
    assert sign(latest_token(request_id), nora).signature_id
    with pytest.raises(IllegalTransition):
        resend_invitation(actor(world.sam), request_id)  # signed: nothing to resend


def test_reminders_go_out_after_three_and_seven_days_once_each(world, invited):
    request_id, first_token, nora = invited
    with session_scope() as session:
        deadline = session.exec(select(Invitation)).one().expires_at
    start = utcnow()
    assert send_due_reminders(start + timedelta(days=2, hours=23)) == []
    assert send_due_reminders(start + timedelta(days=3, minutes=1)) == [request_id]
    assert send_due_reminders(start + timedelta(days=3, minutes=2)) == []
    assert send_due_reminders(start + timedelta(days=6)) == []
    second_token = latest_token(request_id)
    assert open_invitation(first_token).status == "revoked"
    assert open_invitation(second_token).status == "valid"
    assert send_due_reminders(start + timedelta(days=7, minutes=1)) == [request_id]
    for day in (8, 10, 13):
        assert send_due_reminders(start + timedelta(days=day)) == []
    reminders = emails("invitation_reminder")
    assert len(reminders) == 2 and all(e.to_address == NORA for e in reminders)
    with session_scope() as session:
        current = session.exec(select(Invitation).where(Invitation.revoked_at.is_(None))).one()
    assert current.expires_at == deadline and current.reminders_sent == 2  # a reminder never extends it
    assert sign(latest_token(request_id), nora).signature_id
    assert send_due_reminders(start + timedelta(days=13)) == []


def test_a_worker_that_was_down_past_both_reminder_days_sends_one_reminder(world, invited):
    request_id, _, _ = invited
    assert send_due_reminders(utcnow() + timedelta(days=8)) == [request_id]
    assert send_due_reminders(utcnow() + timedelta(days=9)) == []
    assert len(emails("invitation_reminder")) == 1


def test_expiry_moves_the_request_to_expired_and_tells_the_supervisor_and_resend_reissues(world, invited):
    request_id, token, nora = invited
    assert expire_overdue_invitations(utcnow() + timedelta(days=13)) == []
    later = utcnow() + timedelta(days=14, minutes=1)
    assert expire_overdue_invitations(later) == [request_id]
    assert expire_overdue_invitations(later) == []
    assert request_row(request_id).status == RequestStatus.EXPIRED
    [notice] = emails("invitation_expired")
    assert notice.to_address == "sam.supervisor@alpha.example" and "Resend invitation" in notice.body_text
    assert open_invitation(token).status == "expired"
    assert refusal(token, nora) == "expired"
    reissued = resend_invitation(actor(world.sam), request_id)
    assert reissued.status == RequestStatus.AWAITING_AGREEMENT
    assert session_events("reissue_invitation")[-1].to_status == "awaiting_agreement"
    assert open_invitation(token).status == "revoked"
    assert sign(latest_token(request_id), nora).signature_id
    assert request_row(request_id).status == RequestStatus.IN_REVIEW


# --- Agreement versions ----------------------------------------------------------------------------


def test_staff_publish_a_new_version_and_a_page_showing_the_old_one_must_reload(world, invited):
    _, token, nora = invited
    shown = open_invitation(token)
    for outsider in (nora, world.sam):
        with pytest.raises(NotAllowed):
            publish_agreement(actor(outsider), "2026-2", "T", "Body", ["Yes"])
    staff = actor(world.users["staff"])
    with pytest.raises(AgreementRefused) as bad:
        publish_agreement(staff, "bad label!", "", "  ", [])
    assert set(bad.value.problems) == {"label", "title", "body", "acknowledgements"}
    with pytest.raises(AgreementRefused) as taken:
        publish_agreement(staff, "2026-1", "Title", "Body", ["I agree."])
    assert "label" in taken.value.problems
    version = publish_agreement(staff, "2026-2", "imMTrax User Agreement", "New text.\r\nLine two.  ",
                                ["I agree.", "I will keep it confidential."])
    assert version.body == "New text.\nLine two." and version.text_hash == agreements.text_hash(version.body)
    assert len(session_events("publish_agreement")) == 1
    assert refusal(token, nora, agreement_version_id=shown.agreement_version_id) == "agreement_changed"
    fresh = open_invitation(token)
    assert fresh.agreement_label == "2026-2" and len(fresh.acknowledgements) == 2
    assert refusal(token, nora, acknowledged=[0]) == "acknowledgements_missing"
    sign(token, nora, acknowledged=[0, 1], agreement_version_id=fresh.agreement_version_id)
    with session_scope() as session:
        assert session.exec(select(AgreementSignature.agreement_version_id)).one() == version.id
    listed = list_agreement_versions(staff)
    assert [(r.label, r.current, r.signature_count) for r in listed.rows] == [("2026-2", True, 1),
                                                                               ("2026-1", False, 0)]
    assert listed.rows[0].published_by == "Pat Staff"


def test_an_admin_publishes_too_and_control_characters_are_refused(world):
    admin = actor(world.users["admin"])
    with pytest.raises(AgreementRefused) as bad:
        publish_agreement(admin, "2026-3", "Title\x00", "Text with a NUL\x00 in it", ["I agree.\x07"])
    assert set(bad.value.problems) == {"title", "body", "acknowledgements"}
    assert "control characters" in bad.value.problems["body"]
    assert publish_agreement(admin, "2026-3", "Title", "Text", ["I agree."]).label == "2026-3"


# --- The signed agreement afterwards -----------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The text a PDF reader finds, read by an independent library (pypdf, strict parsing)."""
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_applicant_sees_and_downloads_the_signed_agreement_as_a_pdf(world, invited, tmp_path):
    request_id, token, nora = invited
    assert signed_agreement_for(nora, request_id) is None
    result = sign(token, nora)
    signed = signed_agreement_for(nora, request_id)
    assert signed.text_verified and signed.typed_name == "Nora Newhire"
    assert signed.agreement_label == "2026-1" and signed.ip_address == "203.0.113.9"
    assert signed_agreement_for(world.users["staff"], request_id).signature_id == result.signature_id
    with pytest.raises(NotAllowed):
        signed_agreement_for(world.sam, request_id)
    with pytest.raises(NotAllowed):
        agreement_pdf(result.signature_id, world.user("ana.lopez@alpha.example"))
    pdf = agreement_pdf(result.signature_id, nora)
    text = pdf_text(pdf)
    for expected in ("imMTrax User Agreement", "Signed by (typed name): Nora Newhire", "203.0.113.9",
                     "00u-nora-okta", "(406) 444-5580", "Monday–Friday"):
        assert expected in text
    assert signed.text_hash in text.replace("\n", "")  # a long word may be broken across lines
    if shutil.which("pdftotext"):
        path = tmp_path / "signed.pdf"
        path.write_bytes(pdf)
        extracted = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
        assert "Nora Newhire" in extracted.stdout


@pytest.mark.parametrize(("first", "last", "email"), [
    ("Thị Ánh", "Nguyễn", "anh.nguyen@alpha.example"),
    ("Ярослава", "Шевченко", "yaroslava@alpha.example"),
    ("Αθηνά", "Παπαδοπούλου", "athina@alpha.example"),
    ("Zoë Ægir", "Łukasiewicz-Øster", "zoe@alpha.example"),
])
def test_a_signer_reads_their_own_name_in_the_pdf_in_any_european_script(world, first, last, email):
    draft = new_access(world.alpha, email=email, first_name=first, last_name=last)
    request = submit_request(world.sam, draft, f"signing-unicode-{secrets.token_hex(8)}")
    person_id = request.subject_person_id
    result = sign(latest_token(request.id), person_id, verified_email=email, typed_name=f"{first} {last}")
    lines = pdf_text(agreement_pdf(result.signature_id, person_id)).splitlines()
    # Every letter as typed: a Latin-1 writer would have shown "Nguy?n", "?????????", "?ukasiewicz".
    assert f"Signed by (typed name): {first} {last}" in lines


def test_a_signed_agreement_is_found_by_request_number_only_by_its_applicant_and_staff(world, invited):
    request_id, token, nora = invited
    with session_scope() as session:
        number = session.get(AccessRequest, request_id).number
    assert signed_agreement_of_request(nora, number) is None
    sign(token, nora)
    assert signed_agreement_of_request(nora, number).typed_name == "Nora Newhire"
    assert signed_agreement_of_request(world.users["staff"], number).signer_person_id == nora
    for outsider in (world.sam, world.user("ana.lopez@alpha.example")):
        with pytest.raises(NotAllowed):
            signed_agreement_of_request(outsider, number)
    with pytest.raises(NotAllowed):  # an unknown number says no more than a foreign one
        signed_agreement_of_request(nora, "IMR-2026-999999")


def open_invitations() -> int:
    return count(Invitation, Invitation.consumed_at.is_(None), Invitation.revoked_at.is_(None))


def race(*calls) -> list[str]:
    """Run the calls at the same moment; each outcome is "ok" or the exception's class name."""
    start = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(n, call):
        start.wait()
        try:
            call()
            outcomes[n] = "ok"
        except Exception as exc:
            outcomes[n] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_a_reminder_racing_a_resend_leaves_exactly_one_open_invitation(world, invited):
    request_id, _, nora = invited
    sam = actor(world.sam)
    for round_ in range(3):
        later = utcnow() + timedelta(days=3, minutes=round_)
        outcomes = race(lambda at=later: send_due_reminders(at), lambda: resend_invitation(sam, request_id))
        assert outcomes == ["ok", "ok"]
        assert open_invitations() == 1
    assert sign(latest_token(request_id), nora).signature_id


def test_signing_racing_a_resend_ends_in_one_consistent_state(world, invited):
    request_id, token, nora = invited
    outcomes = race(lambda: sign(token, nora), lambda: resend_invitation(actor(world.sam), request_id))
    assert set(outcomes) <= {"ok", "SigningRefused", "IllegalTransition", "RequestChanged"}
    status = request_row(request_id).status
    if outcomes[0] == "ok":
        assert status == RequestStatus.IN_REVIEW and count(AgreementSignature) == 1
    else:
        assert status == RequestStatus.AWAITING_AGREEMENT and count(AgreementSignature) == 0
        assert open_invitations() == 1 and outcomes[1] == "ok"
