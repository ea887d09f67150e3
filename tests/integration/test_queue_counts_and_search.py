"""The staff queue at scale, on SQLite and PostgreSQL: tab counts kept by the database (exact after
every kind of change, whichever tab reads them), the organization list read once per change, and
name / email search on an index that finds what the old full scan found."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain.enums import RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, Organization, Person
from immtrax_portal.domain.workflow import Action, transition
from immtrax_portal.services import queue, queue_owner
from immtrax_portal.services.queue import QueueFilters, queue_page
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import NOW, add_request, build_queue_world
from tests.support.wizard_world import actor, add_staff_member, build_world, new_access

S, T = RequestStatus, RequestType


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield request.param



def grouped_truth(filters: QueueFilters, staff) -> dict[str, int]:
    """What a GROUP BY over every request says (the counts before they were kept)."""
    with session_scope() as session:
        return queue.tab_counts(session, queue.filter_conditions(session, filters, NOW, staff))


def statements_during(run) -> list[str]:
    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)

    sa.event.listen(get_engine(), "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", record)
    return sent


def mark_signed(request_id: int) -> None:
    """The applicant's signature belongs to the agreement feature; here only its move."""
    with session_scope() as session:
        stored = session.get(AccessRequest, request_id)
        session.add(transition(stored, Action.SIGN_AGREEMENT, actor_id=None, actor_role=Role.APPLICANT))
        session.add(stored)


# --- Tab counts -------------------------------------------------------------------------------


def test_tab_counts_stay_right_after_submit_move_assign_and_cancel_in_two_tabs(database):
    world = build_world()
    staff_id = add_staff_member(world)
    staff = actor(staff_id)
    # Two tabs of one staff member, showing different views of the queue.
    tabs = [QueueFilters(), QueueFilters(status="all", owner="mine")]

    def both_tabs_agree_with_the_table():
        for filters in tabs:
            shown = queue_page(staff, filters, now=NOW).counts
            assert shown == grouped_truth(filters, staff), filters

    both_tabs_agree_with_the_table()
    request = submit_request(world.sam, new_access(world.alpha), "counts-test-key-0000000001")
    assert queue_page(staff, tabs[0], now=NOW).counts["open"] == 1
    both_tabs_agree_with_the_table()

    mark_signed(request.id)  # the request moves to another status
    both_tabs_agree_with_the_table()

    queue_owner.assign(staff, request.number, staff_id)  # it moves to an owner ("Mine")
    assert queue_page(staff, tabs[1], now=NOW).counts["all"] == 1
    both_tabs_agree_with_the_table()

    with session_scope() as session:
        version = session.get(AccessRequest, request.id).version
    act_on_request(actor(world.sam), request.id, ActionInput(action=Action.CANCEL, expected_version=version))
    counts = queue_page(staff, tabs[0], now=NOW).counts
    assert counts["open"] == 0 and counts["cancelled"] == 1
    both_tabs_agree_with_the_table()


def test_kept_counts_follow_every_insert_update_and_delete_made_behind_the_services(database):
    world = build_queue_world()
    staff = actor(world.staff)
    numbers = [add_request(world, status=S.SUBMITTED), add_request(world, status=S.IN_REVIEW),
               add_request(world, status=S.COMPLETED, kind=T.ACCESS_DELETION, completed_after_hours=2)]
    views = [QueueFilters(), QueueFilters(request_type="access_deletion"), QueueFilters(owner="unassigned"),
             QueueFilters(owner="mine", status="all")]

    def check():
        for filters in views:
            assert queue_page(staff, filters, now=NOW).counts == grouped_truth(filters, staff), filters

    check()
    with session_scope() as session:
        session.exec(sa.update(AccessRequest).where(AccessRequest.number == numbers[0])
                     .values(status=S.NEEDS_INFO, owner_id=world.staff))
        session.exec(sa.update(AccessRequest).where(AccessRequest.number == numbers[1])
                     .values(request_type=T.ACCESS_DELETION))
    check()
    with session_scope() as session:
        session.exec(sa.update(AccessRequest).where(AccessRequest.number == numbers[0]).values(owner_id=None))
        session.exec(sa.delete(AccessRequest).where(AccessRequest.number == numbers[2]))
    check()
    assert queue_page(staff, QueueFilters(), now=NOW).counts["all"] == 2


def test_the_default_page_reads_no_group_by_over_the_requests(database):
    world = build_queue_world()
    add_request(world)
    staff = actor(world.staff)
    sent = statements_during(lambda: queue_page(staff, QueueFilters(), now=NOW))
    counting = [s for s in sent if "count(" in s.lower()]
    assert counting == [], counting  # the tab counts come from request_tab_count
    assert any("request_tab_count" in s for s in sent)


# --- Organization list ------------------------------------------------------------------------


def test_the_organization_list_is_read_once_until_an_organization_changes(database):
    world = build_queue_world()
    staff = actor(world.staff)
    first = queue.organization_choices(staff)
    assert [name for _, name in first] == ["Alpha Clinic", "Beta Health", "Zeta Pharmacy"]

    again = statements_during(lambda: queue.organization_choices(staff))
    assert len(again) == 1 and "ORDER BY" not in again[0]  # only the markers

    with session_scope() as session:
        session.add(Organization(name="Aardvark Care", code="AARD-4"))
    assert [name for _, name in queue.organization_choices(staff)][0] == "Aardvark Care"


