"""Requests placed directly in the database with chosen statuses and times, for the queue's tests.

The lifecycle itself is tested elsewhere; the queue only reads, so its tests build exactly the
rows they need (each request about its own person, so open requests never collide).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Organization, Person, SupervisorLink

# A Wednesday noon in Montana (18:00 UTC), so "one business day ago" is plain Tuesday noon.
NOW = datetime.fromisoformat("2026-03-11T18:00:00+00:00")


@dataclass
class QueueWorld:
    orgs: dict[str, int] = field(default_factory=dict)
    staff: int = 0
    supervisor: int = 0  # supervises "Alpha Clinic"
    applicant: int = 0  # the subject of the first request
    numbers: list[str] = field(default_factory=list)


def build_queue_world() -> QueueWorld:
    world = QueueWorld()
    with session_scope() as session:
        for name, code in (("Alpha Clinic", "ALPHA-1"), ("Beta Health", "BETA-2"),
                           ("Zeta Pharmacy", "ZETA-3")):
            org = Organization(name=name, code=code)
            session.add(org)
            session.flush()
            world.orgs[name] = org.id
        staff = Person(email="stella.staff@mt.example", first_name="Stella", last_name="Staffer",
                       is_staff=True)
        sup = Person(email="sam.supervisor@alpha.example", first_name="Sam", last_name="Supervisor")
        session.add_all([staff, sup])
        session.flush()
        world.staff, world.supervisor = staff.id, sup.id
        session.add(SupervisorLink(person_id=sup.id, organization_id=world.orgs["Alpha Clinic"]))
    return world


def add_request(world: QueueWorld, *, org: str = "Alpha Clinic", first: str = "Nora", last: str = "Newhire",
                email: str | None = None, status: RequestStatus = RequestStatus.IN_REVIEW,
                kind: RequestType = RequestType.NEW_ACCESS, created_days_ago: float = 1.0,
                waiting_days: float | None = None, completed_after_hours: float | None = None,
                number: str | None = None) -> str:
    """One request; ``waiting_days`` is how long it has been in its status (default: since creation)."""
    created = NOW - timedelta(days=created_days_ago)
    since = NOW - timedelta(days=waiting_days) if waiting_days is not None else created
    completed = (created + timedelta(hours=completed_after_hours)
                 if completed_after_hours is not None else None)
    with session_scope() as session:
        person = Person(email=email or f"{first}.{last}.{uuid.uuid4().hex[:6]}@example.org".lower(),
                        first_name=first, last_name=last)
        session.add(person)
        session.flush()
        if not world.applicant:
            world.applicant = person.id
        number = number or f"IMR-2026-{len(world.numbers) + 1:06d}"
        session.add(AccessRequest(
            number=number, request_type=kind, status=status, organization_id=world.orgs[org],
            submitter_id=world.supervisor, subject_person_id=person.id,
            access_level=AccessLevel.READ_ONLY_CONSENT, idempotency_key=uuid.uuid4().hex,
            created_at=created, updated_at=since, status_changed_at=since,
            completed_at=completed if status == RequestStatus.COMPLETED else None,
        ))
    world.numbers.append(number)
    return number
