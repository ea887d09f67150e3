"""Only admins grant or remove the program-staff role; every change is audited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AuditEvent, Person
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import staff_roles
from immtrax_portal.services.actors import load_actor
from tests.support.databases import BACKENDS, fresh_database_url, use_database


@pytest.fixture(params=BACKENDS)
def people(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        with session_scope() as session:
            made = {
                "admin": Person(email="admin@mt.example", first_name="Ada", last_name="Admin",
                                is_staff=True, is_admin=True),
                "staff": Person(email="staff@mt.example", first_name="Sid", last_name="Staff",
                                is_staff=True),
                "nurse": Person(email="nurse@clinic.example", first_name="Nia", last_name="Nurse"),
            }
            session.add_all(made.values())
            session.flush()
            ids = {name: person.id for name, person in made.items()}
        yield ids


def actor(person_id: int):
    with session_scope() as session:
        return load_actor(session, person_id)


def is_staff(person_id: int) -> bool:
    with session_scope() as session:
        return session.get(Person, person_id).is_staff


def test_admin_makes_a_known_person_staff_and_it_is_audited(people):
    member = staff_roles.grant_staff_role(actor(people["admin"]), "Nurse@Clinic.example",
                                          source_ip="203.0.113.9")
    assert member.person_id == people["nurse"] and is_staff(people["nurse"])
    with session_scope() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "grant_staff_role")).one()
    assert (event.actor_id, event.target_id, event.source_ip) == (people["admin"], str(people["nurse"]),
                                                                  "203.0.113.9")


def test_staff_without_the_admin_flag_cannot_grant_or_remove_the_role(people):
    with pytest.raises(NotAllowed):
        staff_roles.grant_staff_role(actor(people["staff"]), "nurse@clinic.example")
    with pytest.raises(NotAllowed):
        staff_roles.remove_staff_role(actor(people["staff"]), people["staff"])
    assert not is_staff(people["nurse"]) and is_staff(people["staff"])


def test_admin_removes_the_staff_role_but_not_from_an_admin(people):
    staff_roles.remove_staff_role(actor(people["admin"]), people["staff"])
    assert not is_staff(people["staff"])
    with pytest.raises(NotAllowed):
        staff_roles.remove_staff_role(actor(people["admin"]), people["admin"])
    assert is_staff(people["admin"])


def test_unknown_or_malformed_email_gets_a_clear_message_and_changes_nothing(people):
    with pytest.raises(ValueError, match="signed in to the portal yet"):
        staff_roles.grant_staff_role(actor(people["admin"]), "stranger@clinic.example")
    with pytest.raises(ValueError, match="email address"):
        staff_roles.grant_staff_role(actor(people["admin"]), "not an email")
    members, total = staff_roles.list_staff(actor(people["admin"]))
    assert total == 2 and {m.email for m in members} == {"admin@mt.example", "staff@mt.example"}
