"""Building an ``Actor`` from the database: roles are always read fresh, never trusted from a client."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from immtrax_portal.domain.models import Delegation, Person, SupervisorLink
from immtrax_portal.domain.permissions import Actor, Cover, covering_today
from immtrax_portal.program_time import program_today


def covers_naming(session: Session, person_id: int, today) -> list[Cover]:
    """The delegations that name ``person_id`` as the stand-in and have not ended before today."""
    rows = session.exec(select(Delegation).where(Delegation.delegate_id == person_id,
                                                 Delegation.ends_on >= today,
                                                 Delegation.ended_at.is_(None)))  # type: ignore[union-attr]
    return [cover_of(row) for row in rows]


def cover_of(row: Delegation) -> Cover:
    return Cover(kind=row.kind, delegator_id=row.delegator_id, delegate_id=row.delegate_id,
                 starts_on=row.starts_on, ends_on=row.ends_on, organization_id=row.organization_id or 0,
                 ended=row.ended_at is not None)


def actor_for(session: Session, person: Person, now: datetime | None = None) -> Actor:
    """The person's roles now; ``now`` (a controllable clock for tests) decides which backups'
    ranges are in force, by the program's calendar day."""
    org_ids = session.exec(
        select(SupervisorLink.organization_id).where(SupervisorLink.person_id == person.id)
    ).all()
    today = program_today(now)
    return Actor(
        person_id=person.id,
        email=person.email,
        is_staff=person.is_staff,
        is_admin=person.is_admin,
        supervised_org_ids=frozenset(org_ids),
        covering=covering_today(person.id, covers_naming(session, person.id, today), today),
    )


def load_actor(session: Session, person_id: int, now: datetime | None = None) -> Actor | None:
    person = session.get(Person, person_id)
    return actor_for(session, person, now) if person else None
