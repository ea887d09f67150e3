"""The supervisor's own lists on the dashboard, besides "Needs you": "In progress" and "Closed".

Both are the requests of the organizations the supervisor supervises, one page at a time (newest
change first, ``ix_access_request_org_updated``), filterable by type, organization and the start
of a request number or a person's name. A request that a "Needs you" source lists
(``needs_you.claimed_requests``) is in neither: each request is in exactly one of the three lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Organization, Person, utcnow
from immtrax_portal.domain.permissions import Actor
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.domain.tracker import Viewer
from immtrax_portal.services.dashboards import TrackedPage, tracked_page
from immtrax_portal.services.needs_you import claimed_requests

SEARCH_MAX = 60
CLOSED_STATUSES = frozenset(RequestStatus) - OPEN_STATUSES


class Section(StrEnum):
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"

    @property
    def statuses(self) -> frozenset[RequestStatus]:
        return OPEN_STATUSES if self is Section.IN_PROGRESS else CLOSED_STATUSES


@dataclass(frozen=True)
class ListFilters:
    """What the filter form asked for, checked: unknown values mean "any"."""

    request_type: RequestType | None = None
    organization_id: int | None = None
    search: str = ""

    @classmethod
    def from_form(cls, actor: Actor, form: dict) -> ListFilters:
        form = form if isinstance(form, dict) else {}
        kind = str(form.get("type", ""))[:40]
        org = record_id(str(form.get("org", ""))[:20])
        search = " ".join(str(form.get("q", ""))[:SEARCH_MAX].split())
        return cls(request_type=RequestType(kind) if kind in RequestType._value2member_map_ else None,
                   organization_id=org if org in actor.supervised_org_ids else None,
                   search=search)

    @property
    def active(self) -> bool:
        return bool(self.request_type or self.organization_id or self.search)

    def as_form(self) -> dict[str, str]:
        return {"type": self.request_type.value if self.request_type else "",
                "org": str(self.organization_id or ""), "q": self.search}


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _search_condition(text: str):
    """The start of a request number, or of the person's first or last name (any case)."""
    prefix = _like_prefix(text.lower())
    subject = select(Person.id).where(sa.or_(
        sa.func.lower(Person.first_name).like(prefix, escape="\\"),
        sa.func.lower(Person.last_name).like(prefix, escape="\\"),
        sa.func.lower(Person.first_name + " " + Person.last_name).like(prefix, escape="\\"),
    ))
    return sa.or_(AccessRequest.number.like(_like_prefix(text.upper()), escape="\\"),  # type: ignore[attr-defined]
                  AccessRequest.subject_person_id.in_(subject.where(  # type: ignore[attr-defined]
                      Person.id == AccessRequest.subject_person_id).correlate(AccessRequest)))


def supervised_requests(actor: Actor, section: Section, filters: ListFilters = ListFilters(),
                        page: int = 1, *, now: datetime | None = None) -> TrackedPage:
    """One page of the section's requests at the actor's organizations, each with its tracker
    and the actions the rulebook allows the actor on it."""
    if not actor.supervised_org_ids:
        return TrackedPage([], 0, 1, 1, {})
    orgs = ([filters.organization_id] if filters.organization_id in actor.supervised_org_ids
            else sorted(actor.supervised_org_ids))
    parts = [AccessRequest.organization_id.in_(orgs),  # type: ignore[attr-defined]
             AccessRequest.status.in_(sorted(section.statuses)),  # type: ignore[attr-defined]
             sa.not_(claimed_requests(actor, now or utcnow()))]
    if filters.request_type:
        parts.append(AccessRequest.request_type == filters.request_type)
    if filters.search:
        parts.append(_search_condition(filters.search))
    with session_scope() as session:
        return tracked_page(session, actor, Viewer.SUPERVISOR, sa.and_(*parts), page)


def organization_choices(actor: Actor) -> list[dict[str, str]]:
    """The organizations the actor supervises, for the filter (a handful)."""
    if not actor.supervised_org_ids:
        return []
    with session_scope() as session:
        return [{"value": str(i), "label": name} for i, name in session.exec(
            select(Organization.id, Organization.name)
            .where(Organization.id.in_(sorted(actor.supervised_org_ids)))  # type: ignore[union-attr]
            .order_by(Organization.name))]
