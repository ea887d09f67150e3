"""Building an ``Actor`` from the database: roles are always read fresh, never trusted from a client."""

from __future__ import annotations

from sqlmodel import Session, select

from immtrax_portal.domain.models import Person, SupervisorLink
from immtrax_portal.domain.permissions import Actor


def actor_for(session: Session, person: Person) -> Actor:
    org_ids = session.exec(
        select(SupervisorLink.organization_id).where(SupervisorLink.person_id == person.id)
    ).all()
    return Actor(
        person_id=person.id,
        email=person.email,
        is_staff=person.is_staff,
        is_admin=person.is_admin,
        supervised_org_ids=frozenset(org_ids),
    )


def load_actor(session: Session, person_id: int) -> Actor | None:
    person = session.get(Person, person_id)
    return actor_for(session, person) if person else None
