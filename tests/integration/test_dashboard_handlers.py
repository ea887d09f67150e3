"""The dashboard's event handlers called directly, as any client could call them, with a real
session cookie: supervisors see only their organizations, applicants only their own requests, and
every action is re-checked on the server."""

from __future__ import annotations

import json

import pytest
import reflex as rx
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, AuditOutcome, RequestStatus
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    AgreementVersion,
    AuditEvent,
    Invitation,
    OutboundEmail,
    Person,
)
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import dashboards
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from immtrax_portal.ui.state.dashboard import DashboardState
from tests.integration.test_wizard_handlers import cookie_for, use_cookie
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import actor, add_staff_member, build_world, new_access, permissions_change


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world(extra_alpha_users=23)
        add_staff_member(world)
        ana = world.user("ana.lopez@alpha.example")
        world.users["alpha_request"] = submit_request(
            world.sam, permissions_change(world.alpha, ana), "dashboard-key-alpha-0001").id
        world.users["beta_request"] = submit_request(
            world.tess, new_access(world.beta, "bea.newhire@beta.example"), "dashboard-key-beta-00001").id
        world.users["alpha_invite"] = submit_request(
            world.sam, new_access(world.alpha, "nora.newhire@alpha.example"), "dashboard-key-alpha-0002").id
        yield world



def number_of(request_id: int) -> str:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).number


def status_of(request_id: int) -> RequestStatus:
    with session_scope() as session:
        return session.get(AccessRequest, request_id).status


def dashboard(person_id: int | None) -> DashboardState:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(DashboardState.get_full_name().split(".")[1:])
    use_cookie(state, cookie_for(person_id) if person_id else "")
    return state


def loaded(person_id: int) -> DashboardState:
    state = dashboard(person_id)
    event = state.load()
    assert "watch_live" in str(event), "the dashboard did not start its live updates"
    return state


def sent_to_browser(state: DashboardState) -> str:
    return json.dumps(state._get_root_state().dict(), default=str)


def denials() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)))


# --- What each person sees ------------------------------------------------------------------------


def test_supervisor_cannot_see_other_org_requests_or_roster(world):
    state = loaded(world.sam)
    numbers = {row["number"] for row in state.org_rows}
    assert numbers == {number_of(world.user("alpha_request")), number_of(world.user("alpha_invite"))}
    assert [group["name"] for group in state.rosters] == ["Alpha Clinic"]
    sent = sent_to_browser(state)
    assert number_of(world.user("beta_request")) not in sent
    assert "dora.beta@beta.example" not in sent and "Beta Health" not in sent


def test_an_applicant_sees_only_requests_about_themselves(world):
    nora = loaded_applicant(world, "nora.newhire@alpha.example")
    assert [row["number"] for row in nora.my_rows] == [number_of(world.user("alpha_invite"))]
    assert nora.org_rows == [] and nora.rosters == []
    sent = sent_to_browser(nora)
    assert number_of(world.user("alpha_request")) not in sent
    assert number_of(world.user("beta_request")) not in sent


def loaded_applicant(world, email: str) -> DashboardState:
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
    return loaded(person.id)


def test_the_tracker_says_whom_a_request_waits_on_and_since_when_in_mountain_time(world):
    state = loaded(world.sam)
    rows = {row["number"]: row for row in state.org_rows}
    invite = rows[number_of(world.user("alpha_invite"))]
    assert invite["waiting_on"] == "applicant"
    assert invite["waiting_text"].startswith("Waiting on the applicant")
    assert invite["since"].endswith(("MST", "MDT"))
    assert [s["state"] for s in invite["stages"]] == ["done", "current", "todo", "todo"]
    review = rows[number_of(world.user("alpha_request"))]
    assert review["waiting_on"] == "program"
    assert [s["label"] for s in review["stages"]] == ["Submitted", "Program review", "Complete"]


def test_the_applicant_is_told_where_the_invitation_went_and_that_the_supervisor_can_resend(world):
    nora = loaded_applicant(world, "nora.newhire@alpha.example")
    row = nora.my_rows[0]
    assert row["waiting_text"] == "Waiting on you: sign the User Agreement"
    assert "n•••@alpha.example" in row["invitation_note"]
    assert "nora.newhire@alpha.example" not in sent_to_browser(nora)
    assert "ask your supervisor to resend it" in row["invitation_note"]
    assert not row["can_resend"] and not row["can_cancel"]