# --- Search -----------------------------------------------------------------------------------


@pytest.fixture
def people(database):
    world = build_queue_world()
    for first, last, email in (("Élodie", "Côté", "elodie.cote@clinic42.example"),
                               ("Nora", "O'Brien", "nora.obrien@valley.example"),
                               ("NORA", "SMITH", "nsmith@upper.example"),
                               ("Ann", "Two Bulls", "ann_two@bulls.example"),
                               ("Omar", "Holm", "omar.holm@north.example")):
        add_request(world, first=first, last=last, email=email)
    return world


def found(world, search: str) -> set[str]:
    rows = queue_page(actor(world.staff), QueueFilters(status="all", search=search), now=NOW).rows
    return {row.person for row in rows}


def test_search_finds_names_in_any_case(people):
    assert found(people, "nora") == {"Nora O'Brien", "NORA SMITH"}
    assert found(people, "NORA smith") == {"NORA SMITH"}
    assert found(people, "two bulls") == {"Ann Two Bulls"}


def test_search_finds_accented_names_as_typed_and_in_another_case(people):
    assert found(people, "Côté") == {"Élodie Côté"}
    assert found(people, "élodie côté") == {"Élodie Côté"}


def test_search_finds_apostrophes_and_quotes_do_no_harm(people):
    assert found(people, "o'brien") == {"Nora O'Brien"}
    assert found(people, "nora o'b") == {"Nora O'Brien"}
    assert found(people, 'o"brien') == set()
    assert found(people, "nora AND NOT") == set()  # search words, never query syntax


def test_search_finds_email_fragments_and_wildcards_match_themselves(people):
    assert found(people, "clinic42") == {"Élodie Côté"}
    assert found(people, "ann_two") == {"Ann Two Bulls"}
    assert found(people, "a_n") == set()   # "_" is not "any character"
    assert found(people, "%") == set()


def test_short_searches_still_find_what_they_did(people):
    assert found(people, "ol") == {"Omar Holm"}
    assert found(people, "o'") == {"Nora O'Brien"}


def test_search_follows_a_renamed_person(people):
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.last_name == "Holm")).one()
        person.last_name = "Lindqvist"
        session.add(person)
    assert found(people, "omar holm") == set()  # (the e-mail still says omar.holm)
    assert found(people, "omar lindq") == {"Omar Lindqvist"}


def _plan(dialect: str, needle: str) -> str:
    query = queue.matching_people_query(dialect, needle)
    with get_engine().connect() as connection:
        compiled = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        if dialect == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled).all()
            return "\n".join(str(row[-1]) for row in rows)
        # A tiny table is cheaper to scan: forbid that, so only an index that matches can serve.
        with connection.begin():
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + compiled))


def test_name_and_email_search_use_an_index(people, database):
    plan = _plan(database, "nora smith")
    if database == "sqlite":
        assert "VIRTUAL TABLE" in plan and "person_search" in plan, plan
        assert "SCAN person" not in plan.replace("SCAN person_search", ""), plan
    else:
        assert "ix_person_full_name_trgm" in plan and "ix_person_email_trgm" in plan, plan
        assert "Seq Scan" not in plan, plan


def test_changes_locking_the_audit_head_and_a_shared_count_in_either_order_do_not_deadlock(database):
    """A change that wrote its audit event before touching its request (head, then count row)
    beside one that touched its request first (count row, then head): the count trigger takes the
    audit head first, so the second waits instead of deadlocking with the first (PostgreSQL row
    locks; on SQLite the second waits for the database's one writer)."""
    world = build_queue_world()
    first, second = add_request(world), add_request(world)  # both in review: one shared count row
    engine = get_engine()
    head = sa.text("UPDATE audit_chain_head SET last_seq = last_seq WHERE id = 1")
    move = sa.text("UPDATE access_request SET status = 'needs_info' WHERE number = :number")
    failures: list[BaseException] = []
    b_moved = threading.Event()

    def other_change():
        try:
            with engine.connect() as b, b.begin():
                if database == "postgresql":
                    b.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
                b.execute(move, {"number": second})  # count row (waits for the head)
                b_moved.set()
                b.execute(head)
        except BaseException as failed:  # noqa: BLE001 - reported by the assertion below
            failures.append(failed)
            b_moved.set()

    with engine.connect() as a:
        with a.begin():
            if database == "postgresql":
                a.exec_driver_sql("SET LOCAL lock_timeout = '20s'")
            a.execute(head)  # the audit head first, as an audit-first change does
            other = threading.Thread(target=other_change)
            other.start()
            b_moved.wait(1.5)  # without the head-first lock, B now holds the count row
            a.execute(move, {"number": first})
        other.join(30)
    assert not other.is_alive()
    assert failures == []
    counts = queue_page(actor(world.staff), QueueFilters(), now=NOW).counts
    assert counts["needs_info"] == 2 and counts["in_review"] == 0
