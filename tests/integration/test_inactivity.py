"""The registry's inactivity report with a controllable clock: preview, an error per bad row,
nothing stored before confirming; the same report imported twice doubles nothing; idle people
shown to their supervisors at 60 days and an Access Deletion opened at 90, each once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    OutboundEmail,
    Person,
    RegistryActivity,
    utcnow,
)
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import inactivity
from immtrax_portal.services.dashboards import roster_page
from immtrax_portal.services.inactivity import ReportOutdated, run_inactivity
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import actor, add_staff_member, build_world

NOW = utcnow().replace(microsecond=0)
REPORT = (b"username,last_login\n"
          b"ALOPEZ,2020-01-01\n"            # idle for years (upper case: matched as alopez)
          b"bortiz,%s\n"                    # signed in three days ago
          b"dbeta,13/45/2026\n"             # not a date
          b"nobody,2026-01-01\n"            # no such username in the portal
          b"bortiz,2026-01-02\n"            # doubled
          % (NOW - timedelta(days=3)).date().isoformat().encode())


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            for grant in session.exec(select(Grant)):
                person = session.get(Person, grant.person_id)
                grant.immtrax_username = (person.first_name[0] + person.last_name).lower()
                session.add(grant)
        add_staff_member(world)
        yield world



def import_report(staff, data: bytes) -> int:
    parsed = inactivity.parse_report(data, now=NOW)
    plan = inactivity.plan_report(staff, parsed)
    return inactivity.apply_report(staff, parsed, plan.fingerprint, now=NOW)


def count(model, *where) -> int:
    with session_scope() as session:
        return len(session.exec(select(model).where(*where)).all())


def test_the_preview_says_per_row_what_happens_and_changes_nothing(world):
    staff = actor(world.users["staff"])
    parsed = inactivity.parse_report(REPORT, now=NOW)
    plan = inactivity.plan_report(staff, parsed)
    assert [(r.username, r.outcome) for r in plan.rows] == [("alopez", "new"), ("bortiz", "new")]
    assert [(e.row, e.code) for e in plan.errors] == [(4, "dbeta"), (5, "nobody"), (6, "bortiz")]
    assert "date like 2026-03-01" in plan.errors[0].message
    assert "already on row 3" in plan.errors[2].message
    assert count(RegistryActivity) == 0
    with pytest.raises(NotAllowed):
        inactivity.plan_report(actor(world.sam), parsed)


def test_a_file_that_is_not_the_report_is_refused_whole():
    for data, said in ((b"name,when\nx,2026-01-01\n", "username and last_login"),
                       (b"username,last_login\n", "no users"), (b"\xff\xfe", "UTF-8"),
                       (b"username,last_login\n" + b"a,2026-01-01\n" * 20_001, "more than 20,000")):
        with pytest.raises(inactivity.ImportFileRejected, match=said):
            inactivity.parse_report(data, now=NOW)


def test_the_same_report_imported_twice_doubles_nothing(world):
    staff = actor(world.users["staff"])
    assert import_report(staff, REPORT) == 2
    assert import_report(staff, REPORT) == 0
    assert count(RegistryActivity) == 2
    # An older login never replaces a newer one.
    assert import_report(staff, b"username,last_login\nbortiz,2019-05-05\n") == 0
    assert count(AuditEvent, AuditEvent.action == AuditAction.IMPORT_ACTIVITY_REPORT.value) == 3
    # A preview that no longer matches is refused whole, with the new preview.
    parsed = inactivity.parse_report(b"username,last_login\ndbeta,2026-01-01\n", now=NOW)
    stale = inactivity.plan_report(staff, parsed).fingerprint
    import_report(staff, b"username,last_login\ndbeta,2026-01-01\n")
    with pytest.raises(ReportOutdated):
        inactivity.apply_report(staff, inactivity.parse_report(
            b"username,last_login\ndbeta,2026-01-01\n", now=NOW), "0" * 64, now=NOW)
    assert stale


def test_idle_people_are_shown_then_removed_each_once(world):
    staff, sam = actor(world.users["staff"]), actor(world.sam)
    ana = world.user("ana.lopez@alpha.example")
    import_report(staff, REPORT)
    # Shown to Sam (Alpha), not to Tess; the roster shows the last activity.
    (idle,) = inactivity.idle_people(sam, now=NOW)
    assert (idle.person_id, idle.username) == (ana, "alopez") and idle.days > 90
    assert inactivity.idle_people(actor(world.tess), now=NOW) == []
    rows = {r["name"]: r for r in roster_page(sam, world.alpha).rows}
    assert rows["Ana Lopez"]["last_activity"].startswith("January 1, 2020")
    assert rows["Ben Ortiz"]["last_activity"].endswith(("(2 days ago)", "(3 days ago)"))

    # The job tells Sam once and opens one deletion for Ana, however often it runs.
    assert run_inactivity(NOW) == 2
    assert run_inactivity(NOW) == 0
    import_report(staff, REPORT)
    assert run_inactivity(NOW + timedelta(hours=1)) == 0
    with session_scope() as session:
        assert list(session.exec(select(OutboundEmail.to_address).where(
            OutboundEmail.kind == "idle_notice"))) == ["sam.supervisor@alpha.example"]
        (deletion,) = session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == ana)).all()
        assert deletion.request_type == RequestType.ACCESS_DELETION
        (cause,) = session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.IDLE_AUTO_DELETION.value)).all()
        assert cause.actor_role == Role.SYSTEM and "90 days" in cause.reason
        assert not session.exec(select(Grant).where(Grant.person_id == ana)).one().active


def test_a_supervisor_confirms_an_idle_person_until_a_newer_report(world):
    staff, sam = actor(world.users["staff"]), actor(world.sam)
    ben = world.user("ben.ortiz@alpha.example")
    import_report(staff, b"username,last_login\nbortiz,%s\n"
                  % (NOW - timedelta(days=70)).date().isoformat().encode())
    (idle,) = inactivity.idle_people(sam, now=NOW)
    with pytest.raises(NotAllowed):
        inactivity.confirm_idle(actor(world.tess), idle.grant_id)
    inactivity.confirm_idle(sam, idle.grant_id)
    inactivity.confirm_idle(sam, idle.grant_id)
    assert inactivity.idle_people(sam, now=NOW) == []
    assert count(AuditEvent, AuditEvent.action == AuditAction.IDLE_CONFIRMED.value) == 1
    assert idle.person_id == ben
