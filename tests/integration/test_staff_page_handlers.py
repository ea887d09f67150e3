"""The queue, metrics and request pages' event handlers, called directly as any client could.

Each state gets a router whose Cookie header carries a real server-side session: the handlers
re-derive the caller from it, so these tests see exactly what a browser (or an attacker replaying
a tab) would get.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from immtrax_portal.auth.sessions import hash_of, new_random_id, session_cookie_name
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import AccessRequest, AuditEvent, Person, StaffNote, WebSession, utcnow
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.request_detail import request_detail
from immtrax_portal.services.staff_notes import NOTE_ADDED, notes_of
from immtrax_portal.ui.state.request_detail import RequestDetailState
from immtrax_portal.ui.state.staff_metrics import StaffMetricsState
from immtrax_portal.ui.state.staff_queue import StaffQueueState
from tests.support.databases import fresh_database_url, use_database
from tests.support.queue_world import add_request, build_queue_world

SECRET_NOTE = "Called the clinic: the supervisor is on leave until Monday."


@pytest.fixture
def world(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        world = build_queue_world()
        with session_scope() as session:
            second = Person(email="stan.staff@mt.example", first_name="Stan", last_name="Second",
                            is_staff=True)
            session.add(second)
            session.flush()
            world.second_staff = second.id
        yield world


def cookie_for(person_id: int | None) -> str:
    if person_id is None:
        return ""
    raw = new_random_id()
    now = utcnow()
    with session_scope() as session:
        session.add(WebSession(id_hash=hash_of(raw), person_id=person_id, created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(hours=8)))
    return f"{session_cookie_name()}={raw}"


def state_for(state_class, person_id: int | None, path: str):
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(state_class.get_full_name().split(".")[1:])
    router_data = {"headers": {"cookie": cookie_for(person_id), "user-agent": "Mozilla/5.0 Chrome/124",
                               "origin": "http://localhost:3000"},
                   "pathname": path.split("?")[0], "asPath": path, "ip": "203.0.113.9",
                   "token": "tab-token", "sid": "sid"}
    root.router_data = router_data
    root.router = RouterData.from_router_data(router_data)
    return state


def denials(action: str, path: str | None = None) -> list[AuditEvent]:
    """Refusals of ``action`` (for ``open_page``: of the page at ``path``, kept in the details)."""
    with session_scope() as session:
        found = list(session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED,
                                                           AuditEvent.action == action)))
    return [e for e in found if path is None or json.loads(e.details).get("path") == path]


def request_status(number: str) -> RequestStatus:
    with session_scope() as session:
        return session.exec(select(AccessRequest.status).where(AccessRequest.number == number)).one()


def note_count() -> int:
    with session_scope() as session:
        return len(session.exec(select(StaffNote)).all())


# --- The queue page -------------------------------------------------------------------------------


def test_staff_open_the_queue_with_the_filters_of_the_link(world):
    nora = add_request(world, first="Nora", last="Newhire", status=RequestStatus.IN_REVIEW)
    add_request(world, first="Omar", last="Other", status=RequestStatus.IN_REVIEW)
    state = state_for(StaffQueueState, world.staff, "/staff/queue?status=in_review&q=nora")
    assert "watch_live" in str(state.load())   # loaded, and it keeps itself current
    assert [r["number"] for r in state.rows] == [nora]
    assert state.f_search == "nora" and state.f_status == "in_review"
    tabs = {t["key"]: t for t in state.tabs}
    assert tabs["in_review"]["count"] == "1" and tabs["in_review"]["current"] == "page"
    assert tabs["all"]["href"] == "/staff/queue?status=all&q=nora"
    assert state.export_href == "/staff/queue.csv?status=in_review&q=nora"


@pytest.mark.parametrize("who", ["supervisor", "applicant"])
def test_supervisors_and_applicants_are_refused_the_queue_and_it_is_audited(world, who):
    add_request(world)
    state = state_for(StaffQueueState, getattr(world, who), "/staff/queue")
    assert "not-allowed" in str(state.load())
    assert state.rows == [] and len(denials("open_page", "/staff/queue")) == 1


def test_someone_signed_out_is_sent_to_sign_in_from_the_queue(world):
    add_request(world)
    state = state_for(StaffQueueState, None, "/staff/queue")
    assert "sign-in" in str(state.load()) and state.rows == []


def test_applying_filters_goes_to_the_url_that_holds_them(world):
    state = state_for(StaffQueueState, world.staff, "/staff/queue")
    event = state.apply_filters({"status": "needs_info", "q": " Nora ", "type": "new_access",
                                 "overdue": "1", "sort": "bogus", "org": "x"})
    assert "/staff/queue?status=needs_info&type=new_access&q=Nora&overdue=1" in str(event)


@pytest.mark.parametrize("who", ["supervisor", "applicant", None])
def test_only_staff_may_apply_queue_filters_and_refusals_are_audited(world, who):
    add_request(world)
    state = state_for(StaffQueueState, getattr(world, who) if who else None, "/staff/queue")
    assert state.apply_filters({"q": "nora"}) is None
    assert state.error and len(denials("queue.filter")) == 1


# --- The metrics page -----------------------------------------------------------------------------


def test_staff_see_the_metrics(world):
    add_request(world, status=RequestStatus.IN_REVIEW, waiting_days=3)
    state = state_for(StaffMetricsState, world.staff, "/staff/metrics")
    assert "watch_live" in str(state.load())   # loaded, and it keeps itself current
    assert state.overdue == 1 and len(state.weeks) == 12
    assert {r["label"]: r["count"] for r in state.by_status}["In review"] == "1"


@pytest.mark.parametrize("who", ["supervisor", "applicant"])
def test_supervisors_and_applicants_are_refused_the_metrics_and_it_is_audited(world, who):
    add_request(world)
    state = state_for(StaffMetricsState, getattr(world, who), "/staff/metrics")
    assert "not-allowed" in str(state.load())
    assert state.by_status == [] and len(denials("open_page", "/staff/metrics")) == 1


# --- Internal notes -------------------------------------------------------------------------------


def detail_page(person_id, number):
    state = state_for(RequestDetailState, person_id, f"/request?number={number}")
    state.load()
    return state


def test_staff_add_a_note_that_is_stored_audited_and_shown_to_staff(world):
    number = add_request(world)
    state = detail_page(world.staff, number)
    state.save_note({"note": SECRET_NOTE})
    assert state.note_problem == "" and [n["body"] for n in state.notes] == [SECRET_NOTE]
    assert state.notes[0]["author"] == "Stella Staffer"
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == NOTE_ADDED)).one()
    assert event.actor_id == world.staff and SECRET_NOTE not in (event.reason + event.details)
    assert [n["body"] for n in detail_page(world.second_staff, number).notes] == [SECRET_NOTE]


def test_an_empty_note_is_refused_next_to_the_form(world):
    state = detail_page(world.staff, add_request(world))
    state.save_note({"note": "   "})
    assert state.note_problem == "Write the note before saving it." and note_count() == 0


@pytest.mark.parametrize("who", ["supervisor", "applicant", None])
def test_nobody_but_staff_can_add_a_note_and_refusals_are_audited(world, who):
    number = add_request(world)  # the applicant is this request's subject; the supervisor its org's
    state = detail_page(getattr(world, who) if who else None, number)
    state.save_note({"note": "sneaky"})
    assert state.note_problem and note_count() == 0 and len(denials("request.add_note")) == 1


@pytest.mark.parametrize("who", ["supervisor", "applicant"])
def test_supervisors_and_applicants_never_receive_notes(world, who):
    number = add_request(world)
    detail_page(world.staff, number).save_note({"note": SECRET_NOTE})
    person_id = getattr(world, who)
    state = detail_page(person_id, number)
    assert state.fields and state.notes == []
    shown = str([state.fields, state.timeline, state.emails, state.actions, state.notes])
    assert SECRET_NOTE not in shown and "staff note" not in shown
    with session_scope() as session:
        viewer = load_actor(session, person_id)
    detail = request_detail(viewer, number)
    assert detail.notes == [] and all("internal note" not in e["what"] for e in detail.timeline)
    with pytest.raises(NotAllowed):
        notes_of(viewer, state._request_id)


# --- Actions from the request page ----------------------------------------------------------------


def test_provisioning_needs_the_username_and_the_credentials_sent_tick(world):
    number = add_request(world, status=RequestStatus.IN_REVIEW)
    state = detail_page(world.staff, number)
    state.submit_action({"action": "provision", "username": "nnewhire"})
    assert "Login credentials sent" in state.action_errors["credentials_sent"]
    assert state.action_username == "nnewhire" and request_status(number) == RequestStatus.IN_REVIEW
    state.submit_action({"action": "provision", "username": " ", "credentials_sent": "on"})
    assert "imMTrax username" in state.action_errors["username"]
    assert request_status(number) == RequestStatus.IN_REVIEW
    state.submit_action({"action": "provision", "username": "nnewhire", "credentials_sent": "on"})
    assert state.problem == "" and state.action_errors == {}
    assert request_status(number) == RequestStatus.COMPLETED
    assert {f["label"]: f["value"] for f in state.fields}["imMTrax username"] == "nnewhire"


def test_the_second_of_two_staff_is_told_who_changed_the_request_and_sees_its_new_state(world):
    number = add_request(world, status=RequestStatus.IN_REVIEW)
    first, second = detail_page(world.staff, number), detail_page(world.second_staff, number)
    first.submit_action({"action": "reject", "text": "Duplicate of IMR-2026-000077."})
    first.confirm_action()
    second.submit_action({"action": "provision", "username": "nnewhire", "credentials_sent": "on"})
    assert "Stella Staffer updated it at" in second.problem
    assert {f["label"]: f["value"] for f in second.fields}["Status"] == "Rejected"
    assert request_status(number) == RequestStatus.REJECTED
    supervisor_view = {f["label"]: f["value"] for f in detail_page(world.supervisor, number).fields}
    assert supervisor_view["Rejection reason"] == "Duplicate of IMR-2026-000077."


@pytest.mark.parametrize(("action", "message"), [
    ("ask_for_info", "Enter the question for the supervisor."),
    ("reject", "Enter the reason for rejecting the request. The supervisor will read it."),
])
def test_an_empty_question_or_reason_is_asked_for_at_the_field_in_plain_words(world, action, message):
    number = add_request(world, status=RequestStatus.IN_REVIEW)
    state = detail_page(world.staff, number)
    state.choose(action)
    state.submit_action({"action": action, "text": "   "})
    assert state.action_errors == {"text": message}
    assert state.problem == "" and "needs a reason" not in str(state.action_errors)
    assert request_status(number) == RequestStatus.IN_REVIEW


def test_the_supervisors_empty_answer_is_asked_for_at_the_field(world):
    number = add_request(world, status=RequestStatus.NEEDS_INFO)
    state = detail_page(world.supervisor, number)
    state.choose("answer_info")
    state.submit_action({"action": "answer_info", "text": ""})
    assert state.action_errors == {"text": "Enter your answer to the program's question."}
    assert request_status(number) == RequestStatus.NEEDS_INFO


def test_rejecting_asks_first_and_says_what_will_happen_then_rejects_once_confirmed(world):
    number = add_request(world, status=RequestStatus.IN_REVIEW)
    state = detail_page(world.staff, number)
    state.choose("reject")
    state.submit_action({"action": "reject", "text": "Duplicate of IMR-2026-000077."})
    assert request_status(number) == RequestStatus.IN_REVIEW
    assert state.confirm_title == f"Reject request {number}?"
    assert "Duplicate of IMR-2026-000077." in state.confirm_body
    assert "cannot be reopened" in state.confirm_body
    assert state.confirm_yes == "Yes, reject the request"
    state.keep_editing()
    assert state.confirm_title == "" and request_status(number) == RequestStatus.IN_REVIEW
    state.confirm_action()   # "No" forgot the question: nothing to confirm
    assert request_status(number) == RequestStatus.IN_REVIEW and "nothing to confirm" in state.problem
    state.submit_action({"action": "reject", "text": "Duplicate of IMR-2026-000077."})
    state.confirm_action()
    assert request_status(number) == RequestStatus.REJECTED
    assert state.done_message == ("Done. The request and its history below are up to date. The request "
                                  "is rejected; the supervisor is emailed your reason.")


def test_the_history_reads_as_sentences_without_codes(world):
    number = add_request(world, status=RequestStatus.IN_REVIEW)
    state = detail_page(world.staff, number)
    state.submit_action({"action": "ask_for_info", "text": "Which clinic will Nora work at?"})
    supervisor = detail_page(world.supervisor, number)
    history = [e["what"] for e in supervisor.timeline]
    assert "Stella Staffer asked: Which clinic will Nora work at?" in history
    shown = str(supervisor.timeline)
    assert "in_review" not in shown and "needs_info" not in shown and "→" not in shown
    asked = next(e for e in supervisor.timeline if e["what"].startswith("Stella Staffer asked"))
    assert asked["status"] == "Status now: Needs info"


# --- Bulk rejection asks first ---------------------------------------------------------------------


def _queue_with(world, number: str):
    state = state_for(StaffQueueState, world.staff, "/staff/queue?status=all")
    state.load()
    assert number in [r["number"] for r in state.rows]
    return state


def test_a_bulk_rejection_is_asked_first_and_only_yes_rejects_what_was_asked(world):
    expired = add_request(world, first="Eve", last="Expired", status=RequestStatus.EXPIRED)
    state = _queue_with(world, expired)
    state.bulk_action({f"pick_{expired}": "on", "bulk": "reject", "reason": "Lapsed long ago"})
    assert expired in state.bulk_confirm and "Lapsed long ago" in state.bulk_confirm
    assert "cannot be reopened" in state.bulk_confirm
    assert request_status(expired) == RequestStatus.EXPIRED     # asked, nothing done yet

    state.confirm_bulk_reject()
    assert request_status(expired) == RequestStatus.REJECTED
    assert state.bulk_confirm == "" and state.bulk_message == "1 of 1 selected request rejected."
    state.confirm_bulk_reject()                                 # a second "Yes" finds nothing to do
    assert state.bulk_problem.startswith("There is nothing to confirm")


def test_no_to_a_bulk_rejection_changes_nothing(world):
    expired = add_request(world, first="Eve", last="Expired", status=RequestStatus.EXPIRED)
    state = _queue_with(world, expired)
    state.bulk_action({f"pick_{expired}": "on", "bulk": "reject", "reason": "Lapsed"})
    state.keep_selection()
    assert state.bulk_confirm == ""
    state.confirm_bulk_reject()
    assert request_status(expired) == RequestStatus.EXPIRED


def test_a_bulk_rejection_without_a_reason_is_not_asked_and_says_what_is_missing(world):
    expired = add_request(world, first="Eve", last="Expired", status=RequestStatus.EXPIRED)
    state = _queue_with(world, expired)
    state.bulk_action({f"pick_{expired}": "on", "bulk": "reject", "reason": "   "})
    assert state.bulk_confirm == ""
    assert state.bulk_problem == "Write the reason the applicants' supervisors will read."
