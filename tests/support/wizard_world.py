"""A small registry for the wizard's tests: two organizations, their supervisors and users.

Used with a migrated throw-away database (``tests.support.databases``); ``use_database`` points
the portal's settings and engine at it for the duration of a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.domain.models import Grant, Organization, Person, SupervisorLink
from immtrax_portal.program_time import program_today
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.requests import RequestDraft


@dataclass
class World:
    alpha: int = 0
    beta: int = 0
    sam: int = 0  # supervises Alpha
    tess: int = 0  # supervises Beta
    users: dict[str, int] = field(default_factory=dict)  # email -> person id

    def user(self, email: str) -> int:
        return self.users[email]


def actor(person_id: int):
    """The person as the services see a caller (roles, organizations), read fresh."""
    with session_scope() as session:
        return load_actor(session, person_id)


def add_staff_member(world: World) -> int:
    """Stella Staffer, program staff, as ``world.users["staff"]``; returns her id."""
    with session_scope() as session:
        staff = Person(email="stella@mt.example", first_name="Stella", last_name="Staffer", is_staff=True)
        session.add(staff)
        session.flush()
        world.users["staff"] = staff.id
    return staff.id


def _person(session, email: str, first: str, last: str) -> Person:
    person = Person(email=email, first_name=first, last_name=last, phone="(406) 555-0100",
                    job_title="Nurse")
    session.add(person)
    session.flush()
    return person


def build_world(extra_alpha_users: int = 0) -> World:
    """Alpha Clinic (supervisor Sam Supervisor) and Beta Health (Tess Boss), with users:

    - Alpha: ana.lopez (Record Maintenance), ben.ortiz (Read Only), carla.diaz (inactive grant),
      and ``extra_alpha_users`` more named user00..userNN;
    - Beta: dora.beta (Vaccine Management), and ana.lopez is not there.
    """
    world = World()
    with session_scope() as session:
        alpha = Organization(name="Alpha Clinic", code="ALPHA-1", city="Helena")
        beta = Organization(name="Beta Health", code="BETA-2", city="Butte")
        session.add_all([alpha, beta])
        session.flush()
        world.alpha, world.beta = alpha.id, beta.id
        sam = _person(session, "sam.supervisor@alpha.example", "Sam", "Supervisor")
        tess = _person(session, "tess.boss@beta.example", "Tess", "Boss")
        world.sam, world.tess = sam.id, tess.id
        session.add(SupervisorLink(person_id=sam.id, organization_id=alpha.id))
        session.add(SupervisorLink(person_id=tess.id, organization_id=beta.id))
        grants = [
            ("ana.lopez@alpha.example", "Ana", "Lopez", alpha.id, AccessLevel.RECORD_MAINTENANCE, True),
            ("ben.ortiz@alpha.example", "Ben", "Ortiz", alpha.id, AccessLevel.READ_ONLY_CONSENT, True),
            ("carla.diaz@alpha.example", "Carla", "Diaz", alpha.id, AccessLevel.READ_ONLY_CONSENT, False),
            ("dora.beta@beta.example", "Dora", "Beta", beta.id, AccessLevel.VACCINE_MANAGEMENT, True),
        ]
        grants += [(f"user{n:02d}@alpha.example", "User", f"Number{n:02d}", alpha.id,
                    AccessLevel.READ_ONLY_CONSENT, True) for n in range(extra_alpha_users)]
        for email, first, last, org_id, level, active in grants:
            person = _person(session, email, first, last)
            world.users[email] = person.id
            session.add(Grant(person_id=person.id, organization_id=org_id, access_level=level,
                              active=active))
    return world


def in_days(days: int) -> str:
    """A day counted from today in the program's time zone (the calendar the wizard uses)."""
    return (program_today() + timedelta(days=days)).isoformat()


def new_access(org_id: int, email: str = "new.nurse@alpha.example", **changes) -> RequestDraft:
    fields = dict(
        organization_id=org_id, request_type=RequestType.NEW_ACCESS, first_name="Nora",
        last_name="Newhire", email=email, phone="406-555-0142", job_title="Nurse",
        start_date=in_days(3), access_level=AccessLevel.RECORD_MAINTENANCE.value,
    )
    fields.update(changes)
    return RequestDraft(**fields)


def permissions_change(org_id: int, person_id: int, level: AccessLevel = AccessLevel.VACCINE_MANAGEMENT,
                       **changes) -> RequestDraft:
    return RequestDraft(organization_id=org_id, request_type=RequestType.PERMISSIONS_CHANGE,
                        subject_person_id=person_id, access_level=level.value,
                        note=changes.pop("note", "Now orders vaccine."), **changes)


def access_deletion(org_id: int, person_id: int, **changes) -> RequestDraft:
    fields = dict(organization_id=org_id, request_type=RequestType.ACCESS_DELETION,
                  subject_person_id=person_id, deletion_reason="left_employment",
                  last_day=in_days(0))
    fields.update(changes)
    return RequestDraft(**fields)
