"""The organization pages' event handlers, called directly as a client would, with real session
cookies: staff may use them; supervisors, applicants and signed-out callers are refused and the
refusal is audited; nothing is changed by a refused call."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AuditEvent, Organization, Person, SupervisorLink
from immtrax_portal.services.requests import submit_request
from immtrax_portal.ui.state.org_import import OrgImportState
from immtrax_portal.ui.state.organizations import OrganizationsState, OrganizationState
from tests.integration.test_wizard_handlers import cookie_for
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

CSV = (b"code,name,city,active\n"
       b"NEW-1,New Clinic,Havre,yes\n"
       b"NEW-1,Doubled,Havre,yes\n"
       b"BETA-2,Beta Health Center,Butte,\n")


def starts_live_updates(event) -> bool:
    """A page that loaded for its caller chains its live updates (nothing refused)."""
    return "watch_live" in str(event)


@pytest.fixture
def world(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            staff = Person(email="pat.staff@mt.example", first_name="Pat", last_name="Staff",
                           is_staff=True)
            session.add(staff)
            session.flush()
            world.users["staff"] = staff.id
        yield world


def state_for(state_class, person_id: int | None, path: str = "/staff/organizations", query: str = ""):
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(state_class.get_full_name().split(".")[1:])
    router_data = {"headers": {"cookie": cookie_for(person_id) if person_id else "",
                               "user-agent": "Mozilla/5.0 Chrome/124"},
                   "pathname": path, "asPath": path + (f"?{query}" if query else ""),
                   "query": dict(p.split("=") for p in query.split("&")) if query else {},
                   "ip": "203.0.113.5", "token": "tab-token", "sid": "sid"}
    root.router_data = router_data
    root.router = RouterData.from_router_data(router_data)
    return state


def denials() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(e.action, e.actor_role) for e in session.exec(
            select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED))]


def org(code: str) -> Organization | None:
    with session_scope() as session:
        return session.exec(select(Organization).where(Organization.code == code)).first()


def links_of(person_id: int) -> set[int]:
    with session_scope() as session:
        return set(session.exec(select(SupervisorLink.organization_id)
                                .where(SupervisorLink.person_id == person_id)))


def upload(data: bytes, name: str = "orgs.csv") -> list[rx.UploadFile]:
    return [rx.UploadFile(file=io.BytesIO(data), path=Path(name))]


def previewed(person_id: int, data: bytes = CSV) -> OrgImportState:
    state = state_for(OrgImportState, person_id, "/staff/organizations/import")
    assert state.load() is None
    asyncio.run(state.preview_file(upload(data)))
    return state


# --- Who may open the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sam", "ana", None])
def test_only_staff_may_open_the_list(world, who):
    person = {"sam": world.sam, "ana": world.user("ana.lopez@alpha.example"), None: None}[who]
    state = state_for(OrganizationsState, person)
    event = state.load()
    assert ("not-allowed" if person else "sign-in") in str(event)
    assert state.rows == []


def test_staff_see_the_list_and_can_search_and_page(world):
    state = state_for(OrganizationsState, world.user("staff"))
    assert starts_live_updates(state.load())
    assert [r["code"] for r in state.rows] == ["ALPHA-1", "BETA-2"]
    assert state.rows[0]["supervisors"] == 1 and state.rows[0]["active_users"] == 2
    state.search({"q": "bet"})
    assert [r["code"] for r in state.rows] == ["BETA-2"]
    state.clear_search()
    state.next_page()
    assert state.page == 1 and len(state.rows) == 2


# --- Refusals ---------------------------------------------------------------------------------------


def test_a_supervisor_cannot_link_themselves_to_another_organization(world):
    state = state_for(OrganizationState, world.sam, "/staff/organization", f"id={world.beta}")
    state.org_id = world.beta  # what a replayed or forged tab would hold
    state.link_supervisor({"email": "sam.supervisor@alpha.example"})
    assert links_of(world.sam) == {world.alpha}
    assert ("organizations.link_supervisor", "supervisor") in denials()
    assert "Only Montana Immunization Program staff" in state.problem


@pytest.mark.parametrize("who", ["sam", "ana", None])
def test_non_staff_callers_change_nothing_and_are_audited(world, who):
    person = {"sam": world.sam, "ana": world.user("ana.lopez@alpha.example"), None: None}[who]
    role = {"sam": "supervisor", "ana": "applicant", None: "anonymous"}[who]
    edit = state_for(OrganizationState, person, "/staff/organization")
    edit.org_id = world.alpha
    edit.save({"code": "ALPHA-1", "name": "Taken Over", "city": "", "active": "on"})
    edit.unlink_supervisor(world.sam)
    edit.org_id = 0
    edit.save({"code": "EVIL-1", "name": "Evil Clinic"})
    importer = state_for(OrgImportState, person, "/staff/organizations/import")
    asyncio.run(importer.preview_file(upload(CSV)))
    importer.confirm_import("x" * 64)
    lister = state_for(OrganizationsState, person)
    lister.search({"q": "a"})
    assert org("ALPHA-1").name == "Alpha Clinic" and org("EVIL-1") is None and org("NEW-1") is None
    assert links_of(world.sam) == {world.alpha}
    assert importer.has_preview is False and lister.rows == []
    actions = {action for action, actor_role in denials() if actor_role == role}
    assert {"organizations.save", "organizations.unlink_supervisor", "organizations.preview_import",
            "organizations.confirm_import", "organizations.search"} <= actions


def test_a_staff_member_who_lost_the_role_is_refused_on_the_next_call(world):
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert starts_live_updates(state.load())
    with session_scope() as session:
        session.get(Person, world.user("staff")).is_staff = False
    state.save({"code": "ALPHA-1", "name": "Renamed", "city": "Helena", "active": "on"})
    assert org("ALPHA-1").name == "Alpha Clinic" and ("organizations.save", "applicant") in denials()


# --- Staff at work ------------------------------------------------------------------------------------


def test_staff_create_an_organization_and_are_sent_to_its_page(world):
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization")
    assert state.load() is None and state.heading == "Add an organization"
    event = state.save({"code": "gfp-0505", "name": "Great Falls Public Health", "city": "Great Falls",
                        "active": "on"})
    created = org("GFP-0505")
    assert created is not None and f"/staff/organization?id={created.id}&created=1" in str(event)


def test_bad_input_shows_errors_for_each_field_and_changes_nothing(world):
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert starts_live_updates(state.load()) and state.name == "Alpha Clinic"
    event = state.save({"code": "beta-2", "name": " ", "city": "Helena", "active": "on"})
    assert set(state.errors) == {"name"} and "error-summary" in str(event)
    state.save({"code": "beta-2", "name": "Alpha Clinic", "city": "Helena", "active": "on"})
    assert state.errors == {"code": "Another organization already has the code BETA-2."}
    assert org("ALPHA-1").name == "Alpha Clinic"


def test_deactivating_with_open_requests_shows_the_request_numbers(world):
    number = submit_request(world.sam, new_access(world.alpha), "orgs-handler-key-000001").number
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert starts_live_updates(state.load()) and state.open_requests == number
    state.save({"code": "ALPHA-1", "name": "Alpha Clinic", "city": "Helena"})  # box unticked
    assert number in state.errors["active"] and org("ALPHA-1").active


def test_staff_cannot_link_themselves_and_the_refusal_names_the_organization(world):
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert starts_live_updates(state.load())
    state.link_supervisor({"email": "pat.staff@mt.example"})
    assert "cannot make yourself a supervisor" in state.link_errors["email"] and state.problem == ""
    with session_scope() as session:
        [refusal] = session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert (refusal.action, refusal.target_type, refusal.target_id) == (
        "organizations.link_supervisor", "organization", str(world.alpha))
    assert links_of(world.user("staff")) == set()


def test_staff_link_a_new_supervisor_twice_and_unlink_with_a_warning(world):
    number = submit_request(world.sam, new_access(world.alpha), "orgs-handler-key-000002").number
    state = state_for(OrganizationState, world.user("staff"), "/staff/organization", f"id={world.alpha}")
    assert starts_live_updates(state.load())
    state.link_supervisor({"email": "nell.new@alpha.example", "first_name": "Nell", "last_name": "New"})
    assert "Nell New is now a supervisor" in state.message and "first sign in" in state.message
    assert [s["email"] for s in state.supervisors] == ["nell.new@alpha.example",
                                                       "sam.supervisor@alpha.example"]
    state.link_supervisor({"email": "Nell.New@alpha.example"})
    assert "already a supervisor of Alpha Clinic" in state.link_errors["email"]
    nell = state.supervisors[0]["person_id"]
    state.ask_unlink(nell)
    assert state.unlink_name == "Nell New" and state.unlink_warning == ""
    state.unlink_supervisor(nell)
    state.ask_unlink(world.sam)
    assert number in state.unlink_warning and "last supervisor" in state.unlink_warning
    state.unlink_supervisor(world.sam)
    assert state.supervisors == [] and links_of(world.sam) == set()


def test_the_import_previews_an_error_per_bad_row_and_imports_only_on_confirm(world):
    state = previewed(world.user("staff"))
    assert (state.creates, state.updates, state.unchanged, state.error_count) == (1, 1, 0, 1)
    assert state.error_rows == [{"row": 3, "code": "NEW-1",
                                 "message": "The code NEW-1 is already on row 2 of this file."}]
    assert org("NEW-1") is None
    state.confirm_import(state.fingerprint)
    assert org("NEW-1").name == "New Clinic" and org("BETA-2").name == "Beta Health Center"
    assert "1 created, 1 updated" in state.result


def test_a_double_click_on_confirm_imports_once(world):
    state = previewed(world.user("staff"))
    fingerprint = state.fingerprint
    state.confirm_import(fingerprint)
    state.confirm_import(fingerprint)
    assert state.problem == "" and "1 created" in state.result
    state.result = ""
    state.confirm_import(fingerprint)
    assert "no previewed file" in state.problem
    with session_scope() as session:
        imports = session.exec(select(AuditEvent).where(AuditEvent.action == "import_organizations")).all()
    assert len(imports) == 1


def test_a_confirm_naming_another_preview_is_refused(world):
    state = previewed(world.user("staff"))
    state.confirm_import("0" * 64)
    assert "out of date" in state.problem and org("NEW-1") is None


def test_an_unreadable_file_is_explained_and_nothing_is_kept(world):
    state = previewed(world.user("staff"), b"name,city\nX,Y\n")
    assert "missing code" in state.file_error and not state.has_preview
    state.confirm_import("")
    assert org("X") is None


def test_the_preview_is_paginated(world):
    lines = ["code,name,city"] + [f"P-{n:03d},Clinic {n:03d}," for n in range(45)]
    state = previewed(world.user("staff"), "\n".join(lines).encode())
    assert (len(state.rows), state.rows_pages) == (20, 3)
    state.next_rows_page()
    state.next_rows_page()
    state.next_rows_page()
    assert state.rows_page == 3 and [r["code"] for r in state.rows] == [f"P-{n:03d}" for n in range(40, 45)]
