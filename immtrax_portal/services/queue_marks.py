"""What the staff queue marks on a page of rows, read only: each row's owner, and likely
duplicates (another open request at the same organization for a person of the same name)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.domain.enums import OPEN_STATUSES
from immtrax_portal.domain.models import AccessRequest, Person


def owner_names(session: Session, owner_ids: set[int]) -> dict[int, str]:
    if not owner_ids:
        return {}
    return {pid: f"{first} {last}" for pid, first, last in session.exec(
        select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(owner_ids)))}  # type: ignore[union-attr]


# --- Likely duplicates --------------------------------------------------------------------------

def likely_duplicates(session: Session, rows: list[tuple[int, int, str, str]]) -> dict[int, str]:
    """For each open request of ``rows`` (id, organization id, first name, last name; one page):
    the number of another open request at the same organization about a person of the same name
    (whatever the case). The same person twice cannot be open at once
    (``uq_access_request_open_subject_org``), so a duplicate is the same person under another
    email. One query, served by ``ix_access_request_org_status`` and ``ix_person_name_lower``."""
    mine = [(rid, org, first.lower(), last.lower()) for rid, org, first, last in rows]
    if not mine:
        return {}
    found = session.exec(
        select(AccessRequest.id, AccessRequest.number, AccessRequest.organization_id,
               sa.func.lower(Person.first_name), sa.func.lower(Person.last_name))
        .join(Person, Person.id == AccessRequest.subject_person_id)
        .where(AccessRequest.organization_id.in_({org for _, org, _, _ in mine}),
               AccessRequest.status.in_(list(OPEN_STATUSES)),  # type: ignore[attr-defined]
               sa.func.lower(Person.last_name).in_({last for _, _, _, last in mine}))
        .order_by(AccessRequest.id)
    ).all()
    by_key: dict[tuple[int, str, str], list[tuple[int, str]]] = {}
    for other_id, number, org, first, last in found:
        by_key.setdefault((org, first, last), []).append((other_id, number))
    result = {}
    for request_id, org, first, last in mine:
        twins = [number for other_id, number in by_key.get((org, first, last), []) if other_id != request_id]
        if twins:
            result[request_id] = twins[0]
    return result


def duplicate_of(session: Session, request: AccessRequest) -> str:
    """The likely duplicate of one open request ("" when none or closed)."""
    if request.status not in OPEN_STATUSES:
        return ""
    person = session.get(Person, request.subject_person_id)
    return likely_duplicates(session, [(request.id, request.organization_id, person.first_name,
                                        person.last_name)]).get(request.id, "")
