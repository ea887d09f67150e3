"""Submitting a request: every registry rule, validation, permissions, idempotency, atomicity.

Runs on a migrated SQLite database and, where it answers, on PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    Invitation,
    Organization,
    OutboundEmail,
    Person,
    SupervisorLink,
)
from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.services import emails as email_catalog
from immtrax_portal.services.request_detail import request_detail
from immtrax_portal.services.requests import SubmissionRefused, submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import access_deletion, build_world, in_days, new_access, permissions_change

KEY = "wizard-test-key-0000000001"


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_world()


def count(model, *where) -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def everything_counted() -> dict[str, int]:
    return {model.__name__: count(model)
            for model in (AccessRequest, AuditEvent, OutboundEmail, Invitation, Person)}


def key(n: int) -> str:
    return f"wizard-test-key-{n:010d}"


# --- The happy paths ------------------------------------------------------------------------------


def test_a_new_access_request_waits_for_the_agreement_with_its_emails(world):
    request = submit_request(world.sam, new_access(world.alpha), KEY, source_ip="198.51.100.7")
    assert request.number.startswith(f"IMR-{date.today().year}-")
    assert request.status == RequestStatus.AWAITING_AGREEMENT
    assert request.access_level == AccessLevel.RECORD_MAINTENANCE
    with session_scope() as session:
        subject = session.get(Person, request.subject_person_id)
        kinds = sorted(e.kind for e in session.exec(select(OutboundEmail)))
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "submit")).one()
    assert (subject.first_name, subject.last_name, subject.phone) == ("Nora", "Newhire", "(406) 555-0142")
    assert kinds == ["invitation", "receipt"]
    assert audit.request_id == request.id and audit.source_ip == "198.51.100.7"
    assert count(Invitation) == 1


def test_a_change_employer_request_remembers_the_former_organization(world):
    draft = new_access(world.alpha, "dora.beta@beta.example", request_type=RequestType.CHANGE_EMPLOYER,
                       first_name="Dora", last_name="Beta")
    request = submit_request(world.sam, draft, KEY)
    assert request.former_organization_id == world.beta
    assert request.status == RequestStatus.AWAITING_AGREEMENT


def test_the_submitting_supervisor_is_not_told_the_former_organization_but_staff_and_the_person_are(world):
    draft = new_access(world.alpha, "dora.beta@beta.example", request_type=RequestType.CHANGE_EMPLOYER,
                       first_name="Dora", last_name="Beta")
    request = submit_request(world.sam, draft, KEY)
    sam = Actor(world.sam, "sam.supervisor@alpha.example", supervised_org_ids=frozenset({world.alpha}))
    staff = Actor(9999, "staff@program.example", is_staff=True)
    dora = Actor(world.user("dora.beta@beta.example"), "dora.beta@beta.example")

    def shown_to(actor: Actor) -> dict[str, str]:
        return {f["label"]: f["value"] for f in request_detail(actor, request.number).fields}

    assert "Former organization" not in shown_to(sam)
    assert "Beta Health" not in str(shown_to(sam))
    assert shown_to(staff)["Former organization"] == "Beta Health"
    assert shown_to(dora)["Former organization"] == "Beta Health"


def test_a_permissions_change_waits_for_staff_without_an_agreement(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, permissions_change(world.alpha, ana), KEY)
    assert request.status == RequestStatus.SUBMITTED
    assert request.access_level == AccessLevel.VACCINE_MANAGEMENT
    assert count(Invitation) == 0
    assert count(OutboundEmail) == 1  # the supervisor's receipt


def test_an_access_deletion_deactivates_the_grant_at_once(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, access_deletion(world.alpha, ana), KEY)
    assert request.status == RequestStatus.SUBMITTED
    assert request.reason == "Left employment"
    with session_scope() as session:
        grant = session.exec(select(Grant).where(Grant.person_id == ana)).one()
        suspended = session.exec(select(AuditEvent).where(AuditEvent.action == "suspend_grant")).one()
    assert grant.active is False and grant.until is not None
    assert suspended.request_id == request.id


def deactivate(organization_id: int) -> None:
    with session_scope() as session:
        organization = session.get(Organization, organization_id)
        organization.active = False
        session.add(organization)


def test_an_inactive_organization_takes_only_access_deletions(world):
    deactivate(world.alpha)
    before = everything_counted()
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, new_access(world.alpha), KEY)
    assert "no longer active" in refused.value.message
    assert "organization_id" in refused.value.problems
    assert everything_counted() == before
    ana = world.user("ana.lopez@alpha.example")
    deletion = submit_request(world.sam, access_deletion(world.alpha, ana), key(2))
    assert deletion.status == RequestStatus.SUBMITTED


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "nora@@alpha.example"}, "email"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "+44 20 7946 0958"}, "phone"),
    ({"first_name": "N0ra"}, "first_name"),
    ({"last_name": ""}, "last_name"),
    ({"job_title": "   "}, "job_title"),
    ({"start_date": in_days(-31)}, "start_date"),
    ({"start_date": "2026-02-30"}, "start_date"),
    ({"access_level": "superuser"}, "access_level"),
])
def test_a_new_person_with_a_wrong_field_is_refused_and_changes_nothing(world, changes, field):
    before = everything_counted()
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, new_access(world.alpha, **changes), KEY)
    assert field in refused.value.problems
    assert everything_counted() == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"last_day": in_days(91)}, "last_day"),
    ({"last_day": ""}, "last_day"),
    ({"deletion_reason": "fired"}, "deletion_reason"),
    ({"subject_person_id": None}, "subject_person_id"),
])
def test_a_deletion_with_a_wrong_field_is_refused_and_keeps_the_grant(world, changes, field):
    ana = world.user("ana.lopez@alpha.example")
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, access_deletion(world.alpha, ana, **changes), KEY)
    assert field in refused.value.problems
    assert count(AccessRequest) == 0
    assert count(Grant, Grant.person_id == ana, Grant.active) == 1


def test_the_date_limits_are_inclusive(world):
    submit_request(world.sam, new_access(world.alpha, start_date=in_days(-30)), key(1))
    submit_request(world.sam, access_deletion(world.alpha, world.user("ben.ortiz@alpha.example"),
                                              last_day=in_days(90)), key(2))
    assert count(AccessRequest) == 2


def test_a_permissions_change_needs_a_reason_and_a_different_level(world):
    ana = world.user("ana.lopez@alpha.example")
    with pytest.raises(SubmissionRefused) as no_reason:
        submit_request(world.sam, permissions_change(world.alpha, ana, note=""), key(1))
    assert "note" in no_reason.value.problems
    with pytest.raises(SubmissionRefused) as same_level:
        same = permissions_change(world.alpha, ana, AccessLevel.RECORD_MAINTENANCE)
        submit_request(world.sam, same, key(2))
    assert "access_level" in same_level.value.problems
    assert count(AccessRequest) == 0


# --- The registry ---------------------------------------------------------------------------------


def test_new_access_for_someone_with_access_elsewhere_is_a_change_employer(world):
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, new_access(world.alpha, "Dora.Beta@Beta.example"), KEY)
    assert refused.value.advice.suggested_type == RequestType.CHANGE_EMPLOYER
    assert "another organization" in refused.value.advice.message
    assert "Beta Health" not in refused.value.advice.message  # the registry does not name employers
    assert count(AccessRequest) == 0


def test_new_access_for_someone_with_access_here_is_a_permissions_change(world):
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, new_access(world.alpha, "ana.lopez@alpha.example"), KEY)
    assert refused.value.advice.suggested_type == RequestType.PERMISSIONS_CHANGE
    assert count(AccessRequest) == 0


def test_change_employer_for_someone_without_access_elsewhere_is_a_new_access(world):
    draft = new_access(world.alpha, request_type=RequestType.CHANGE_EMPLOYER)
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, draft, KEY)
    assert refused.value.advice.suggested_type == RequestType.NEW_ACCESS


def test_an_open_request_for_the_same_person_and_organization_is_refused_with_its_number(world):
    first = submit_request(world.sam, new_access(world.alpha), key(1))
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, new_access(world.alpha), key(2))
    assert refused.value.advice.open_request_number == first.number
    assert count(AccessRequest) == 1


def test_an_open_roster_request_blocks_another_for_the_same_user(world):
    ana = world.user("ana.lopez@alpha.example")
    first = submit_request(world.sam, permissions_change(world.alpha, ana), key(1))
    with pytest.raises(SubmissionRefused) as refused:
        submit_request(world.sam, permissions_change(world.alpha, ana, AccessLevel.READ_ONLY_CONSENT), key(2))
    assert refused.value.advice.open_request_number == first.number


def test_a_roster_request_about_someone_from_another_organization_is_refused(world):
    with pytest.raises(SubmissionRefused):
        submit_request(world.sam, access_deletion(world.alpha, world.user("dora.beta@beta.example")), KEY)
    assert count(Grant, Grant.active) == 3


# --- Who may submit -------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["sam.supervisor@alpha.example", "  SAM.Supervisor@Alpha.example "])
def test_a_supervisor_cannot_request_new_access_for_themselves(world, email):
    with pytest.raises(NotAllowed):
        submit_request(world.sam, new_access(world.alpha, email), KEY)
    assert count(AccessRequest) == 0


def test_a_supervisor_cannot_change_or_delete_their_own_access(world):
    with session_scope() as session:
        session.add(Grant(person_id=world.sam, organization_id=world.alpha,
                          access_level=AccessLevel.READ_ONLY_CONSENT))
    with pytest.raises(NotAllowed):
        submit_request(world.sam, permissions_change(world.alpha, world.sam), key(1))
    with pytest.raises(NotAllowed):
        submit_request(world.sam, access_deletion(world.alpha, world.sam), key(2))
    assert count(AccessRequest) == 0
    assert count(Grant, Grant.person_id == world.sam, Grant.active) == 1


@pytest.mark.parametrize("draft_for", [
    lambda w: new_access(w.beta, "someone@beta.example"),
    lambda w: access_deletion(w.beta, w.user("dora.beta@beta.example")),
])
def test_a_supervisor_of_one_organization_cannot_submit_for_another(world, draft_for):
    before = everything_counted()
    with pytest.raises(NotAllowed):
        submit_request(world.sam, draft_for(world), KEY)
    assert everything_counted() == before
    assert count(Grant, Grant.active) == 3


def test_someone_who_supervises_nothing_cannot_submit(world):
    ana = world.user("ana.lopez@alpha.example")
    with pytest.raises(NotAllowed):
        submit_request(ana, new_access(world.alpha), KEY)
    assert count(AccessRequest) == 0


def test_a_supervisor_removed_since_the_form_was_opened_cannot_submit(world):
    with session_scope() as session:
        link = session.exec(select(SupervisorLink).where(SupervisorLink.person_id == world.sam)).one()
        session.delete(link)
    with pytest.raises(NotAllowed):
        submit_request(world.sam, new_access(world.alpha), KEY)


# --- Nothing doubled ------------------------------------------------------------------------------


def test_submitting_the_same_key_twice_returns_the_one_request(world):
    first = submit_request(world.sam, new_access(world.alpha), KEY)
    emails = count(OutboundEmail)
    again = submit_request(world.sam, new_access(world.alpha), KEY)
    assert again.id == first.id and again.number == first.number
    assert count(AccessRequest) == 1
    assert count(OutboundEmail) == emails == 2


def test_another_persons_key_is_refused(world):
    submit_request(world.sam, new_access(world.alpha), KEY)
    with pytest.raises(NotAllowed):
        submit_request(world.tess, new_access(world.beta, "x.y@beta.example"), KEY)


def test_a_missing_or_short_key_is_refused(world):
    with pytest.raises(SubmissionRefused):
        submit_request(world.sam, new_access(world.alpha), "short")
    assert count(AccessRequest) == 0


def _submit_from_threads(world, keys: list[str]) -> tuple[list, list]:
    barrier = threading.Barrier(len(keys))
    results, errors = [], []
    lock = threading.Lock()

    def submit(k: str) -> None:
        barrier.wait()
        try:
            request = submit_request(world.sam, new_access(world.alpha), k)
            with lock:
                results.append(request.number)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=submit, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_ten_concurrent_submits_of_one_key_make_one_request_and_one_set_of_emails(world):
    results, errors = _submit_from_threads(world, [KEY] * 10)
    assert errors == []
    assert len(results) == 10 and len(set(results)) == 1
    assert count(AccessRequest) == 1
    assert count(OutboundEmail) == 2
    assert count(Invitation) == 1
    assert count(AuditEvent, AuditEvent.action == "submit") == 1


def test_concurrent_submits_with_different_keys_leave_one_open_request_for_the_person(world):
    results, errors = _submit_from_threads(world, [key(n) for n in range(6)])
    assert len(results) == 1
    assert all(isinstance(error, SubmissionRefused) for error in errors), errors
    assert count(AccessRequest) == 1
    assert count(OutboundEmail) == 2


# --- One transaction ------------------------------------------------------------------------------


def test_a_failure_while_queueing_emails_leaves_no_request_behind(world, monkeypatch):
    def broken_queue_email(*_args, **_kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(email_catalog, "queue_email", broken_queue_email)
    before = everything_counted()
    with pytest.raises(RuntimeError):
        submit_request(world.sam, new_access(world.alpha), KEY)
    assert everything_counted() == before


def test_a_failure_after_a_deletion_keeps_the_grant_active(world, monkeypatch):
    def broken_queue_email(*_args, **_kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(email_catalog, "queue_email", broken_queue_email)
    ana = world.user("ana.lopez@alpha.example")
    with pytest.raises(RuntimeError):
        submit_request(world.sam, access_deletion(world.alpha, ana), KEY)
    assert count(AccessRequest) == 0
    assert count(Grant, Grant.person_id == ana, Grant.active) == 1
    assert count(AuditEvent, AuditEvent.action == "suspend_grant") == 0


def test_after_a_failed_attempt_the_same_key_still_submits(world, monkeypatch):
    def broken_queue_email(*_args, **_kwargs):
        raise RuntimeError("outbox unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(email_catalog, "queue_email", broken_queue_email)
        with pytest.raises(RuntimeError):
            submit_request(world.sam, new_access(world.alpha), KEY)
    request = submit_request(world.sam, new_access(world.alpha), KEY)
    assert request.status == RequestStatus.AWAITING_AGREEMENT
    assert count(AccessRequest) == 1


def test_the_start_date_rule_is_measured_from_today(world):
    today = date.today()
    draft = new_access(world.alpha, start_date=(today - timedelta(days=40)).isoformat())
    with pytest.raises(SubmissionRefused):
        submit_request(world.sam, draft, KEY, today=today)
    assert submit_request(world.sam, draft, KEY, today=today - timedelta(days=20)).id


def test_a_permissions_change_keeps_the_level_it_changes_from_and_staff_see_from_to(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(world.sam, permissions_change(world.alpha, ana), KEY)
    with session_scope() as session:
        held = session.exec(select(Grant.access_level).where(Grant.person_id == ana,
                                                             Grant.organization_id == world.alpha)).one()
    assert request.previous_access_level == held != AccessLevel.VACCINE_MANAGEMENT
    staff = Actor(9999, "staff@program.example", is_staff=True)
    shown = {f["label"]: f["value"] for f in request_detail(staff, request.number).fields}
    assert shown["Access level change"] == f"{held.label} → {AccessLevel.VACCINE_MANAGEMENT.label}"
    assert "Access level" not in shown
