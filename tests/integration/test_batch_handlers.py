"""The several-people page's and the backups page's handlers, called as a client would call them:
the caller re-derived from the cookie, refusals recorded once, the table typed, pasted and checked."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AccessRequest, AuditEvent, Delegation, Person, SupervisorLink
from immtrax_portal.program_time import program_today
from immtrax_portal.ui.state.backups import BackupsState
from immtrax_portal.ui.state.batch import BatchState
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.session import SessionState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import cookie_for, run, state_as, use_cookie
from tests.support.wizard_world import build_world

START = (date.today() + timedelta(days=7)).isoformat()
LINE = "{first},Newhire,{email},406-555-0142,Nurse," + START + ",Record Maintenance"


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        w = build_world()
        with session_scope() as session:
            rita = Person(email="rita.relief@alpha.example", first_name="Rita", last_name="Relief")
            session.add(rita)
            session.flush()
            session.add(SupervisorLink(person_id=rita.id, organization_id=w.alpha))
            w.users["rita"] = rita.id
        yield w


def batch(person_id: int | None) -> BatchState:
    state = state_as(BatchState, person_id, path="/requests/new/several")
    run(state.open_page())
    return state


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def denials() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent.action).where(AuditEvent.outcome == AuditOutcome.DENIED)))


def table_form(*people: dict) -> dict:
    return {f"r{i + 1}.{name}": value for i, person in enumerate(people) for name, value in person.items()}


def nurse(n: int, **changes) -> dict:
    return {
        "first_name": f"Nurse{chr(65 + n)}",
        "last_name": "Newhire",
        "email": f"nurse{n}@alpha.example",
        "phone": "406-555-0142",
        "job_title": "Nurse",
        "start_date": START,
        "access_level": "record_maintenance",
        **changes,
    }


BATCH_CALLS = {
    "open_page": (),
    "choose_organization": ("1",),
    "set_cell": (0, "first_name", "Nora"),
    "add_row": (),
    "remove_row": (0,),
    "check": ({},),
    "paste": ({"pasted": "x"},),
    "upload_file": ([],),
    "switch_row": (0,),
    "submit": (),
    "start_over": (),
}


def test_the_list_of_calls_is_every_handler_of_the_page():
    assert set(BATCH_CALLS) == set(BatchState.event_handlers) - set(BrowserGateState.event_handlers)


@pytest.mark.parametrize("caller", ["signed out", "not a supervisor"])
@pytest.mark.parametrize("handler", sorted(BATCH_CALLS))
def test_every_refused_call_leaves_exactly_one_denial(world, caller, handler):
    state = state_as(BatchState, None if caller == "signed out" else world.user("ana.lopez@alpha.example"))
    before = len(denials())
    result = getattr(state, handler)(*BATCH_CALLS[handler])
    if asyncio.iscoroutine(result):
        asyncio.run(result)
    else:
        run(result)
    assert len(denials()) == before + 1


def test_typed_rows_are_checked_then_submitted_once_with_a_receipt(world):
    state = batch(world.sam)
    assert state.organization_id == str(world.alpha) and state.row_count == 3
    run(state.check(table_form(nurse(0), nurse(1), {})))
    assert state.ready and state.row_count == 2 and state.summary == []
    run(state.submit())
    assert [r["person"] for r in state.receipt] == ["NurseA Newhire", "NurseB Newhire"]
    run(state.submit())  # a second click
    assert count(AccessRequest) == 2


def test_a_wrong_row_is_shown_at_its_cell_and_in_the_summary_and_nothing_is_submitted(world):
    state = batch(world.sam)
    run(state.check(table_form(nurse(0), nurse(1, email="nope", start_date="2001-01-01"))))
    assert not state.ready and state.wrong == 1
    second = state.rows[1]
    assert second["e_email"] and second["e_start_date"] and second["state"] == "wrong"
    assert [line["target"] for line in state.summary] == ["batch-r2-email", "batch-r2-start-date"]
    run(state.submit())
    assert count(AccessRequest) == 0 and "Check the people first" in state.notice


def test_someone_with_access_elsewhere_becomes_a_change_employer_with_one_click(world):
    state = batch(world.sam)
    run(state.check(table_form(nurse(0, email="dora.beta@beta.example"))))
    assert state.rows[0]["offer"] == "switch" and "Change Employer" in state.rows[0]["offer_label"]
    run(state.switch_row("0"))
    assert state.ready and state.rows[0]["type_label"] == "Change Employer"


def test_someone_already_here_is_offered_a_permissions_change(world):
    state = batch(world.sam)
    run(state.check(table_form(nurse(0, email="ana.lopez@alpha.example"))))
    assert state.rows[0]["change_link"].startswith("/requests/new?type=permissions_change")


def test_pasted_rows_fill_the_table_and_are_checked_at_once(world):
    state = batch(world.sam)
    text = "\n".join(
        LINE.format(first=f"Nurse{chr(65 + n)}", email=f"nurse{n}@alpha.example") for n in range(4)
    )
    run(state.paste({"pasted": text}))
    assert state.row_count == 4 and state.ready


def test_a_paste_that_cannot_be_read_says_why_and_keeps_the_table(world):
    state = batch(world.sam)
    run(state.paste({"pasted": "\n".join(["a,b"] * 30)}))
    assert "at most 25" in state.paste_error and state.row_count == 3


def test_an_edit_after_a_check_asks_for_another_check(world):
    state = batch(world.sam)
    run(state.check(table_form(nurse(0))))
    assert state.ready
    run(state.set_cell("0", "email", "other@alpha.example"))
    assert not state.ready
    run(state.submit())
    assert count(AccessRequest) == 0


def test_rows_stop_at_twenty_five(world):
    state = batch(world.sam)
    for _ in range(30):
        run(state.add_row())
    assert state.row_count == 25 and "at most 25" in state.notice


def test_another_organization_is_refused_and_recorded(world):
    state = batch(world.sam)
    run(state.choose_organization(str(world.beta)))
    assert state.organization_id == str(world.alpha) and denials() == ["batch.choose_organization"]


def test_another_person_in_the_same_tab_gets_a_sheet_of_their_own(world):
    state = batch(world.sam)
    run(state.check(table_form(nurse(0))))
    use_cookie(state, cookie_for(world.users["rita"]))
    run(state.open_page())
    assert state.rows[0]["email"] == "" and not state.ready


# --- Backups -------------------------------------------------------------------------------------

BACKUP_CALLS = {"load": (), "save": ({},), "end": ("1",)}


def test_the_backup_calls_are_every_handler_of_the_page():
    assert set(BACKUP_CALLS) == set(BackupsState.event_handlers) - set(SessionState.event_handlers)


@pytest.mark.parametrize("handler", sorted(BACKUP_CALLS))
def test_a_backup_handler_refuses_people_who_supervise_nothing_once(world, handler):
    state = state_as(BackupsState, world.user("ana.lopez@alpha.example"))
    run(getattr(state, handler)(*BACKUP_CALLS[handler]))
    assert len(denials()) == 1


def test_a_supervisor_names_a_backup_and_ends_it(world):
    state = state_as(BackupsState, world.sam, path="/backups")
    run(state.load())
    assert [c["label"] for c in state.choices] == ["Rita Relief"]
    today = program_today()
    run(
        state.save(
            {
                "backup": state.choices[0]["value"],
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=3)).isoformat(),
            }
        )
    )
    assert state.errors == {} and [r["who"] for r in state.named] == ["Rita Relief"]
    assert state.named[0]["state"] == "In force now"
    run(state.end(state.named[0]["id"]))
    assert state.named == [] and count(Delegation, Delegation.ended_at.is_not(None)) == 1


def test_a_wrong_form_is_shown_at_its_field(world):
    state = state_as(BackupsState, world.sam, path="/backups")
    run(state.load())
    run(state.save({"backup": state.choices[0]["value"], "starts_on": "2001-01-01", "ends_on": "2001-01-02"}))
    assert "past" in state.errors["starts_on"] and count(Delegation) == 0
    run(state.save({"backup": f"{world.beta}:{world.tess}", "starts_on": START, "ends_on": START}))
    assert count(Delegation) == 0 and denials() == ["backups.save"]


def test_someone_elses_backup_cannot_be_ended(world):
    with session_scope() as session:
        row = Delegation(
            kind="supervisor",
            delegator_id=world.users["rita"],
            delegate_id=world.sam,
            organization_id=world.alpha,
            starts_on=date.today(),
            ends_on=date.today(),
        )
        session.add(row)
        session.flush()
        row_id = row.id
    state = state_as(BackupsState, world.tess, path="/backups")
    run(state.end(str(row_id)))
    assert denials() == ["backups.end"] and count(Delegation, Delegation.ended_at.is_(None)) == 1
