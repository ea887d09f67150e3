"""Backups while away, on a real database: naming one, the window opening and closing by itself
(a controllable clock, the program's calendar day), both names on every action, the notices copied."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import DelegationKind, RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Delegation,
    OutboundEmail,
    Person,
    SupervisorLink,
)
from immtrax_portal.domain.permissions import NotAllowed, may_act_for, open_actions
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_today
from immtrax_portal.services import delegations
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.delegations import BackupRefused, name_backup
from immtrax_portal.services.reminders import expire_overdue_invitations, resend_invitation
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

# Midday in Montana on a Monday; the program's day turns at 07:00 UTC (MST, UTC-7).
MONDAY = datetime(2027, 1, 4, 19, 0, tzinfo=UTC)


def day(n: int) -> str:
    return (MONDAY.date() + timedelta(days=n)).isoformat()


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        w = build_world()
        with session_scope() as session:
            rita = Person(email="rita.relief@alpha.example", first_name="Rita", last_name="Relief")
            kim = Person(email="kim.next@alpha.example", first_name="Kim", last_name="Next")
            session.add_all([rita, kim])
            session.flush()
            session.add(SupervisorLink(person_id=rita.id, organization_id=w.alpha))
            session.add(SupervisorLink(person_id=kim.id, organization_id=w.alpha))
            w.users["rita"], w.users["kim"] = rita.id, kim.id
        yield w


def actor(person_id: int, now: datetime):
    with session_scope() as session:
        return load_actor(session, person_id, now)


def sams_request(world, n: int = 1) -> AccessRequest:
    return submit_request(
        world.sam, new_access(world.alpha, email=f"nurse{n}@alpha.example"), f"backup-test-key-{n:010d}"
    )


def version_of(request_id: int) -> int:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).version


def test_the_backups_window_opens_and_closes_by_itself_on_the_program_calendar(world):
    request = sams_request(world)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(1), day(3), now=MONDAY)
    rita_may_cancel = {}
    for label, moment in {
        "the day before": MONDAY + timedelta(days=1) - timedelta(hours=13),  # 23:00 Monday in Montana
        "the first day": MONDAY + timedelta(days=1) - timedelta(hours=11, minutes=59),  # 00:01 Tuesday
        "the last day, late": MONDAY + timedelta(days=4) - timedelta(hours=12, minutes=1),  # 23:59 Thursday
        "the day after": MONDAY + timedelta(days=4) - timedelta(hours=11, minutes=59),  # 00:01 Friday
    }.items():
        rita = actor(world.users["rita"], moment)
        rita_may_cancel[label] = Action.CANCEL in open_actions(rita, request)
    assert rita_may_cancel == {
        "the day before": False,
        "the first day": True,
        "the last day, late": True,
        "the day after": False,
    }
    assert program_today(MONDAY) == MONDAY.date()


def test_the_backup_cancels_for_the_absent_supervisor_and_the_history_names_both(world):
    request = sams_request(world)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(0), day(2), now=MONDAY)
    rita = actor(world.users["rita"], MONDAY + timedelta(days=1))
    act_on_request(rita, request.id, ActionInput(Action.CANCEL, version_of(request.id)))
    with session_scope() as session:
        assert session.get(AccessRequest, request.id).status == RequestStatus.CANCELLED
        event = session.exec(
            select(AuditEvent).where(AuditEvent.request_id == request.id, AuditEvent.action == "cancel")
        ).one()
    details = json.loads(event.details)
    assert event.actor_id == world.users["rita"]
    assert details["on_behalf_of"] == "Sam Supervisor" and details["backup"] == "Rita Relief"


def test_the_backup_resends_for_the_absent_supervisor_with_both_names(world):
    request = sams_request(world)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(0), day(2), now=MONDAY)
    resend_invitation(actor(world.users["rita"], MONDAY), request.id)
    with session_scope() as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.request_id == request.id, AuditEvent.action == "resend_invitation"
            )
        ).one()
    assert json.loads(event.details)["on_behalf_of_id"] == world.sam


def test_after_the_end_date_the_backup_can_no_longer_cancel(world):
    request = sams_request(world)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(0), day(0), now=MONDAY)
    later = actor(world.users["rita"], MONDAY + timedelta(days=1))
    with pytest.raises(NotAllowed, match="backup"):
        act_on_request(later, request.id, ActionInput(Action.CANCEL, version_of(request.id)))


def test_a_backups_own_backup_gets_nothing_of_the_first_supervisor(world):
    request = sams_request(world)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(0), day(5), now=MONDAY)
    name_backup(
        actor(world.users["rita"], MONDAY), world.alpha, world.users["kim"], day(0), day(5), now=MONDAY
    )
    kim = actor(world.users["kim"], MONDAY)
    with pytest.raises(NotAllowed):
        act_on_request(kim, request.id, ActionInput(Action.CANCEL, version_of(request.id)))
    assert delegations.covered_requests(kim) == []
    assert [r["number"] for r in delegations.covered_requests(actor(world.users["rita"], MONDAY))] == [
        request.number
    ]


def test_the_absent_supervisors_notices_are_copied_to_the_backup_while_in_force(world):
    request = sams_request(world)
    today = program_today()
    name_backup(
        actor(world.sam, None),
        world.alpha,
        world.users["rita"],
        today.isoformat(),
        (today + timedelta(days=30)).isoformat(),
    )
    expire_overdue_invitations(datetime.now(UTC) + timedelta(days=20))
    with session_scope() as session:
        sent = session.exec(
            select(OutboundEmail.kind, OutboundEmail.to_address, OutboundEmail.subject).where(
                OutboundEmail.request_id == request.id
            )
        ).all()
    kinds = [(kind, to) for kind, to, _ in sent]
    assert ("invitation_expired", "sam.supervisor@alpha.example") in kinds
    assert ("backup_copy", "rita.relief@alpha.example") in kinds
    assert any(
        subject.startswith("For Sam Supervisor: ") for kind, _, subject in sent if kind == "backup_copy"
    )
    assert ("backup_copy", "kim.next@alpha.example") not in kinds


def test_no_copy_goes_to_a_backup_whose_days_have_not_come(world):
    request = sams_request(world)
    today = program_today()
    name_backup(
        actor(world.sam, None),
        world.alpha,
        world.users["rita"],
        (today + timedelta(days=40)).isoformat(),
        (today + timedelta(days=41)).isoformat(),
    )
    expire_overdue_invitations(datetime.now(UTC) + timedelta(days=20))
    with session_scope() as session:
        kinds = session.exec(select(OutboundEmail.kind).where(OutboundEmail.request_id == request.id)).all()
    assert "invitation_expired" in kinds and "backup_copy" not in kinds


def test_naming_a_backup_checks_the_form_and_writes_one_audited_row(world):
    sam = actor(world.sam, MONDAY)
    with pytest.raises(BackupRefused) as refused:
        name_backup(sam, world.alpha, world.user("ana.lopez@alpha.example"), day(0), day(1), now=MONDAY)
    assert refused.value.field == "delegate_id"
    with pytest.raises(BackupRefused) as refused:
        name_backup(sam, world.alpha, world.users["rita"], "next week", day(1), now=MONDAY)
    assert refused.value.field == "starts_on"
    with pytest.raises(NotAllowed):
        name_backup(sam, world.beta, world.tess, day(0), day(1), now=MONDAY)
    row = name_backup(sam, world.alpha, world.users["rita"], day(0), day(1), now=MONDAY)
    with pytest.raises(BackupRefused, match="already named Rita Relief"):
        name_backup(sam, world.alpha, world.users["kim"], day(1), day(2), now=MONDAY)
    with session_scope() as session:
        assert len(session.exec(select(Delegation)).all()) == 1
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "delegation_create")).all()
    assert json.loads(event.details)["delegate"] == "Rita Relief" and event.target_id == str(row.id)


def test_ending_a_backup_early_takes_effect_at_once_and_only_for_those_two(world):
    sam = actor(world.sam, MONDAY)
    row = name_backup(sam, world.alpha, world.users["rita"], day(0), day(5), now=MONDAY)
    with pytest.raises(NotAllowed):
        delegations.end_backup(actor(world.users["kim"], MONDAY), row.id)
    delegations.end_backup(actor(world.users["rita"], MONDAY), row.id)
    assert actor(world.users["rita"], MONDAY).covering == frozenset()
    mine, theirs = delegations.backups_of(sam, MONDAY)
    assert mine == [] and theirs == []


def test_the_staff_side_names_another_member_of_staff_with_the_same_model(world):
    with session_scope() as session:
        pat = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff", is_staff=True)
        lee = Person(email="lee.staff@mt.example", first_name="Lee", last_name="Staff", is_staff=True)
        session.add_all([pat, lee])
        session.flush()
        pat_id, lee_id = pat.id, lee.id
    with pytest.raises(BackupRefused, match="program staff"):
        name_backup(
            actor(pat_id, MONDAY), None, world.sam, day(0), day(1), now=MONDAY, kind=DelegationKind.STAFF
        )
    with pytest.raises(NotAllowed):
        name_backup(
            actor(world.sam, MONDAY), None, pat_id, day(0), day(1), now=MONDAY, kind=DelegationKind.STAFF
        )
    name_backup(actor(pat_id, MONDAY), None, lee_id, day(0), day(1), now=MONDAY, kind=DelegationKind.STAFF)
    lee = actor(lee_id, MONDAY)
    assert may_act_for(lee, pat_id, DelegationKind.STAFF)
    assert not may_act_for(actor(lee_id, MONDAY + timedelta(days=2)), pat_id, DelegationKind.STAFF)


def test_the_backups_dashboard_says_whom_they_stand_in_for_while_in_force(world):
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(1), day(2), now=MONDAY)
    assert delegations.covering_note(actor(world.users["rita"], MONDAY), MONDAY) == ""
    tuesday = MONDAY + timedelta(days=1)
    note = delegations.covering_note(actor(world.users["rita"], tuesday), tuesday)
    assert note.startswith("You stand in for Sam Supervisor at Alpha Clinic until January 6, 2027")


def test_the_backup_answers_the_programs_question_for_the_absent_supervisor_with_both_names(world):
    """The program asked Sam; Sam is away, and Rita answers in his place."""
    from immtrax_portal.domain.enums import Role
    from immtrax_portal.domain.workflow import transition

    request = sams_request(world)
    with session_scope() as session:   # signed, then asked (the screens are tested elsewhere)
        stored = session.get(AccessRequest, request.id)
        for action in (Action.SIGN_AGREEMENT, Action.ASK_FOR_INFO):
            transition(stored, action, actor_id=None, actor_role=Role.STAFF if action == Action.ASK_FOR_INFO
                       else Role.APPLICANT, reason="Which clinic?" if action == Action.ASK_FOR_INFO else "")
        session.add(stored)
    name_backup(actor(world.sam, MONDAY), world.alpha, world.users["rita"], day(0), day(2), now=MONDAY)
    rita = actor(world.users["rita"], MONDAY + timedelta(days=1))
    with session_scope() as session:
        asked = session.get(AccessRequest, request.id)
    assert asked.status == RequestStatus.NEEDS_INFO and Action.ANSWER_INFO in open_actions(rita, asked)
    act_on_request(rita, request.id, ActionInput(Action.ANSWER_INFO, version_of(request.id),
                                                 reason="The Alpha main clinic."))
    with session_scope() as session:
        assert session.get(AccessRequest, request.id).status == RequestStatus.IN_REVIEW
        event = session.exec(select(AuditEvent).where(AuditEvent.request_id == request.id,
                                                      AuditEvent.action == "answer_info")).one()
    details = json.loads(event.details)
    assert event.actor_id == world.users["rita"]
    assert details["on_behalf_of"] == "Sam Supervisor" and details["backup"] == "Rita Relief"
