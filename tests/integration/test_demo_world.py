"""The demo world agrees with itself: every record in it is what the portal's services produce.

Each request that moved past the agreement has a signature of the invited person (and the signed
agreement page shows it), a provisioned one has its grant, and each move of every request has its
audit event. Loading twice changes nothing.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal import demo_data
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AuditEvent,
    Grant,
    Invitation,
    Person,
    WebSession,
)
from immtrax_portal.services.signed_agreements import signed_agreement_of_request
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database

PAST_THE_AGREEMENT = {RequestStatus.IN_REVIEW, RequestStatus.COMPLETED, RequestStatus.REJECTED}


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    with fresh_database_url(SINGLE_BACKEND, tmp_path_factory.mktemp("demo")) as url, use_database(url):
        assert demo_data.load_demo_world() is True
        yield


def requests() -> dict[str, AccessRequest]:
    with session_scope() as session:
        return {r.number: r for r in session.exec(select(AccessRequest).order_by(AccessRequest.id))}


def staff_id() -> int:
    with session_scope() as session:
        return session.exec(select(Person.id).where(Person.email == "pat.oconnor@mt.example")).one()


def test_the_demo_has_a_request_in_every_state_in_the_documented_order(demo_world):
    assert [r.status for r in requests().values()] == [
        RequestStatus.AWAITING_AGREEMENT, RequestStatus.IN_REVIEW, RequestStatus.NEEDS_INFO,
        RequestStatus.COMPLETED, RequestStatus.REJECTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED,
        RequestStatus.SUBMITTED,
        RequestStatus.SUBMITTED]  # the scheduled removal: a last day three weeks ahead (access over time)


def test_every_request_past_the_agreement_has_its_signature_by_the_invited_person(demo_world):
    checked = 0
    for number, request in requests().items():
        signed = signed_agreement_of_request(staff_id(), number)
        if request.status in PAST_THE_AGREEMENT:
            assert signed is not None, f"{number} is {request.status} but has no signature"
            with session_scope() as session:
                person = session.get(Person, request.subject_person_id)
                invitation = session.exec(select(Invitation).where(
                    Invitation.request_id == request.id, Invitation.consumed_at.is_not(None))).one()
            assert signed.typed_name == f"{person.first_name} {person.last_name}"
            assert invitation.email == person.email
            checked += 1
        else:
            assert signed is None, f"{number} is {request.status} but has a signature"
    assert checked == 3


def test_the_completed_change_of_employer_moved_the_grant(demo_world):
    completed = next(r for r in requests().values() if r.status == RequestStatus.COMPLETED)
    with session_scope() as session:
        grants = {g.organization_id: g for g in session.exec(
            select(Grant).where(Grant.person_id == completed.subject_person_id))}
    assert grants[completed.organization_id].active
    assert grants[completed.organization_id].immtrax_username == "ibrandt"
    assert not grants[completed.former_organization_id].active


def test_every_move_of_every_request_has_its_audit_event(demo_world):
    expected = {
        RequestStatus.AWAITING_AGREEMENT: ["submit"],
        RequestStatus.IN_REVIEW: ["submit", "sign_agreement"],
        RequestStatus.NEEDS_INFO: ["submit", "queue_for_review", "ask_for_info"],
        RequestStatus.COMPLETED: ["submit", "sign_agreement", "provision"],
        RequestStatus.REJECTED: ["submit", "sign_agreement", "reject"],
        RequestStatus.CANCELLED: ["submit", "cancel"],
        RequestStatus.EXPIRED: ["submit", "expire_invitation"],
        RequestStatus.SUBMITTED: ["submit"],
    }
    lifecycle = {"submit", "send_invitation", "sign_agreement", "queue_for_review", "ask_for_info",
                 "provision", "reject", "cancel", "expire_invitation"}
    for request in requests().values():
        with session_scope() as session:
            actions = [e.action for e in session.exec(select(AuditEvent).where(
                AuditEvent.request_id == request.id).order_by(AuditEvent.id)) if e.action in lifecycle]
        moves = [a for a in actions if a != "send_invitation"]
        assert moves == expected[request.status], (request.number, actions)


def test_the_signers_signed_in_and_out_like_anyone_and_left_no_live_session(demo_world):
    with session_scope() as session:
        signers = {s.person_id for s in session.exec(select(AgreementSignature))}
        sessions_left = list(session.exec(select(WebSession).where(WebSession.revoked_at.is_(None))))
        sign_ins = [json.loads(e.details or "{}") for e in session.exec(
            select(AuditEvent).where(AuditEvent.action == "sign_in"))]
    assert len(signers) == 3
    assert sessions_left == []
    assert len(sign_ins) == 3


def test_loading_twice_changes_nothing(demo_world):
    before = requests()
    assert demo_data.load_demo_world() is False
    assert requests().keys() == before.keys()
