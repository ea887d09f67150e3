"""Staff and supervisors acting on requests: who may, what the registry does, and races."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    OutboundEmail,
    Person,
    SupervisorLink,
)
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.domain.workflow import Action, IllegalTransition, transition
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.request_store import RequestChanged, save_transition
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import access_deletion, actor, build_world, new_access, permissions_change


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            for key, first in (("staff", "Stella"), ("staff2", "Stan")):
                person = Person(
                    email=f"{key}@mt.example", first_name=first, last_name="Staffer", is_staff=True
                )
                session.add(person)
                session.flush()
                world.users[key] = person.id
        yield world



def fetch(request_id) -> AccessRequest:
    with session_scope() as session:
        return session.get(AccessRequest, request_id)


def grant_of(person_id, org_id) -> Grant | None:
    with session_scope() as session:
        return session.exec(
            select(Grant).where(Grant.person_id == person_id, Grant.organization_id == org_id)
        ).first()


def do(person_id, request_id, action, **fields):
    version = fetch(request_id).version
    return act_on_request(
        actor(person_id), request_id, ActionInput(action=action, expected_version=version, **fields)
    )


def mark_signed(request_id: int) -> None:
    """The applicant's signature itself belongs to the agreement feature; here only its move."""
    with session_scope() as session:
        stored = session.get(AccessRequest, request_id)
        session.add(transition(stored, Action.SIGN_AGREEMENT, actor_id=None, actor_role=Role.APPLICANT))
        session.add(stored)


def signed_new_access(world):
    request = submit_request(world.sam, new_access(world.alpha), "actions-test-key-000000001")
    mark_signed(request.id)
    return request.id


def test_staff_provisions_a_new_user_and_the_grant_appears(world):
    request_id = signed_new_access(world)
    done = do(world.user("staff"), request_id, Action.PROVISION, immtrax_username="nnewhire")
    assert done.status == RequestStatus.COMPLETED and done.immtrax_username == "nnewhire"
    grant = grant_of(done.subject_person_id, world.alpha)
    assert grant.active and grant.access_level == AccessLevel.RECORD_MAINTENANCE
    assert grant.immtrax_username == "nnewhire"
    with session_scope() as session:
        kinds = [
            e.kind for e in session.exec(select(OutboundEmail).where(OutboundEmail.request_id == request_id))
        ]
    assert "notice_provision" in kinds


def test_provisioning_needs_the_imtrax_username(world):
    request_id = signed_new_access(world)
    with pytest.raises(IllegalTransition, match="imMTrax username"):
        do(world.user("staff"), request_id, Action.PROVISION, immtrax_username="  ")
    assert fetch(request_id).status == RequestStatus.IN_REVIEW


def test_second_staff_member_acting_on_a_stale_version_is_told_who_changed_it(world):
    request_id = signed_new_access(world)
    seen = fetch(request_id).version
    act_on_request(
        actor(world.user("staff")),
        request_id,
        ActionInput(Action.REJECT, seen, reason="Duplicate of another request."),
    )
    with pytest.raises(RequestChanged, match="Stella Staffer updated it"):
        act_on_request(
            actor(world.user("staff2")), request_id, ActionInput(Action.PROVISION, seen, immtrax_username="x")
        )
    after = fetch(request_id)
    assert (
        after.status == RequestStatus.REJECTED and after.rejection_reason == "Duplicate of another request."
    )


def test_a_write_over_a_request_changed_since_it_was_loaded_is_refused_by_the_version_column(world):
    """The guard is SQLAlchemy's ``version_id_col``: the UPDATE of a copy loaded before someone
    else's change matches no row, so nothing is overwritten."""
    request_id = signed_new_access(world)
    seen = fetch(request_id).version
    with session_scope() as session:
        stale = session.get(AccessRequest, request_id)
        do(world.user("staff"), request_id, Action.REJECT, reason="Duplicate.")  # commits meanwhile
        with pytest.raises(RequestChanged):
            save_transition(session, stale, Action.PROVISION, actor_id=world.user("staff2"),
                            actor_role=Role.STAFF)
        # The unit of work was rolled back and the session still reads: the caller can say who.
        assert session.get(AccessRequest, request_id).status == RequestStatus.REJECTED
    after = fetch(request_id)
    assert (after.status, after.version, after.rejection_reason) == (RequestStatus.REJECTED, seen + 1,
                                                                     "Duplicate.")
    with session_scope() as session:
        moves = session.exec(select(AuditEvent.action).where(AuditEvent.request_id == request_id)).all()
    assert "provision" not in moves and moves.count("reject") == 1


def test_any_orm_write_of_a_request_is_guarded_not_only_the_moves(world):
    request_id = signed_new_access(world)
    stale = fetch(request_id)
    do(world.user("staff"), request_id, Action.REJECT, reason="Duplicate.")
    stale.note = "Written over a version someone else already changed."
    with pytest.raises(StaleDataError), session_scope() as session:
        session.add(stale)
    assert fetch(request_id).note == ""


