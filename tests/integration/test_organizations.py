"""Organizations and supervisors on SQLite and PostgreSQL: listing, search, edits, links, imports."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.auth.sessions import complete_sign_in
from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain.models import AuditEvent, Organization, Person, SupervisorLink
from immtrax_portal.domain.organization_rules import OrganizationFields
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import org_import, organizations
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            staff = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff",
                           is_staff=True)
            session.add(staff)
            session.flush()
            world.users["staff"] = staff.id
        yield world


def actor(person_id: int):
    with session_scope() as session:
        return load_actor(session, person_id)


def staff(world):
    return actor(world.user("staff"))


def org(code: str) -> Organization | None:
    with session_scope() as session:
        return session.exec(select(Organization).where(Organization.code == code)).first()


def audit_actions() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)))


def open_request_at_alpha(world) -> str:
    return submit_request(world.sam, new_access(world.alpha), "orgs-test-key-0000000001").number


# --- Listing and search ---------------------------------------------------------------------------


def test_the_list_shows_counts_of_supervisors_and_active_users(world):
    page = organizations.list_organizations(staff(world))
    rows = {r.code: r for r in page.rows}
    assert (rows["ALPHA-1"].supervisors, rows["ALPHA-1"].active_users) == (1, 2)  # carla is inactive
    assert (rows["BETA-2"].supervisors, rows["BETA-2"].active_users) == (1, 1)
    assert page.total == 2 and page.pages == 1


def test_the_list_is_paginated_by_twenty_in_name_order(world):
    with session_scope() as session:
        session.add_all(Organization(code=f"Z-{n:02d}", name=f"Zeta {n:02d}") for n in range(25))
    first = organizations.list_organizations(staff(world), page=1)
    last = organizations.list_organizations(staff(world), page=99)
    assert len(first.rows) == 20 and first.pages == 2 and first.rows[0].name == "Alpha Clinic"
    assert (last.page, [r.name for r in last.rows][-1], len(last.rows)) == (2, "Zeta 24", 7)


@pytest.mark.parametrize(("term", "codes"), [
    ("alp", ["ALPHA-1"]), ("BETA", ["BETA-2"]), ("beta-2", ["BETA-2"]), ("  ", ["ALPHA-1", "BETA-2"]),
    ("health", []), ("%", []), ("_", []), ("Z", []),
])
def test_search_matches_the_start_of_a_name_or_code_in_any_case(world, term, codes):
    page = organizations.list_organizations(staff(world), search=term)
    assert [r.code for r in page.rows] == codes


def test_search_by_name_uses_the_lower_name_index(world):
    query = select(Organization.id).where(organizations.search_condition("alp"))
    engine = get_engine()
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r) for r in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert "ix_organization_name_lower" in plan


def test_only_staff_can_list_or_change_organizations(world):
    supervisor = actor(world.sam)
    with pytest.raises(NotAllowed):
        organizations.list_organizations(supervisor)
    with pytest.raises(NotAllowed):
        organizations.create_organization(supervisor, OrganizationFields("NEW-1", "New"))
    with pytest.raises(NotAllowed):
        organizations.link_supervisor(supervisor, world.beta, "sam.supervisor@alpha.example")
    with pytest.raises(NotAllowed):
        org_import.plan_import(supervisor, org_import.parse_organization_csv(b"code,name,city\nA,B,C\n"))
    assert org("NEW-1") is None and audit_actions() == []


# --- Creating and editing -------------------------------------------------------------------------


def test_staff_create_an_organization_with_a_normalized_code_and_it_is_audited(world):
    new_id = organizations.create_organization(
        staff(world), OrganizationFields(" gfp-0505 ", "  Great  Falls Public Health", "Great Falls"),
        source_ip="203.0.113.7")
    created = org("GFP-0505")
    assert (created.id, created.name, created.active) == (new_id, "Great Falls Public Health", True)
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "create_organization")).one()
    assert (event.organization_id, event.source_ip) == (new_id, "203.0.113.7")


def test_codes_are_unique_whatever_their_case(world):
    with pytest.raises(organizations.OrganizationInvalid) as refused:
        organizations.create_organization(staff(world), OrganizationFields("alpha-1", "Another Alpha"))
    assert refused.value.problems == {"code": "Another organization already has the code ALPHA-1."}
    with pytest.raises(organizations.OrganizationInvalid):
        organizations.update_organization(staff(world), world.beta,
                                          OrganizationFields("Alpha-1", "Beta Health", "Butte"))
    assert org("BETA-2").name == "Beta Health" and audit_actions() == []


def test_bad_input_names_every_field_and_changes_nothing(world):
    with pytest.raises(organizations.OrganizationInvalid) as refused:
        organizations.update_organization(staff(world), world.alpha,
                                          OrganizationFields("bad code!", "", "C" * 101))
    assert set(refused.value.problems) == {"code", "name", "city"}
    assert org("ALPHA-1").name == "Alpha Clinic"


def test_an_edit_records_what_changed(world):
    changed = organizations.update_organization(
        staff(world), world.alpha, OrganizationFields("ALPHA-1", "Alpha Clinic West", "Helena", True))
    assert changed == {"name": ["Alpha Clinic", "Alpha Clinic West"]}
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "update_organization")).one()
    assert json.loads(event.details)["changed"] == {"name": ["Alpha Clinic", "Alpha Clinic West"]}


def test_deactivating_an_organization_with_open_requests_is_refused_naming_them(world):
    number = open_request_at_alpha(world)
    with pytest.raises(organizations.OrganizationInvalid) as refused:
        organizations.update_organization(staff(world), world.alpha,
                                          OrganizationFields("ALPHA-1", "Alpha Clinic", "Helena", False))
    message = refused.value.problems["active"]
    assert number in message and "1 open request " in message
    assert org("ALPHA-1").active
    organizations.update_organization(staff(world), world.beta,
                                      OrganizationFields("BETA-2", "Beta Health", "Butte", False))
    assert not org("BETA-2").active


# --- Supervisors ----------------------------------------------------------------------------------


def test_linking_an_unknown_email_creates_the_person_who_becomes_supervisor_at_first_sign_in(world):
    linked = organizations.link_supervisor(staff(world), world.alpha, "Nell.New@Alpha.example",
                                           "Nell", "New")
    assert linked.created_person
    signed_in = complete_sign_in({"sub": "okta-nell", "email": "nell.new@alpha.example",
                                  "email_verified": True, "given_name": "Nell", "family_name": "New"},
                                 id_token="t", ip_address="203.0.113.1", user_agent="test",
                                 replaced_raw_id=None)
    assert signed_in.person.id == linked.person_id
    assert actor(signed_in.person.id).supervised_org_ids == frozenset({world.alpha})


def test_linking_an_unknown_email_without_a_name_asks_for_it(world):
    with pytest.raises(organizations.OrganizationInvalid) as refused:
        organizations.link_supervisor(staff(world), world.alpha, "nobody@alpha.example")
    assert set(refused.value.problems) == {"first_name", "last_name"}
    with session_scope() as session:
        assert session.exec(select(Person).where(Person.email == "nobody@alpha.example")).first() is None


def test_an_existing_person_is_linked_without_a_name_and_twice_gets_a_clear_message(world):
    linked = organizations.link_supervisor(staff(world), world.beta, "ana.lopez@alpha.example")
    assert (linked.person_id, linked.created_person) == (world.user("ana.lopez@alpha.example"), False)
    with pytest.raises(organizations.OrganizationInvalid) as refused:
        organizations.link_supervisor(staff(world), world.beta, "ANA.LOPEZ@alpha.example")
    assert refused.value.problems["email"] == ("Ana Lopez (ana.lopez@alpha.example) is already a "
                                               "supervisor of Beta Health.")
    assert audit_actions() == ["link_supervisor"]


def test_staff_cannot_make_themselves_a_supervisor(world):
    with pytest.raises(NotAllowed):
        organizations.link_supervisor(staff(world), world.alpha, "pat.staff@mt.example")


def test_unlinking_warns_when_the_last_supervisor_leaves_open_requests(world):
    number = open_request_at_alpha(world)
    warning = organizations.unlink_warning(staff(world), world.alpha, world.sam)
    assert "last supervisor" in warning and number in warning
    assert organizations.unlink_warning(staff(world), world.beta, world.tess) == ""
    assert organizations.unlink_supervisor(staff(world), world.alpha, world.sam) == warning
    assert actor(world.sam).supervised_org_ids == frozenset()
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "unlink_supervisor")).one()
    assert json.loads(event.details) == {"last_supervisor_with_open_requests": True}
    with pytest.raises(LookupError):
        organizations.unlink_supervisor(staff(world), world.alpha, world.sam)


def test_a_second_supervisor_means_no_warning(world):
    open_request_at_alpha(world)
    organizations.link_supervisor(staff(world), world.alpha, "ben.ortiz@alpha.example")
    assert organizations.unlink_warning(staff(world), world.alpha, world.sam) == ""


def test_the_detail_lists_supervisors_and_open_requests(world):
    number = open_request_at_alpha(world)
    detail = organizations.organization_detail(staff(world), world.alpha)
    assert [s.email for s in detail.supervisors] == ["sam.supervisor@alpha.example"]
    assert detail.open_requests == [number] and detail.open_request_total == 1
    with pytest.raises(LookupError):
        organizations.organization_detail(staff(world), 999_999)


# --- Import ---------------------------------------------------------------------------------------

FILE = (b"code,name,city,active\r\n"
        b"alpha-1,Alpha Clinic,Helena,\r\n"          # unchanged
        b"BETA-2,Beta Health Center,Butte,\r\n"      # update (name)
        b"NEW-1,New Clinic,Havre,yes\r\n"            # create
        b",Missing Code,Havre,\r\n"                  # error
        b"NEW-2,Second New,Glasgow,no\r\n")  # create inactive


def test_the_preview_says_what_each_row_will_do_and_imports_nothing(world):
    plan = org_import.plan_import(staff(world), org_import.parse_organization_csv(FILE))
    assert [(r.row, r.outcome) for r in plan.rows] == [(2, "unchanged"), (3, "update"), (4, "create"),
                                                       (6, "create")]
    assert plan.rows[1].describe_changes() == "name: Beta Health → Beta Health Center"
    assert [(e.row, e.code) for e in plan.errors] == [(5, "")]
    assert org("NEW-1") is None and audit_actions() == []


def test_confirming_imports_exactly_the_previewed_rows_in_one_go(world):
    parsed = org_import.parse_organization_csv(FILE)
    plan = org_import.plan_import(staff(world), parsed)
    result = org_import.apply_import(staff(world), parsed, plan.fingerprint, source_ip="203.0.113.2")
    assert result == org_import.ImportResult(created=2, updated=1, unchanged=1, skipped=1)
    assert org("NEW-1").active and not org("NEW-2").active and org("BETA-2").name == "Beta Health Center"
    assert audit_actions().count("create_organization") == 2
    assert audit_actions()[-1] == "import_organizations"
    again = org_import.plan_import(staff(world), parsed)
    assert {r.outcome for r in again.rows} == {"unchanged"}


def test_a_confirm_after_the_data_changed_imports_nothing_and_shows_the_new_preview(world):
    parsed = org_import.parse_organization_csv(FILE)
    plan = org_import.plan_import(staff(world), parsed)
    organizations.create_organization(staff(world), OrganizationFields("NEW-1", "Made Meanwhile"))
    with pytest.raises(org_import.ImportOutdated) as outdated:
        org_import.apply_import(staff(world), parsed, plan.fingerprint)
    assert [r.outcome for r in outdated.value.plan.rows if r.fields.code == "NEW-1"] == ["update"]
    assert org("NEW-2") is None and org("BETA-2").name == "Beta Health"


def test_an_import_row_that_would_deactivate_an_organization_with_open_requests_is_an_error(world):
    number = open_request_at_alpha(world)
    parsed = org_import.parse_organization_csv(b"code,name,city,active\nALPHA-1,Alpha Clinic,Helena,no\n")
    plan = org_import.plan_import(staff(world), parsed)
    assert plan.rows == () and number in plan.errors[0].message
    org_import.apply_import(staff(world), parsed, plan.fingerprint)
    assert org("ALPHA-1").active


def test_a_row_without_an_active_value_keeps_the_organizations_state(world):
    organizations.update_organization(staff(world), world.beta,
                                      OrganizationFields("BETA-2", "Beta Health", "Butte", False))
    plan = org_import.plan_import(staff(world), org_import.parse_organization_csv(
        b"code,name,city\nBETA-2,Beta Health,Butte\n"))
    assert plan.rows[0].outcome == "unchanged" and plan.rows[0].fields.active is False


def test_a_large_import_creates_every_row(world):
    lines = ["code,name,city"] + [f"BULK-{n:04d},Bulk Clinic {n:04d},Helena" for n in range(1200)]
    parsed = org_import.parse_organization_csv("\n".join(lines).encode())
    plan = org_import.plan_import(staff(world), parsed)
    org_import.apply_import(staff(world), parsed, plan.fingerprint)
    with session_scope() as session:
        assert session.exec(select(sa.func.count()).select_from(Organization)).one() == 1202
        assert session.exec(select(sa.func.count()).select_from(SupervisorLink)).one() == 2