def test_the_roster_is_paginated_per_organization_with_level_and_agreement_date(world):
    state = loaded(world.sam)
    alpha = state.rosters[0]
    assert alpha["total"] == 25 and alpha["pages"] == 2 and len(alpha["rows"]) == 20
    ana = next(r for r in alpha["rows"] if r["email"] == "ana.lopez@alpha.example")
    assert ana["level"] == AccessLevel.RECORD_MAINTENANCE.label
    assert ana["agreement_signed"] == "Not on file"
    state.turn_roster_page(str(world.alpha), 1)
    assert state.rosters[0]["page"] == 2 and len(state.rosters[0]["rows"]) == 5


def test_the_roster_shows_when_the_agreement_was_signed(world):
    ana = world.user("ana.lopez@alpha.example")
    with session_scope() as session:
        version = AgreementVersion(label="v1", title="Agreement", body="text", text_hash="h")
        session.add(version)
        session.flush()
        invitation = Invitation(request_id=world.user("alpha_request"), token_hash="x" * 64,
                                email="ana.lopez@alpha.example",
                                expires_at=session.get(AccessRequest, world.user("alpha_request")).created_at)
        session.add(invitation)
        session.flush()
        session.add(AgreementSignature(request_id=world.user("alpha_request"), invitation_id=invitation.id,
                                       person_id=ana, agreement_version_id=version.id, text_hash="h",
                                       typed_name="Ana Lopez", acknowledgements="[]", okta_subject="s",
                                       ip_address="", user_agent=""))
    rows = dashboards.roster_page(actor(world.sam), world.alpha).rows
    signed = next(r for r in rows if r["email"] == "ana.lopez@alpha.example")["agreement_signed"]
    assert signed != "Not on file" and "20" in signed


def test_a_supervisor_cannot_page_through_another_organizations_roster(world):
    state = loaded(world.sam)
    state.turn_roster_page(str(world.beta), 1)
    assert "not registered as a supervisor" in state.error
    assert "dora.beta@beta.example" not in sent_to_browser(state)
    assert [d.action for d in denials()] == ["dashboard.turn_roster_page"]


def test_the_roster_service_refuses_a_foreign_organization(world):
    from immtrax_portal.domain.permissions import NotAllowed

    with pytest.raises(NotAllowed):
        dashboards.roster_page(actor(world.sam), world.beta)


# --- Acting from the dashboard --------------------------------------------------------------------


def test_a_supervisor_cancels_their_own_request_after_confirming(world):
    state = loaded(world.sam)
    number = number_of(world.user("alpha_request"))
    state.ask_cancel(number)
    assert state.confirm_cancel_number == number
    assert status_of(world.user("alpha_request")) == RequestStatus.SUBMITTED
    state.confirm_cancel()
    assert status_of(world.user("alpha_request")) == RequestStatus.CANCELLED
    assert "cancelled" in state.message
    assert number not in {r["number"] for r in state.org_rows}   # no longer "In progress"
    row = next(r for r in state.closed_rows if r["number"] == number)
    assert row["status"] == "cancelled" and not row["can_cancel"]


def test_cancelling_a_request_of_another_organization_is_refused_and_recorded(world):
    state = loaded(world.sam)
    state.ask_cancel(number_of(world.user("beta_request")))
    assert state.confirm_cancel_number == ""
    # Even with the confirmation forced into state, the server refuses.
    state.confirm_cancel_number = number_of(world.user("beta_request"))
    state.confirm_cancel()
    assert status_of(world.user("beta_request")) == RequestStatus.AWAITING_AGREEMENT
    assert {d.action for d in denials()} == {"dashboard.ask_cancel", "dashboard.cancel"}


def test_a_replayed_tab_of_another_supervisor_cannot_act_on_what_it_shows(world):
    """Tess presents Sam's tab token: the cookie decides, and Tess supervises Beta only."""
    state = loaded(world.sam)
    before = mails_about(world.user("alpha_invite"))
    use_cookie(state, cookie_for(world.tess))
    state.resend(number_of(world.user("alpha_invite")))
    assert "not registered as a supervisor" in state.error
    assert mails_about(world.user("alpha_invite")) == before
    assert "Alpha Clinic" not in json.dumps(state.rosters)


