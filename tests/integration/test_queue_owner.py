"""The owned queue on SQLite and PostgreSQL: assigning (to oneself, to a colleague with a note),
the "Mine" / "Unassigned" filters, likely duplicates, and the bulk actions, each audited and each
refused per request where the rulebook says no."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, AuditEvent, OutboundEmail, Person
from immtrax_portal.domain.permissions import FOUR_EYES, NOT_FOR_BULK_REJECT, NotAllowed
from immtrax_portal.services import queue_owner
from immtrax_portal.services.queue import QueueFilters, queue_page
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import NOW, add_request, build_queue_world
from tests.support.wizard_world import actor

S, T = RequestStatus, RequestType


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_queue_world()
        with session_scope() as session:
            colleague = Person(email="cole.league@mt.example", first_name="Cole", last_name="League",
                               is_staff=True)
            outsider = Person(email="otto.side@alpha.example", first_name="Otto", last_name="Side")
            session.add_all([colleague, outsider])
            session.flush()
            world.colleague, world.outsider = colleague.id, outsider.id
        yield world



def owner_of(number: str) -> int | None:
    with session_scope() as session:
        return session.exec(select(AccessRequest.owner_id).where(AccessRequest.number == number)).one()


def events(number: str, action: str) -> list[AuditEvent]:
    with session_scope() as session:
        request_id = session.exec(select(AccessRequest.id).where(AccessRequest.number == number)).one()
        return list(session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id,
                                                          AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))


def test_assign_to_me_then_reassign_to_a_colleague_with_a_note(world):
    number = add_request(world)
    stella = actor(world.staff)
    queue_owner.assign(stella, number, world.staff)
    assert owner_of(number) == world.staff
    queue_owner.assign(stella, number, world.colleague, "Cole knows this clinic")
    assert owner_of(number) == world.colleague
    first, second = events(number, "assign_owner")
    assert (first.actor_id, first.target_id) == (world.staff, str(world.staff))
    assert first.outcome == AuditOutcome.SUCCESS
    assert second.reason == "Cole knows this clinic" and json.loads(second.details)["owner"] == "Cole League"
    shown = queue_page(stella, QueueFilters(), now=NOW).rows[0]
    assert shown.owner == "Cole League"


def test_only_program_staff_can_own_a_request_and_nobody_owns_one_they_submitted(world):
    number = add_request(world)
    stella = actor(world.staff)
    with pytest.raises(NotAllowed, match="only to program staff"):
        queue_owner.assign(stella, number, world.outsider)
    # Stella's colleague submitted this one (a staff member who also supervises the clinic).
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == number)).one()
        request.submitter_id = world.colleague
        session.add(request)
    with pytest.raises(NotAllowed, match="Cole League submitted this request"):
        queue_owner.assign(stella, number, world.colleague)
    with pytest.raises(NotAllowed, match="decide on a request that you submitted"):
        queue_owner.assign(actor(world.colleague), number, world.staff)
    assert owner_of(number) is None
    assert events(number, "assign_owner") == []   # one refusal, one row: the handler's guard writes it
    result = queue_owner.bulk_assign(actor(world.colleague), [number], world.staff)
    assert result.refused[0].message == FOUR_EYES
    assert [e.outcome for e in events(number, "assign_owner")] == [AuditOutcome.DENIED]


def test_the_owner_filters_mine_and_unassigned(world):
    mine, theirs, nobodys = add_request(world), add_request(world), add_request(world)
    stella = actor(world.staff)
    queue_owner.assign(stella, mine, world.staff)
    queue_owner.assign(stella, theirs, world.colleague)
    assert [r.number for r in queue_page(stella, QueueFilters(owner="mine"), now=NOW).rows] == [mine]
    assert [r.number for r in queue_page(stella, QueueFilters(owner="unassigned"), now=NOW).rows] == [nobodys]
    assert QueueFilters.from_query({"owner": "mine"}).to_query() == "owner=mine"
    assert QueueFilters.from_query({"owner": "<script>"}).owner == ""


def test_likely_duplicates_are_marked_same_name_same_organization_both_open(world):
    first = add_request(world, first="Nora", last="Newhire")
    second = add_request(world, first="NORA", last="newhire")     # another email, same person
    elsewhere = add_request(world, first="Nora", last="Newhire", org="Beta Health")
    closed = add_request(world, first="Nora", last="Newhire", status=S.REJECTED)
    rows = {r.number: r for r in queue_page(actor(world.staff), QueueFilters(status="all"), now=NOW).rows}
    assert rows[first].duplicate_of == second and rows[second].duplicate_of == first
    assert rows[elsewhere].duplicate_of == "" and rows[closed].duplicate_of == ""


def test_bulk_assign_audits_each_request_and_refuses_each_on_its_own(world):
    plain = add_request(world)
    about_cole = add_request(world, first="Cole", last="League")
    with session_scope() as session:   # the request is about Cole himself
        request = session.exec(select(AccessRequest).where(AccessRequest.number == about_cole)).one()
        request.subject_person_id = world.colleague
        session.add(request)
    result = queue_owner.bulk_assign(actor(world.staff), [plain, about_cole, plain], world.colleague)
    assert [(o.number, o.done) for o in result.outcomes] == [(plain, True), (about_cole, False)]
    assert owner_of(plain) == world.colleague and owner_of(about_cole) is None
    assert [e.outcome for e in events(plain, "assign_owner")] == [AuditOutcome.SUCCESS]
    assert [e.outcome for e in events(about_cole, "assign_owner")] == [AuditOutcome.DENIED]


def test_bulk_reject_takes_expired_requests_and_likely_duplicates_with_one_reason(world):
    expired = add_request(world, status=S.EXPIRED, first="Eve", last="Expired")
    twin_a = add_request(world, first="Dee", last="Double")
    twin_b = add_request(world, first="Dee", last="Double")
    ordinary = add_request(world, first="Ola", last="Ordinary")
    result = queue_owner.bulk_reject(actor(world.staff), [expired, twin_a, ordinary], "Duplicate or lapsed")
    assert [(o.number, o.done) for o in result.outcomes] == [
        (expired, True), (twin_a, True), (ordinary, False)]
    assert result.refused[0].message == NOT_FOR_BULK_REJECT
    with session_scope() as session:
        chosen = AccessRequest.number.in_([expired, twin_a, twin_b, ordinary])
        statuses = dict(session.exec(select(AccessRequest.number, AccessRequest.status).where(chosen)).all())
        notices = session.exec(select(OutboundEmail.kind)
                               .where(OutboundEmail.kind == "notice_reject")).all()
    assert statuses[expired] == S.REJECTED and statuses[twin_a] == S.REJECTED
    assert statuses[twin_b] == S.IN_REVIEW and statuses[ordinary] == S.IN_REVIEW
    assert len(notices) == 2
    (rejected,) = events(expired, "reject")
    assert (rejected.reason, rejected.from_status, rejected.outcome) == ("Duplicate or lapsed", "expired",
                                                                        AuditOutcome.SUCCESS)
    (refused,) = events(ordinary, "reject")
    assert refused.outcome == AuditOutcome.DENIED and refused.reason == NOT_FOR_BULK_REJECT


def test_bulk_reject_keeps_four_eyes_per_request_and_needs_a_reason(world):
    mine = add_request(world, status=S.EXPIRED)
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == mine)).one()
        request.submitter_id = world.staff
        session.add(request)
    with pytest.raises(ValueError, match="reason"):
        queue_owner.bulk_reject(actor(world.staff), [mine], "   ")
    result = queue_owner.bulk_reject(actor(world.staff), [mine], "Lapsed")
    assert result.refused[0].message == FOUR_EYES
    assert [e.outcome for e in events(mine, "reject")] == [AuditOutcome.DENIED]


def test_nobody_but_staff_assigns_or_rejects_in_bulk(world):
    number = add_request(world)
    with pytest.raises(NotAllowed):
        queue_owner.bulk_assign(actor(world.supervisor), [number], world.staff)
    with pytest.raises(NotAllowed):
        queue_owner.bulk_reject(actor(world.supervisor), [number], "no")
    assert owner_of(number) is None


def test_the_supervisor_sees_neither_the_owner_nor_the_note_nor_the_worksheet(world):
    from immtrax_portal.services.request_detail import request_detail

    number = add_request(world)
    queue_owner.assign(actor(world.staff), number, world.colleague, "Private: Cole knows them")
    seen_by_staff = request_detail(actor(world.staff), number)
    assert seen_by_staff.owner == "Cole League" and seen_by_staff.worksheet
    assert any("Private" in e["what"] for e in seen_by_staff.timeline)
    seen_by_supervisor = request_detail(actor(world.supervisor), number)
    assert (seen_by_supervisor.owner, seen_by_supervisor.worksheet, seen_by_supervisor.clock) == ("", [], "")
    assert not any("Private" in e["what"] or "owns this request" in e["what"]
                   for e in seen_by_supervisor.timeline)


def test_the_worksheet_follows_the_registry_screen_and_names_what_ends(world):
    from immtrax_portal.services.request_detail import request_detail

    moving = add_request(world, kind=T.CHANGE_EMPLOYER, first="Mo", last="Ving")
    leaving = add_request(world, kind=T.ACCESS_DELETION, first="Lee", last="Ving")
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == moving)).one()
        request.former_organization_id = world.orgs["Zeta Pharmacy"]
        session.add(request)
    staff = actor(world.staff)
    sheet = {f["label"]: f["value"] for f in request_detail(staff, moving).worksheet}
    assert list(sheet)[:4] == ["Organization", "Organization registry identifier (PIN)", "Last name",
                               "First name"]
    assert sheet["Organization registry identifier (PIN)"] == "ALPHA-1"
    assert sheet["Former organization: end access"] == "Zeta Pharmacy"
    assert sheet["Former organization registry identifier (PIN)"] == "ZETA-3"
    assert sheet["Role (access level)"]
    deletion = request_detail(staff, leaving)
    labels = [f["label"] for f in deletion.worksheet]
    assert labels[2] == "Account to deactivate (imMTrax username)" and "Role (access level)" not in labels
    assert deletion.worksheet_text.splitlines()[0] == "Organization: Alpha Clinic"
