"""Several people in one submission, on a real database: every row checked as the wizard checks
it, one request each in one transaction, one receipt, and a second submit that makes nothing more."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, AuditEvent, Invitation, OutboundEmail, Person
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.domain.validation import MAX_START_DAYS_PAST
from immtrax_portal.program_time import program_today
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.batch.check import (
    OPEN_REQUEST,
    PERMISSIONS_CHANGE,
    SAME_PERSON_TWICE,
    SWITCH,
    check_rows,
)
from immtrax_portal.services.batch.rows import PersonRow, parse_people_csv
from immtrax_portal.services.batch.submit import BatchRefused, submit_people
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.wizard.steps import REGISTRY
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

KEY = "batch-test-key-000000001"
START = (date.today() + timedelta(days=7)).isoformat()


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_world()


def person(n: int, **changes) -> PersonRow:
    fields = dict(
        first_name=f"Nurse{chr(65 + n)}",
        last_name="Newhire",
        email=f"nurse{n}@alpha.example",
        phone="406-555-0142",
        job_title="Nurse",
        start_date=START,
        access_level="Record Maintenance",
    )
    return PersonRow(**{**fields, **changes})


def sam(world):
    with session_scope() as session:
        return load_actor(session, world.sam)


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_pasted_rows_make_one_request_each_with_its_own_number_and_invitation_and_one_receipt(world):
    csv_text = "First name,Last name,Work email,Phone,Job title,Start date,Level\n" + "\n".join(
        f"Nurse{chr(65 + n)},Newhire,nurse{n}@alpha.example,406-555-0142,Nurse,{START},2" for n in range(3)
    )
    rows = parse_people_csv(csv_text)
    assert check_rows(sam(world), world.alpha, rows).ok
    made = submit_people(world.sam, world.alpha, rows, KEY)
    assert len({m.number for m in made}) == 3 and [m.person for m in made] == [
        "NurseA Newhire",
        "NurseB Newhire",
        "NurseC Newhire",
    ]
    with session_scope() as session:
        requests = session.exec(select(AccessRequest).order_by(AccessRequest.id)).all()
        assert {r.status for r in requests} == {RequestStatus.AWAITING_AGREEMENT}
        kinds = session.exec(select(OutboundEmail.kind, OutboundEmail.to_address)).all()
    assert count(Invitation) == 3
    assert [k for k, _ in kinds].count("invitation") == 3
    assert [(k, to) for k, to in kinds if k in ("receipt", "batch_receipt")] == [
        ("batch_receipt", "sam.supervisor@alpha.example")
    ]


def test_the_receipt_lists_every_request(world):
    made = submit_people(world.sam, world.alpha, [person(0), person(1)], KEY)
    with session_scope() as session:
        body = session.exec(
            select(OutboundEmail.body_text).where(OutboundEmail.kind == "batch_receipt")
        ).one()
    assert all(f"{m.number}: New Access for {m.person}" in body for m in made)


def test_an_uploaded_file_is_read_the_same_way(world):
    data = (
        "\ufeff"
        + "\r\n".join(
            f"Nurse{chr(65 + n)},Newhire,nurse{n}@alpha.example,406-555-0142,Nurse,{START},"
            "Read Only with Consent"
            for n in range(2)
        )
    ).encode("utf-8")
    rows = parse_people_csv(data)
    assert check_rows(sam(world), world.alpha, rows).ok
    assert len(submit_people(world.sam, world.alpha, rows, KEY)) == 2


@pytest.fixture
def program_day_not_utcs(monkeypatch):
    """A program zone whose calendar day is not UTC's at this moment (a day ahead or a day behind;
    between them the two zones cover every hour), so that a check reading the server's date
    instead of the program's gets a day wrong whenever the test runs."""
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Etc/GMT+12"
    monkeypatch.setenv("IMMTRAX_BUSINESS_TIME_ZONE", zone)
    get_settings.cache_clear()
    yield program_today()
    get_settings.cache_clear()   # monkeypatch puts the variable back after this


def test_a_start_date_is_checked_against_the_programs_day_not_the_servers(world, program_day_not_utcs):
    today = program_day_not_utcs
    assert today != datetime.now(UTC).date()
    earliest = today - timedelta(days=MAX_START_DAYS_PAST)
    checked = check_rows(sam(world), world.alpha, [
        person(0, start_date=earliest.isoformat()),
        person(1, start_date=(earliest - timedelta(days=1)).isoformat())])
    assert checked.rows[0].problems == {}
    assert set(checked.rows[1].problems) == {"start_date"}


