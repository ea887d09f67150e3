"""The supervisor's dashboard as a to-do list, through its handlers with a real session cookie:
"Needs you" (typed entries; the program's question answered on its card in one action; expired
invitations), "In progress" and "Closed" (paged, filterable), each request in exactly one list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import AccessRequest, AuditEvent, Person, SupervisorLink, utcnow
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import needs_you
from immtrax_portal.services.needs_you import NeedsYouEntry, NeedsYouKind
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.supervisor_requests import ListFilters, Section, supervised_requests
from tests.integration.test_dashboard_handlers import actor, loaded, number_of, status_of
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import add_staff_member, build_world, new_access, permissions_change


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world(extra_alpha_users=24)
        add_staff_member(world)
        ana, ben = world.user("ana.lopez@alpha.example"), world.user("ben.ortiz@alpha.example")
        world.users["asked"] = submit_request(world.sam, permissions_change(world.alpha, ana),
                                              "todo-key-asked-000001").id
        ask(world, world.users["asked"], "Which clinic room will Ana work in?")
        world.users["waiting"] = submit_request(world.sam, permissions_change(world.alpha, ben),
                                                "todo-key-waiting-00001").id
        world.users["invite"] = submit_request(world.sam, new_access(world.alpha, "nia.new@alpha.example"),
                                               "todo-key-invite-000001").id
        yield world


def version_of(request_id: int) -> int:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).version


def ask(world, request_id: int, question: str) -> None:
    staff = actor(world.user("staff"))
    act_on_request(staff, request_id, ActionInput(Action.QUEUE_FOR_REVIEW, version_of(request_id)))
    act_on_request(staff, request_id, ActionInput(Action.ASK_FOR_INFO, version_of(request_id),
                                                  reason=question))


def expire(request_id: int, days_ago: int = 1) -> None:
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        request.status = RequestStatus.EXPIRED
        request.status_changed_at = utcnow() - timedelta(days=days_ago)
        session.add(request)


def numbers(rows) -> list[str]:
    return [r["number"] for r in rows]


def audit_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(AuditEvent.id)).all())


# --- The three lists -------------------------------------------------------------------------------


def test_a_question_waits_in_needs_you_with_the_question_and_who_asked(world):
    state = loaded(world.sam)
    [entry] = state.needs_rows
    assert entry["kind"] == "question" and entry["number"] == number_of(world.users["asked"])
    assert entry["question"] == "Which clinic room will Ana work in?"
    assert entry["asked_by"] == "Stella Staffer"
    assert entry["can_answer"] and not entry["can_resend"]
    assert "Ana Lopez" in entry["title"]
    assert set(numbers(state.org_rows)) == {number_of(world.users["waiting"]),
                                            number_of(world.users["invite"])}
    assert state.closed_rows == [] and state.needs_total == 1


def test_every_request_is_in_exactly_one_list(world):
    cancelled = submit_request(world.sam, new_access(world.alpha, "cy.gone@alpha.example"),
                               "todo-key-cancel-000001").id
    act_on_request(actor(world.sam), cancelled, ActionInput(Action.CANCEL, version_of(cancelled)))
    expire(world.users["invite"])
    state = loaded(world.sam)
    lists = [numbers(state.needs_rows), numbers(state.org_rows), numbers(state.closed_rows)]
    everything = [n for part in lists for n in part]
    assert len(everything) == len(set(everything)) == 4
    assert number_of(cancelled) in lists[2]
    assert number_of(world.users["invite"]) in lists[0]          # expired: resend or let it be


def test_answering_on_the_card_is_one_action_and_moves_the_request_on(world):
    state = loaded(world.sam)
    number = number_of(world.users["asked"])
    before = audit_count()
    state.answer_question({"number": number, "answer": "Room 4, with the vaccine fridge."})
    assert status_of(world.users["asked"]) == RequestStatus.IN_REVIEW
    assert state.needs_rows == [] and number in numbers(state.org_rows)
    assert "sent" in state.message and state.answer_problem == ""
    with session_scope() as session:
        new = session.exec(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert [e.action for e in new if e.request_id == world.users["asked"]] == ["answer_info"]
    assert new[0].reason == "Room 4, with the vaccine fridge."


def test_an_empty_answer_is_refused_at_its_box_and_changes_nothing(world):
    state = loaded(world.sam)
    number = number_of(world.users["asked"])
    before = audit_count()
    event = state.answer_question({"number": number, "answer": "   "})
    assert state.answer_number == number and "Enter your answer" in state.answer_problem
    assert "answer_info" not in state.answer_problem   # plain words, no internal code
    assert f"answer-{number}" in str(event)             # focus moves to the box
    assert status_of(world.users["asked"]) == RequestStatus.NEEDS_INFO and audit_count() == before


def test_answering_a_question_that_is_not_on_the_list_is_refused_and_recorded(world):
    state = loaded(world.tess)   # Beta's supervisor aims at Alpha's question
    state.answer_question({"number": number_of(world.users["asked"]), "answer": "forged"})
    assert status_of(world.users["asked"]) == RequestStatus.NEEDS_INFO
    with session_scope() as session:
        [denied] = session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert denied.action == "dashboard.answer" and denied.actor_id == world.tess


def test_a_question_that_was_answered_elsewhere_meanwhile_is_not_answered_twice(world):
    state = loaded(world.sam)
    request_id = world.users["asked"]
    act_on_request(actor(world.sam), request_id, ActionInput(Action.ANSWER_INFO, version_of(request_id),
                                                             reason="From the request page"))
    state.answer_question({"number": number_of(request_id), "answer": "Again from the card"})
    assert "changed" in state.answer_problem
    assert status_of(request_id) == RequestStatus.IN_REVIEW
    assert state.needs_rows == []


def test_a_question_about_the_supervisor_themselves_does_not_wait_on_them(world):
    """Sam supervises Alpha and a request about Sam's own access there asks a question: another
    supervisor must answer it, so it is "In progress" for Sam, without an answer box."""
    with session_scope() as session:
        other = Person(email="olga.other@alpha.example", first_name="Olga", last_name="Other")
        session.add(other)
        session.flush()
        session.add(SupervisorLink(person_id=other.id, organization_id=world.alpha))
    about_sam = submit_request(other.id, new_access(world.alpha, "sam.supervisor@alpha.example"),
                               "todo-key-about-sam-01").id
    with session_scope() as session:
        request = session.get(AccessRequest, about_sam)
        request.status = RequestStatus.IN_REVIEW
        session.add(request)
    staff = actor(world.user("staff"))
    act_on_request(staff, about_sam, ActionInput(Action.ASK_FOR_INFO, version_of(about_sam),
                                                 reason="Is this really you?"))
    state = loaded(world.sam)
    assert number_of(about_sam) not in numbers(state.needs_rows)
    row = next(r for r in state.org_rows if r["number"] == number_of(about_sam))
    assert not row["can_answer"]
    olga = loaded(other.id)
    assert number_of(about_sam) in numbers(olga.needs_rows)


def test_an_expired_invitation_waits_for_30_days_then_is_closed(world):
    expire(world.users["invite"], days_ago=3)
    state = loaded(world.sam)
    entry = next(r for r in state.needs_rows if r["number"] == number_of(world.users["invite"]))
    assert entry["kind"] == "expired_invitation" and entry["can_resend"]
    expire(world.users["invite"], days_ago=31)
    state = loaded(world.sam)
    assert number_of(world.users["invite"]) not in numbers(state.needs_rows)
    assert number_of(world.users["invite"]) in numbers(state.closed_rows)


def test_an_expired_invitation_is_resent_from_its_card(world):
    expire(world.users["invite"])
    state = loaded(world.sam)
    state.resend(number_of(world.users["invite"]))
    assert "new invitation" in state.message, state.error
    assert status_of(world.users["invite"]) == RequestStatus.AWAITING_AGREEMENT
    assert number_of(world.users["invite"]) in numbers(state.org_rows)


# --- Paged and filterable ------------------------------------------------------------------------------


def test_in_progress_is_paged_twenty_at_a_time(world):
    for n in range(20):
        person = world.user(f"user{n:02d}@alpha.example")
        submit_request(world.sam, permissions_change(world.alpha, person), f"todo-key-page-{n:06d}")
    state = loaded(world.sam)
    assert state.org_total == 22 and len(state.org_rows) == 20 and state.org_pages == 2
    state.next_org_page()
    assert state.org_page == 2 and len(state.org_rows) == 2


def test_the_filters_narrow_both_lists_and_ignore_what_is_not_theirs(world):
    state = loaded(world.sam)
    state.filter_lists({"type": "new_access", "org": str(world.beta), "q": ""})
    assert numbers(state.org_rows) == [number_of(world.users["invite"])]
    assert state.f_org == "" and state.filters_active   # Beta is not Sam's: ignored
    state.filter_lists({"type": "", "org": "", "q": "ben"})
    assert numbers(state.org_rows) == [number_of(world.users["waiting"])]
    state.filter_lists({"type": "", "org": "", "q": number_of(world.users["invite"]).lower()})
    assert numbers(state.org_rows) == [number_of(world.users["invite"])]
    state.filter_lists({"type": "", "org": "", "q": "%"})   # a wildcard is a character here
    assert state.org_rows == []
    state.clear_filters()
    assert len(state.org_rows) == 2 and not state.filters_active


def test_the_filter_form_bounds_what_it_reads():
    filters = ListFilters.from_form(actor_stub(), {"type": "x" * 10_000, "org": "9" * 50, "q": "a" * 10_000})
    assert filters.request_type is None and filters.organization_id is None
    assert len(filters.search) == 60


def actor_stub():
    from immtrax_portal.domain.permissions import Actor

    return Actor(person_id=1, email="a@b.example", supervised_org_ids=frozenset({1}))


def test_closed_lists_only_closed_requests(world):
    act_on_request(actor(world.sam), world.users["waiting"],
                   ActionInput(Action.CANCEL, version_of(world.users["waiting"])))
    page = supervised_requests(actor(world.sam), Section.CLOSED)
    assert [r["status"] for r in page.rows] == ["cancelled"]


# --- One more kind of entry ---------------------------------------------------------------------------


def test_another_source_adds_its_entries_to_needs_you(world, monkeypatch):
    """What another engineer does to add a kind (say, a roster review): one more source."""

    class RosterReview:
        kind = NeedsYouKind.QUESTION   # a test stand-in for a new member

        def claims(self, actor, now):
            import sqlalchemy as sa
            return sa.false()

        def entries(self, session, actor, now, limit):
            return [NeedsYouEntry(kind=self.kind, key="review:alpha", title="Review who has access",
                                  detail="Once a year.", waiting_since=now - timedelta(days=400),
                                  href="/dashboard#roster", link_text="Go to the roster")], 1

    monkeypatch.setattr(needs_you, "SOURCES", (*needs_you.SOURCES, RosterReview()))
    state = loaded(world.sam)
    assert [r["key"] for r in state.needs_rows][0] == "review:alpha"   # oldest first
    assert state.needs_total == 2


# --- Access over time in "Needs you": roster reviews, expiring access, idle people (issue 16) ----


def access_of(email: str):
    from immtrax_portal.domain.models import Grant
    with session_scope() as session:
        return session.exec(select(Grant).join(Person, Person.id == Grant.person_id)
                            .where(Person.email == email)).one()


def ends_in(world, email: str, days: int, kind: str | None = None) -> int:
    from immtrax_portal.program_time import program_today
    from immtrax_portal.services import access_ends
    with session_scope() as session:
        grant = session.get(type(access_of(email)), access_of(email).id)
        return access_ends.schedule(session, grant, kind or access_ends.END_DATE,
                                    program_today() + timedelta(days=days), request=None,
                                    actor_id=None, actor_role="system").id


def idle_for(email: str, days: int) -> None:
    from immtrax_portal.domain.models import RegistryActivity
    with session_scope() as session:
        grant = session.get(type(access_of(email)), access_of(email).id)
        grant.immtrax_username = email.split("@")[0]
        session.add(grant)
        session.add(RegistryActivity(username=grant.immtrax_username, reported_at=utcnow(),
                                     last_login_at=utcnow() - timedelta(days=days)))


def kinds(rows) -> list[str]:
    return [r["kind"] for r in rows]


def test_an_open_roster_review_is_one_entry_in_needs_you_linking_to_the_review(world):
    from immtrax_portal.services import reviews
    reviews.start_extra_review(actor(world.user("staff")), "ALPHA-1")
    state = loaded(world.sam)
    [entry] = [r for r in state.needs_rows if r["kind"] == NeedsYouKind.ROSTER_REVIEW.value]
    assert entry["title"].startswith("Roster review at Alpha Clinic:") and "to confirm" in entry["title"]
    assert entry["href"] == "/reviews" and entry["link_text"] == "Open the roster review of Alpha Clinic"
    assert "ends on" in entry["detail"]
    assert NeedsYouKind.ROSTER_REVIEW.value not in kinds(loaded(world.tess).needs_rows)  # Beta's Tess


def test_time_limited_access_ending_within_14_days_is_extended_from_its_card_in_one_action(world):
    from immtrax_portal.domain.models import AccessEnd
    soon = ends_in(world, "ana.lopez@alpha.example", 10)
    ends_in(world, "ben.ortiz@alpha.example", 40)                 # not yet a to-do
    state = loaded(world.sam)
    [entry] = [r for r in state.needs_rows if r["kind"] == NeedsYouKind.EXPIRING_ACCESS.value]
    assert entry["person"] == "Ana Lopez" and entry["can_extend"] is True
    before = audit_count()
    state.extend_access(entry["key"])
    assert state.message.startswith("Access extended") and state.error == ""
    with session_scope() as session:
        assert session.get(AccessEnd, soon).last_day > utcnow().date() + timedelta(days=90)
        new = session.exec(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert [e.action for e in new] == ["access_end_extended"]
    assert NeedsYouKind.EXPIRING_ACCESS.value not in kinds(state.needs_rows)


def test_a_scheduled_removal_ending_soon_is_listed_without_extend_and_a_forged_extend_is_refused(world):
    from immtrax_portal.services import access_ends
    ends_in(world, "ana.lopez@alpha.example", 3, access_ends.SCHEDULED_REMOVAL)
    state = loaded(world.sam)
    [entry] = [r for r in state.needs_rows if r["kind"] == NeedsYouKind.EXPIRING_ACCESS.value]
    assert "scheduled removal" in entry["title"] and entry["can_extend"] is False
    tess = loaded(world.tess)                                     # not her organization
    tess.extend_access(entry["key"])
    with session_scope() as session:
        [denied] = session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert denied.action == "access_ends.extend" and denied.actor_id == world.tess


def test_an_idle_person_is_confirmed_or_removed_from_their_card(world):
    idle_for("ana.lopez@alpha.example", 65)
    idle_for("ben.ortiz@alpha.example", 20)                       # not idle long enough
    state = loaded(world.sam)
    [entry] = [r for r in state.needs_rows if r["kind"] == NeedsYouKind.IDLE_PERSON.value]
    assert entry["title"] == "Ana Lopez has not used imMTrax for 65 days" and entry["can_confirm"]
    assert "type=access_deletion" in entry["remove_href"]
    assert entry["remove_text"] == "Remove access of Ana Lopez"
    state.confirm_idle(entry["key"])
    assert state.message.startswith("Confirmed") and state.error == ""
    assert NeedsYouKind.IDLE_PERSON.value not in kinds(state.needs_rows)
    with session_scope() as session:
        assert [e.action for e in session.exec(select(AuditEvent).where(
            AuditEvent.action == "idle_confirmed"))] == ["idle_confirmed"]


def test_the_supervisors_own_access_never_waits_on_them(world):
    from immtrax_portal.domain.models import Grant
    with session_scope() as session:
        session.add(Grant(person_id=world.sam, organization_id=world.alpha,
                          access_level="read_only_consent"))
    ends_in(world, "sam.supervisor@alpha.example", 5)
    idle_for("sam.supervisor@alpha.example", 100)
    state = loaded(world.sam)
    assert {NeedsYouKind.EXPIRING_ACCESS.value, NeedsYouKind.IDLE_PERSON.value}.isdisjoint(
        kinds(state.needs_rows))
