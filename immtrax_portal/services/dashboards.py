"""Read-side queries for the dashboards: one page of small rows at a time, never a whole table."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestStatus
from immtrax_portal.domain.models import AccessRequest, Organization, Person
from immtrax_portal.domain.permissions import Actor, require_staff

PAGE_SIZE = 20


@dataclass(frozen=True)
class RequestRow:
    """What a request list shows, already formatted: the browser receives nothing more."""

    id: int
    number: str
    type_label: str
    person: str
    organization: str
    status: str
    status_label: str
    waiting_on: str
    updated: str

    def as_dict(self) -> dict[str, str | int]:
        return asdict(self)


@dataclass(frozen=True)
class RequestPage:
    rows: list[RequestRow]
    total: int
    page: int
    pages: int


WAITING_ON = {
    RequestStatus.SUBMITTED: "the program",
    RequestStatus.AWAITING_AGREEMENT: "the applicant",
    RequestStatus.IN_REVIEW: "the program",
    RequestStatus.NEEDS_INFO: "you",
}


def _rows(session: Session, condition, page: int) -> RequestPage:
    """One page of rows matching ``condition``, newest change first (ix_*_created indexes)."""
    subject = aliased(Person)
    total = session.exec(select(sa.func.count()).select_from(AccessRequest).where(condition)).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    listed = session.exec(
        select(AccessRequest, subject.first_name, subject.last_name, Organization.name)
        .join(subject, subject.id == AccessRequest.subject_person_id)
        .join(Organization, Organization.id == AccessRequest.organization_id)
        .where(condition)
        .order_by(AccessRequest.updated_at.desc(), AccessRequest.id.desc())  # type: ignore[union-attr]
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    rows = [
        RequestRow(
            id=request.id, number=request.number, type_label=request.request_type.label,
            person=f"{first} {last}", organization=org_name, status=request.status.value,
            status_label=request.status.label,
            waiting_on=WAITING_ON.get(request.status, "nobody (closed)"),
            updated=request.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
        for request, first, last, org_name in listed
    ]
    return RequestPage(rows=rows, total=total, page=page, pages=pages)


def requests_of_supervised_orgs(actor: Actor, page: int = 1) -> RequestPage:
    """The requests of every organization the actor supervises (and nothing else)."""
    with session_scope() as session:
        if not actor.supervised_org_ids:
            return RequestPage([], 0, 1, 1)
        condition = AccessRequest.organization_id.in_(actor.supervised_org_ids)  # type: ignore[attr-defined]
        return _rows(session, condition, page)


def requests_about_me(actor: Actor, page: int = 1) -> RequestPage:
    with session_scope() as session:
        return _rows(session, AccessRequest.subject_person_id == actor.person_id, page)


def staff_queue(actor: Actor, page: int = 1, open_only: bool = True) -> RequestPage:
    require_staff(actor)
    with session_scope() as session:
        condition = (AccessRequest.status.in_(OPEN_STATUSES) if open_only  # type: ignore[attr-defined]
                     else sa.true())
        return _rows(session, condition, page)