def test_every_kind_of_bad_row_is_named_in_plain_words_per_row(world):
    open_number = submit_request(
        world.sam, new_access(world.alpha, email="pending@alpha.example"), "batch-open-request-key-01"
    ).number
    rows = [
        person(0),  # fine
        person(1, first_name="", email="not-an-email"),  # syntax
        person(2, start_date="2001-01-01", access_level="admin"),  # past date, unknown level
        person(3, email="sam.supervisor@alpha.example"),  # the supervisor themselves
        person(4, email="nurse0@alpha.example"),  # the same person twice
        person(5, email="dora.beta@beta.example"),  # access elsewhere
        person(6, email="ana.lopez@alpha.example"),  # access here already
        person(7, email="pending@alpha.example"),  # an open request
    ]
    checked = check_rows(sam(world), world.alpha, rows)
    assert not checked.ok and checked.wrong == 7
    by_row = [c.problems for c in checked.rows]
    assert by_row[0] == {}
    assert set(by_row[1]) == {"first_name", "email"}
    assert set(by_row[2]) == {"start_date", "access_level"}
    assert "your own access" in by_row[3]["email"]
    assert by_row[4] == {"email": SAME_PERSON_TWICE.format(row=1)}
    assert checked.rows[5].offer == SWITCH and checked.rows[5].suggested_type == "change_employer"
    assert "another organization" in by_row[5][REGISTRY] and "Beta" not in by_row[5][REGISTRY]
    assert checked.rows[6].offer == PERMISSIONS_CHANGE
    assert checked.rows[6].person_id == world.user("ana.lopez@alpha.example")
    assert checked.rows[7].offer == OPEN_REQUEST and checked.rows[7].open_request_number == open_number
    with session_scope() as session:
        lookups = session.exec(
            select(AuditEvent.target_id).where(AuditEvent.action == "batch.registry_lookup")
        ).all()
    assert sorted(lookups) == sorted(
        ["nurse0@alpha.example", "dora.beta@beta.example", "ana.lopez@alpha.example", "pending@alpha.example"]
    )


def test_nothing_is_submitted_while_a_row_is_wrong(world):
    before = count(AccessRequest)
    with pytest.raises(BatchRefused) as refused:
        submit_people(world.sam, world.alpha, [person(0), person(1, email="dora.beta@beta.example")], KEY)
    assert refused.value.row == 2
    assert count(AccessRequest) == before and count(Person, Person.email == "nurse0@alpha.example") == 0
    assert count(OutboundEmail) == 0


def test_a_row_that_becomes_a_change_employer_with_one_click_is_submitted_as_one(world):
    row = person(0, email="dora.beta@beta.example")
    (checked,) = check_rows(sam(world), world.alpha, [row]).rows
    switched = row.as_kind(checked.suggested_type)
    assert check_rows(sam(world), world.alpha, [switched]).ok
    (made,) = submit_people(world.sam, world.alpha, [switched], KEY)
    with session_scope() as session:
        request = session.exec(select(AccessRequest).where(AccessRequest.number == made.number)).one()
    assert (
        request.request_type == RequestType.CHANGE_EMPLOYER and request.former_organization_id == world.beta
    )


def test_submitting_twice_creates_nothing_more(world):
    first = submit_people(world.sam, world.alpha, [person(0), person(1)], KEY)
    again = submit_people(world.sam, world.alpha, [person(0), person(1)], KEY)
    assert (
        again == first
        and count(AccessRequest) == 2
        and count(OutboundEmail, OutboundEmail.kind == "batch_receipt") == 1
    )


def test_a_double_click_at_the_same_moment_creates_one_set(world):
    results, errors = [], []

    def submit():
        try:
            results.append(submit_people(world.sam, world.alpha, [person(0), person(1), person(2)], KEY))
        except Exception as failure:  # noqa: BLE001 - the test reports it
            errors.append(failure)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2 and results[0] == results[1]
    assert count(AccessRequest) == 3


def test_another_supervisors_key_is_not_theirs_to_see(world):
    submit_people(world.sam, world.alpha, [person(0)], KEY)
    with pytest.raises(NotAllowed):
        submit_people(world.tess, world.beta, [person(0)], KEY)


def test_an_organization_that_is_not_the_supervisors_is_refused(world):
    with pytest.raises(NotAllowed):
        check_rows(sam(world), world.beta, [person(0)])
    with pytest.raises(NotAllowed):
        submit_people(world.sam, world.beta, [person(0)], KEY)
    assert count(AccessRequest) == 0