def mails_about(request_id: int) -> int:
    with session_scope() as session:
        return len(session.exec(select(OutboundEmail).where(OutboundEmail.request_id == request_id)).all())


def test_a_supervisor_resends_an_invitation_from_the_dashboard(world):
    state = loaded(world.sam)
    number = number_of(world.user("alpha_invite"))
    before = mails_about(world.user("alpha_invite"))
    state.resend(number)
    assert "new invitation" in state.message, state.error
    with session_scope() as session:
        open_links = session.exec(select(Invitation).where(
            Invitation.request_id == world.user("alpha_invite"),
            Invitation.revoked_at.is_(None))).all()
    assert len(open_links) == 1 and mails_about(world.user("alpha_invite")) == before + 1


def test_an_action_on_a_request_that_changed_meanwhile_is_refused_with_a_reason(world):
    state = loaded(world.sam)
    request_id = world.user("alpha_request")
    number = number_of(request_id)
    with session_scope() as session:
        version = session.get(AccessRequest, request_id).version
    staff = actor(world.user("staff"))
    act_on_request(staff, request_id, ActionInput(Action.QUEUE_FOR_REVIEW, version))
    act_on_request(staff, request_id, ActionInput(Action.ASK_FOR_INFO, version + 1,
                                                  reason="Which clinic room?"))
    state.ask_cancel(number)
    state.confirm_cancel()
    assert "changed" in state.error
    assert status_of(request_id) == RequestStatus.NEEDS_INFO
    entry = next(r for r in state.needs_rows if r["number"] == number)   # now "Needs you"
    assert entry["question"] == "Which clinic room?" and entry["can_answer"]
    assert entry["kind"] == "question"


def test_someone_signed_out_gets_nothing(world):
    state = dashboard(None)
    event = state.load()
    assert "sign-in" in str(event)
    assert state.org_rows == [] and state.my_rows == [] and state.rosters == []
    state.resend(number_of(world.user("alpha_invite")))
    assert "Sign in again" in state.error


def test_the_staff_queue_says_a_question_waits_on_the_supervisor_not_on_staff(world):
    request_id = world.user("alpha_request")
    with session_scope() as session:
        version = session.get(AccessRequest, request_id).version
    staff = actor(world.user("staff"))
    act_on_request(staff, request_id, ActionInput(Action.QUEUE_FOR_REVIEW, version))
    act_on_request(staff, request_id, ActionInput(Action.ASK_FOR_INFO, version + 1, reason="Which room?"))
    state = loaded(world.user("staff"))
    row = next(r for r in state.queue_rows if r["number"] == number_of(request_id))
    assert row["waiting_on"] == "the supervisor"



# --- A page turn re-reads only the list it turns ----------------------------------------------------


def statements_of(call) -> list[str]:
    from sqlalchemy import event as sa_event

    from immtrax_portal.db import get_engine

    sent: list[str] = []

    def note(_conn, _cursor, statement, *_rest) -> None:
        sent.append(statement)

    sa_event.listen(get_engine(), "before_cursor_execute", note)
    try:
        call()
    finally:
        sa_event.remove(get_engine(), "before_cursor_execute", note)
    return sent


def test_turning_a_page_of_one_list_reads_that_list_and_not_the_rest_of_the_dashboard(world):
    state = loaded(world.sam)
    everything = statements_of(state.load)
    for turn in (state.next_my_page, state.next_org_page, lambda: state.turn_closed_page(1)):
        read = statements_of(turn)
        assert not any("access_grant" in sql for sql in read), "the rosters were read again"
        assert len(read) <= len(everything) / 2, f"{len(read)} of the load's {len(everything)} statements"
    roster = statements_of(lambda: state.turn_roster_page(str(world.alpha), 1))
    assert sum("FROM access_grant" in sql for sql in roster) >= 1 and len(roster) < len(everything) / 2
    assert state.rosters[0]["page"] == 2 and state.org_rows == loaded(world.sam).org_rows
