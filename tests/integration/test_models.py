"""The tables behave as the models promise, on a database built by the migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, func, select

from immtrax_portal.db import build_engine
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Grant, Organization, Person
from tests.support.databases import BACKENDS, fresh_database_url

MOUNTAIN_STANDARD = timezone(timedelta(hours=-7), "MST")


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url:
        engine = build_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def add(engine: sa.Engine, *rows) -> list:
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    return list(rows)


def count(engine: sa.Engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def person(email: str = "ana.lopez@example.org") -> Person:
    return Person(email=email, first_name="Ana", last_name="Lopez")


def organization(code: str = "MT0042") -> Organization:
    return Organization(name=f"Clinic {code}", code=code, city="Helena")


# --- Person email -------------------------------------------------------------------------------


def test_an_upper_case_email_violates_the_lower_case_check(engine):
    with pytest.raises(IntegrityError, match="ck_person_email_lowercase"):
        add(engine, person("Ana.Lopez@Example.org"))
    assert count(engine, Person) == 0


@pytest.mark.parametrize(
    "second_spelling",
    ["ana.lopez@example.org", "Ana.Lopez@Example.org", "ANA.LOPEZ@EXAMPLE.ORG"],
)
def test_two_spellings_of_the_same_email_cannot_coexist(engine, second_spelling):
    add(engine, person("ana.lopez@example.org"))
    with pytest.raises(IntegrityError):
        add(engine, person(second_spelling))
    with pytest.raises(IntegrityError):
        add(engine, person(second_spelling.lower()))
    assert count(engine, Person) == 1


def test_different_people_keep_different_emails(engine):
    add(engine, person("ana.lopez@example.org"), person("ben.ortiz@example.org"))
    assert count(engine, Person) == 2


# --- Timestamps ---------------------------------------------------------------------------------


def test_timestamps_come_back_as_aware_utc_datetimes(engine):
    local = datetime(2026, 3, 2, 8, 30, tzinfo=MOUNTAIN_STANDARD)
    [org] = add(engine, Organization(name="Clinic", code="MT0001", created_at=local))

    with Session(engine) as session:
        stored = session.get(Organization, org.id).created_at
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def test_a_request_round_trips_every_timestamp_and_leaves_completed_at_empty(engine):
    [org] = add(engine, organization())
    [supervisor, applicant] = add(engine, person("sup@example.org"), person("app@example.org"))
    created = datetime(2026, 4, 1, 16, 0, 0, 123456, tzinfo=UTC)
    [request] = add(
        engine,
        AccessRequest(
            number="IMR-2026-000001",
            request_type=RequestType.NEW_ACCESS,
            status=RequestStatus.SUBMITTED,
            organization_id=org.id,
            submitter_id=supervisor.id,
            subject_person_id=applicant.id,
            access_level=AccessLevel.RECORD_MAINTENANCE,
            idempotency_key="k",
            created_at=created,
            updated_at=created,
            status_changed_at=created,
        ),
    )
    with Session(engine) as session:
        stored = session.get(AccessRequest, request.id)
        assert (stored.created_at, stored.updated_at, stored.status_changed_at) == (created,) * 3
        assert all(
            ts.utcoffset() == timedelta(0)
            for ts in (stored.created_at, stored.updated_at, stored.status_changed_at)
        )
        assert stored.completed_at is None
        assert stored.request_type is RequestType.NEW_ACCESS
        assert stored.status is RequestStatus.SUBMITTED
        assert stored.access_level is AccessLevel.RECORD_MAINTENANCE


def test_a_naive_datetime_is_refused(engine):
    with pytest.raises(StatementError, match="naive datetime refused"):
        add(engine, Organization(name="Clinic", code="MT0001", created_at=datetime(2026, 3, 2)))
    assert count(engine, Organization) == 0


# --- SQLite connection settings -----------------------------------------------------------------


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url:
        engine = build_engine(url)
        try:
            for _ in range(2):  # a fresh connection each time, not just the first one
                with engine.connect() as connection:
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                engine.dispose()
        finally:
            engine.dispose()


def test_a_row_pointing_at_a_missing_person_is_refused(engine):
    [org] = add(engine, organization())
    with pytest.raises(IntegrityError):
        add(
            engine,
            Grant(
                person_id=999, organization_id=org.id, access_level=AccessLevel.READ_ONLY_CONSENT
            ),
        )
    assert count(engine, Grant) == 0


# --- Grants -------------------------------------------------------------------------------------


def test_a_grant_is_unique_per_person_and_organization(engine):
    [ana] = add(engine, person())
    [helena, billings] = add(engine, organization("MT0001"), organization("MT0002"))
    add(
        engine,
        Grant(
            person_id=ana.id,
            organization_id=helena.id,
            access_level=AccessLevel.READ_ONLY_CONSENT,
            active=False,
        ),
    )

    # Even an inactive grant is the one row for that pair: a change updates it, never adds one.
    with pytest.raises(IntegrityError):
        add(
            engine,
            Grant(
                person_id=ana.id,
                organization_id=helena.id,
                access_level=AccessLevel.VACCINE_MANAGEMENT,
            ),
        )

    add(
        engine,
        Grant(
            person_id=ana.id,
            organization_id=billings.id,
            access_level=AccessLevel.VACCINE_MANAGEMENT,
        ),
    )
    assert count(engine, Grant) == 2