def test_two_staff_racing_on_one_request_change_it_once(world):
    request_id = signed_new_access(world)
    seen = fetch(request_id).version
    outcomes = []

    def attempt(who, given):
        try:
            act_on_request(actor(world.user(who)), request_id, given)
            outcomes.append("ok")
        except RequestChanged:
            outcomes.append("changed")

    threads = [
        threading.Thread(target=attempt, args=("staff", ActionInput(Action.REJECT, seen, reason="No."))),
        threading.Thread(
            target=attempt, args=("staff2", ActionInput(Action.PROVISION, seen, immtrax_username="nn"))
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["changed", "ok"]
    assert fetch(request_id).version == seen + 1


def test_a_supervisor_cannot_act_as_staff(world):
    request_id = signed_new_access(world)
    with pytest.raises(NotAllowed):
        do(world.sam, request_id, Action.PROVISION, immtrax_username="x")
    assert fetch(request_id).status == RequestStatus.IN_REVIEW


def test_staff_cannot_act_on_a_request_about_themselves(world):
    with session_scope() as session:
        session.add(
            Grant(
                person_id=world.user("staff"),
                organization_id=world.alpha,
                access_level=AccessLevel.READ_ONLY_CONSENT,
            )
        )
    request = submit_request(
        world.sam, permissions_change(world.alpha, world.user("staff")), "actions-test-key-000000002"
    )
    with pytest.raises(NotAllowed, match="about you"):
        do(world.user("staff"), request.id, Action.QUEUE_FOR_REVIEW)
    do(world.user("staff2"), request.id, Action.QUEUE_FOR_REVIEW)
    do(world.user("staff2"), request.id, Action.APPLY_LEVEL)
    assert grant_of(world.user("staff"), world.alpha).access_level == AccessLevel.VACCINE_MANAGEMENT


def test_a_supervisor_who_is_also_staff_cannot_decide_on_a_request_she_submitted(world):
    """Four eyes: Sam supervises Alpha and is made program staff; the Permissions Change he
    submits for Ana is reviewed, questioned, rejected or completed only by someone else."""
    with session_scope() as session:
        session.get(Person, world.sam).is_staff = True
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, permissions_change(world.alpha, ana), "actions-test-key-four-eyes1")
    for action, fields in ((Action.QUEUE_FOR_REVIEW, {}), (Action.REJECT, {"reason": "mine"})):
        with pytest.raises(NotAllowed, match="you submitted"):
            do(world.sam, request.id, action, **fields)
    do(world.user("staff"), request.id, Action.QUEUE_FOR_REVIEW)
    for action, fields in ((Action.APPLY_LEVEL, {}), (Action.ASK_FOR_INFO, {"reason": "?"}),
                           (Action.REJECT, {"reason": "mine"})):
        with pytest.raises(NotAllowed, match="you submitted"):
            do(world.sam, request.id, action, **fields)
    assert fetch(request.id).status == RequestStatus.IN_REVIEW
    do(world.user("staff2"), request.id, Action.APPLY_LEVEL)
    assert fetch(request.id).status == RequestStatus.COMPLETED
    with session_scope() as session:
        deciders = {e.actor_id for e in session.exec(select(AuditEvent).where(
            AuditEvent.request_id == request.id,
            AuditEvent.action.in_([Action.QUEUE_FOR_REVIEW.value, Action.APPLY_LEVEL.value])))}
    assert deciders == {world.user("staff"), world.user("staff2")}


def test_question_and_answer_return_the_request_to_the_queue(world):
    request_id = signed_new_access(world)
    do(world.user("staff"), request_id, Action.ASK_FOR_INFO, reason="What is their start date?")
    assert fetch(request_id).status == RequestStatus.NEEDS_INFO
    with pytest.raises(NotAllowed):  # Beta's supervisor cannot answer Alpha's question
        do(world.tess, request_id, Action.ANSWER_INFO, reason="Monday")
    do(world.sam, request_id, Action.ANSWER_INFO, reason="Monday the 1st.")
    assert fetch(request_id).status == RequestStatus.IN_REVIEW
    with session_scope() as session:
        answer = session.exec(select(AuditEvent).where(AuditEvent.action == "answer_info")).one()
    assert answer.reason == "Monday the 1st." and answer.actor_id == world.sam


def test_cancelling_an_access_deletion_restores_the_suspended_grant(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, access_deletion(world.alpha, ana), "actions-test-key-000000003")
    assert not grant_of(ana, world.alpha).active
    do(world.sam, request.id, Action.CANCEL)
    assert grant_of(ana, world.alpha).active
    assert fetch(request.id).status == RequestStatus.CANCELLED


def test_confirming_an_access_deletion_keeps_access_removed(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, access_deletion(world.alpha, ana), "actions-test-key-000000004")
    do(world.user("staff"), request.id, Action.QUEUE_FOR_REVIEW)
    do(world.user("staff"), request.id, Action.CONFIRM_DELETION)
    assert fetch(request.id).status == RequestStatus.COMPLETED
    assert not grant_of(ana, world.alpha).active


def test_change_employer_completion_ends_the_former_grant_and_tells_its_supervisors(world):
    dora = "dora.beta@beta.example"
    draft = new_access(
        world.alpha, email=dora, first_name="Dora", last_name="Beta", request_type=RequestType.CHANGE_EMPLOYER
    )
    request = submit_request(world.sam, draft, "actions-test-key-000000005")
    mark_signed(request.id)
    do(world.user("staff"), request.id, Action.PROVISION, immtrax_username="dbeta")
    assert not grant_of(world.user(dora), world.beta).active
    assert grant_of(world.user(dora), world.alpha).active
    with session_scope() as session:
        notice = session.exec(
            select(OutboundEmail).where(OutboundEmail.kind == "former_employer_notice")
        ).one()
    assert notice.to_address == "tess.boss@beta.example"


def test_only_the_submitter_may_cancel(world):
    request_id = signed_new_access(world)
    with session_scope() as session:
        second = Person(email="second@alpha.example", first_name="Second", last_name="Sup")
        session.add(second)
        session.flush()
        session.add(SupervisorLink(person_id=second.id, organization_id=world.alpha))
        second_id = second.id
    with pytest.raises(NotAllowed, match="submitted"):
        do(second_id, request_id, Action.CANCEL)
    do(world.sam, request_id, Action.CANCEL)
    assert fetch(request_id).status == RequestStatus.CANCELLED
