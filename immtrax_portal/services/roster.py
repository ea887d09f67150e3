"""Reading the registry: who holds access where, at which level.

The wizard searches one organization's current users; the result is small on purpose (at most
``MAX_MATCHES`` rows from an indexed query) because it goes to the browser, and it never holds
anyone from another organization.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, literal_column, or_
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import Grant, Organization, Person
from immtrax_portal.program_time import program_date

MAX_MATCHES = 20
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class RosterEntry:
    """One current user of an organization, as much as the wizard needs to show and pick."""

    person_id: int
    full_name: str
    email: str
    access_level: str
    access_level_label: str
    since: str


def person_name_lower():
    """lower(first_name || ' ' || last_name), spelled exactly as PostgreSQL's trigram index
    ``ix_person_full_name_trgm`` is (a literal space: a bound one would not match the index)."""
    return func.lower(Person.first_name + literal_column("' '") + Person.last_name)


def _like_pattern(query: str) -> str:
    """``%query%`` with LIKE's own wildcards escaped, so "_" and "%" match themselves."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _entry(person: Person, grant: Grant) -> RosterEntry:
    return RosterEntry(
        person_id=person.id, full_name=person.full_name, email=person.email,
        access_level=grant.access_level.value, access_level_label=grant.access_level.label,
        since=program_date(grant.since) if grant.since else "",
    )


def _active_roster(organization_id: int):
    return (
        select(Person, Grant)
        .join(Grant, Grant.person_id == Person.id)
        .where(Grant.organization_id == organization_id, Grant.active)
    )


def search_roster(organization_id: int, query: str, limit: int = MAX_MATCHES) -> list[RosterEntry]:
    """Current users of one organization whose name or email contains ``query`` (any case),
    by last name; an empty query lists the first ones. Never more than ``MAX_MATCHES``."""
    limit = max(1, min(int(limit), MAX_MATCHES))
    words = " ".join(str(query or "").split())[:MAX_QUERY_LENGTH]
    statement = _active_roster(organization_id)
    if words:
        pattern = _like_pattern(words)
        full_name = person_name_lower()
        statement = statement.where(or_(
            full_name.like(pattern, escape="\\"),
            func.lower(Person.last_name).like(pattern, escape="\\"),
            Person.email.like(pattern, escape="\\"),  # stored lower-case (check constraint)
        ))
    statement = statement.order_by(Person.last_name, Person.first_name, Person.id).limit(limit)
    with session_scope() as session:
        return [_entry(person, grant) for person, grant in session.exec(statement)]


def roster_entry(organization_id: int, person_id: int) -> RosterEntry | None:
    """The person as a current user of this organization, or None when they are not one."""
    statement = _active_roster(organization_id).where(Person.id == person_id)
    with session_scope() as session:
        row = session.exec(statement).first()
        return _entry(*row) if row else None


def organization_choices(organization_ids: frozenset[int] | set[int]) -> list[tuple[int, str]]:
    """(id, name) of these organizations, by name: what a supervisor may pick from."""
    if not organization_ids:
        return []
    with session_scope() as session:
        rows = session.exec(
            select(Organization.id, Organization.name)
            .where(Organization.id.in_(sorted(organization_ids)))  # type: ignore[union-attr]
            .order_by(Organization.name)
        ).all()
        return [(org_id, name) for org_id, name in rows]

