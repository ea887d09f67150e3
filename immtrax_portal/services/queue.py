"""The staff queue: filters, status-tab counts, sorting and one page of rows, fast at 100,000 requests.

Every filter lives in the page's URL (``QueueFilters.from_query`` / ``to_query``), so a reload or
a shared link shows the same queue; the CSV export reads the same parameters.

How it stays fast (figures in benchmarks/README.md):
- the tab counts are one ``GROUP BY status`` over the other filters, never one count per tab;
- a page is found by ids only (``ORDER BY`` on an index, ``LIMIT/OFFSET``), and only its 20 ids
  are then joined with the person and organization tables;
- the indexes ``ix_access_request_status_waiting`` (status, status_changed_at, id),
  ``ix_access_request_created`` (created_at, id), ``ix_access_request_type_created`` and
  ``ix_access_request_org_status`` serve the tabs, sorts and filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.business_days import business_days_waited, waiting_cutoff
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Organization, Person, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.program_time import program_day, program_stamp
from immtrax_portal.settings import get_settings

PAGE_SIZE = 20
MAX_PAGE = 100_000
MAX_SEARCH = 100
MAX_AGE_DAYS = 3650
MAX_PEOPLE_MATCHED = 5000
FIRST_NUMBER_YEAR = 2020

OPEN_TAB, ALL_TAB = "open", "all"
# Tabs in the order shown: the open work first, closed requests after.
STATUS_ORDER = [RequestStatus.SUBMITTED, RequestStatus.AWAITING_AGREEMENT, RequestStatus.IN_REVIEW,
                RequestStatus.NEEDS_INFO, RequestStatus.COMPLETED, RequestStatus.REJECTED,
                RequestStatus.CANCELLED, RequestStatus.EXPIRED]
TABS = [OPEN_TAB, *[s.value for s in STATUS_ORDER], ALL_TAB]
TAB_LABELS = {OPEN_TAB: "All open", ALL_TAB: "All", **{s.value: s.label for s in STATUS_ORDER}}

SORTS = {
    "waiting": "Waiting longest first",
    "newest": "Newest first",
    "number": "Request number",
    "organization": "Organization",
}

_NUMBER_PREFIX = re.compile(r"^imr-\d{0,4}(-\d{0,6})?$")
_DIGITS = re.compile(r"^\d{1,6}$")


@dataclass(frozen=True)
class QueueFilters:
    """What the staff member asked to see; always bounded and valid once built."""

    status: str = OPEN_TAB
    request_type: str = ""
    organization_id: int = 0
    older_than_days: int = 0
    search: str = ""
    overdue_only: bool = False
    sort: str = "waiting"
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, object]) -> QueueFilters:
        """Coerce untrusted URL or form values; anything unknown falls back to the default."""
        def text(name: str, limit: int = 40) -> str:
            return str(params.get(name, "") or "").strip()[:limit]

        def number(name: str, high: int) -> int:
            raw = text(name, 12)
            return min(int(raw), high) if raw.isascii() and raw.isdigit() else 0

        status = text("status")
        kind = text("type")
        sort = text("sort")
        return cls(
            status=status if status in TABS else OPEN_TAB,
            request_type=kind if kind in RequestType._value2member_map_ else "",
            organization_id=number("org", 2**31 - 1),
            older_than_days=number("older_than", MAX_AGE_DAYS),
            search=" ".join(text("q", MAX_SEARCH).split()),
            overdue_only=text("overdue") in ("1", "on", "true", "yes"),
            sort=sort if sort in SORTS else "waiting",
            page=max(1, number("page", MAX_PAGE)),
        )

    def to_query(self) -> str:
        """The URL query for these filters (defaults left out), e.g. ``status=in_review&q=nora``."""
        pairs = {"status": self.status if self.status != OPEN_TAB else "",
                 "type": self.request_type, "org": self.organization_id or "",
                 "older_than": self.older_than_days or "", "q": self.search,
                 "overdue": "1" if self.overdue_only else "",
                 "sort": self.sort if self.sort != "waiting" else "",
                 "page": self.page if self.page > 1 else ""}
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def with_changes(self, **changes) -> QueueFilters:
        return replace(self, **changes)


@dataclass(frozen=True)
class QueueRow:
    """One formatted row; the browser receives nothing more."""

    number: str
    type_label: str
    person: str
    email: str
    organization: str
    status: str
    status_label: str
    submitted: str
    waiting_since: str
    waited: str
    overdue: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    counts: dict[str, int]  # per tab, under the other filters
    total: int
    page: int
    pages: int
    filters: QueueFilters


# --- Overdue ---------------------------------------------------------------------------------------


def overdue_targets() -> dict[RequestStatus, int]:
    """Business days a request may wait in each status the program works (settings)."""
    s = get_settings()
    return {RequestStatus.SUBMITTED: s.overdue_submitted_business_days,
            RequestStatus.IN_REVIEW: s.overdue_review_business_days,
            RequestStatus.NEEDS_INFO: s.overdue_needs_info_business_days}


def overdue_cutoffs(now: datetime) -> dict[RequestStatus, datetime]:
    zone = get_settings().business_time_zone
    return {status: waiting_cutoff(now, days, zone) for status, days in overdue_targets().items()}


def overdue_condition(now: datetime):
    """SQL: the request has waited in its status longer than that status's target."""
    return sa.or_(*[sa.and_(AccessRequest.status == status, AccessRequest.status_changed_at < cutoff)
                    for status, cutoff in overdue_cutoffs(now).items()])


def overdue_marker(status: RequestStatus, since: datetime, cutoffs: dict[RequestStatus, datetime]) -> str:
    """The visible text marker (never colour alone), or "" when within target."""
    cutoff = cutoffs.get(status)
    if cutoff is None or since >= cutoff:
        return ""
    days = overdue_targets()[status]
    return f"Overdue (target {days} business day{'s' if days != 1 else ''})"


# --- Conditions ------------------------------------------------------------------------------------


def _search_condition(session: Session, search: str, now: datetime):
    """A request number (whole, prefix, or its last digits), or part of a name or email."""
    needle = search.strip().lower()
    if _NUMBER_PREFIX.match(needle):
        prefix = needle.upper()
        return sa.and_(AccessRequest.number >= prefix, AccessRequest.number < prefix + "~")
    if _DIGITS.match(needle):
        # The sequence part of a number: one exact number per year, each found on the unique index.
        years = range(FIRST_NUMBER_YEAR, now.year + 2)
        return AccessRequest.number.in_([f"IMR-{year}-{needle.zfill(6)}" for year in years])  # type: ignore[union-attr]
    return AccessRequest.subject_person_id.in_(_matching_people(session, needle))  # type: ignore[attr-defined]


def _matching_people(session: Session, needle: str) -> list[int]:
    """Ids of people whose name or email contains ``needle``: one scan of the person table per
    page, shared by the counts and the page (bounded; a vaguer search should be refined)."""
    full_name = sa.func.lower(Person.first_name + " " + Person.last_name)
    return list(session.exec(
        select(Person.id).where(sa.or_(Person.email.contains(needle, autoescape=True),  # type: ignore[union-attr]
                                       full_name.contains(needle, autoescape=True)))
        .limit(MAX_PEOPLE_MATCHED)))


def _tab_condition(tab: str):
    if tab == OPEN_TAB:
        return AccessRequest.status.in_([s for s in STATUS_ORDER if s in OPEN_STATUSES])  # type: ignore[attr-defined]
    if tab == ALL_TAB:
        return sa.true()
    return AccessRequest.status == RequestStatus(tab)


def filter_conditions(session: Session, filters: QueueFilters, now: datetime) -> list:
    """The WHERE terms of every filter but the tab (a name search looks its people up once)."""
    terms = []
    if filters.request_type:
        terms.append(AccessRequest.request_type == RequestType(filters.request_type))
    if filters.organization_id:
        terms.append(AccessRequest.organization_id == filters.organization_id)
    if filters.older_than_days:
        terms.append(AccessRequest.created_at < now - timedelta(days=filters.older_than_days))
    if filters.search:
        terms.append(_search_condition(session, filters.search, now))
    if filters.overdue_only:
        terms.append(overdue_condition(now))
    return terms


def _order(sort: str) -> list:
    if sort == "newest":
        return [AccessRequest.created_at.desc(), AccessRequest.id.desc()]  # type: ignore[union-attr]
    if sort == "number":
        return [AccessRequest.number.asc()]  # type: ignore[union-attr]
    if sort == "organization":
        return [Organization.name.asc(), AccessRequest.status_changed_at.asc(),  # type: ignore[union-attr]
                AccessRequest.id.asc()]  # type: ignore[union-attr]
    return [AccessRequest.status_changed_at.asc(), AccessRequest.id.asc()]  # type: ignore[union-attr]


def ordered_ids(filters: QueueFilters, terms: list):
    """SELECT id ... in the queue's order; joins the organization only to sort by its name."""
    query = select(AccessRequest.id).where(_tab_condition(filters.status), *terms)
    if filters.sort == "organization":
        query = query.join(Organization, Organization.id == AccessRequest.organization_id)
    return query.order_by(*_order(filters.sort))


# --- Reading ----------------------------------------------------------------------------------------


def tab_counts(session: Session, terms: list) -> dict[str, int]:
    """Counts per tab under the other filters' ``terms``: one GROUP BY status."""
    grouped = session.exec(
        select(AccessRequest.status, sa.func.count())
        .where(*terms)
        .group_by(AccessRequest.status)
    ).all()
    per_status = {str(getattr(status, "value", status)): count for status, count in grouped}
    counts = {s.value: per_status.get(s.value, 0) for s in STATUS_ORDER}
    counts[OPEN_TAB] = sum(counts[s.value] for s in OPEN_STATUSES)
    counts[ALL_TAB] = sum(per_status.values())
    return counts


def _display_rows(session: Session, ids: list[int], now: datetime) -> list[QueueRow]:
    """The display columns of just these ids, kept in the given order."""
    if not ids:
        return []
    found = session.exec(
        select(AccessRequest.id, AccessRequest.number, AccessRequest.request_type, AccessRequest.status,
               AccessRequest.created_at, AccessRequest.status_changed_at, Person.first_name,
               Person.last_name, Person.email, Organization.name)
        .join(Person, Person.id == AccessRequest.subject_person_id)
        .join(Organization, Organization.id == AccessRequest.organization_id)
        .where(AccessRequest.id.in_(ids))  # type: ignore[union-attr]
    ).all()
    by_id = {row[0]: row for row in found}
    cutoffs = overdue_cutoffs(now)
    zone = get_settings().business_time_zone
    rows = []
    for request_id in ids:
        _, number, kind, status, created, since, first, last, email, org = by_id[request_id]
        status = RequestStatus(status)
        waited = business_days_waited(since, now, zone)
        rows.append(QueueRow(
            number=number, type_label=RequestType(kind).label, person=f"{first} {last}", email=email,
            organization=org, status=status.value, status_label=status.label,
            submitted=program_day(created), waiting_since=program_stamp(since),
            waited=_waited_text(waited) if status.is_open else "closed",
            overdue=overdue_marker(status, since, cutoffs) if status.is_open else "",
        ))
    return rows


def _waited_text(business_days: int) -> str:
    if business_days == 0:
        return "under 1 business day"
    return f"{business_days} business day{'s' if business_days != 1 else ''}"


def queue_page(actor: Actor, filters: QueueFilters, now: datetime | None = None) -> QueuePage:
    """One page of the queue for program staff (NotAllowed for anyone else)."""
    require_staff(actor)
    now = now or utcnow()
    with session_scope() as session:
        terms = filter_conditions(session, filters, now)
        counts = tab_counts(session, terms)
        total = counts[filters.status]
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(filters.page, pages)
        ids = list(session.exec(ordered_ids(filters, terms).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        rows = _display_rows(session, ids, now)
    return QueuePage(rows=rows, counts=counts, total=total, page=page, pages=pages,
                     filters=filters.with_changes(page=page))


def organization_choices(actor: Actor, limit: int = 2000) -> list[tuple[int, str]]:
    """Organizations for the filter's list, by name (bounded; the program has a few hundred)."""
    require_staff(actor)
    with session_scope() as session:
        return [(org_id, name) for org_id, name in session.exec(
            select(Organization.id, Organization.name).order_by(Organization.name).limit(limit))]


EXPORT_BATCH = 500
EXPORT_COLUMNS = ["Number", "Type", "Status", "Organization", "Organization code", "Person", "Email",
                  "Submitted (UTC)", "In this status since (UTC)", "Completed (UTC)", "Overdue"]


def export_rows(filters: QueueFilters, now: datetime | None = None) -> Iterator[list[str]]:
    """Every request matching ``filters`` in queue order, as CSV cells, read in batches of
    ``EXPORT_BATCH`` (the caller has checked the staff role; see downloads/queue_csv.py)."""
    now = now or utcnow()
    cutoffs = overdue_cutoffs(now)
    query = (
        select(AccessRequest.number, AccessRequest.request_type, AccessRequest.status, Organization.name,
               Organization.code, Person.first_name, Person.last_name, Person.email,
               AccessRequest.created_at, AccessRequest.status_changed_at, AccessRequest.completed_at)
        .join(Person, Person.id == AccessRequest.subject_person_id)
        .join(Organization, Organization.id == AccessRequest.organization_id)
        .order_by(*_order(filters.sort))
        .execution_options(yield_per=EXPORT_BATCH)
    )
    stamp = "%Y-%m-%d %H:%M"
    with session_scope() as session:
        terms = [_tab_condition(filters.status), *filter_conditions(session, filters, now)]
        for (number, kind, status, org, code, first, last, email, created, since,
             completed) in session.exec(query.where(*terms)):
            status = RequestStatus(status)
            yield [number, RequestType(kind).label, status.label, org, code, f"{first} {last}", email,
                   created.strftime(stamp), since.strftime(stamp),
                   completed.strftime(stamp) if completed else "",
                   overdue_marker(status, since, cutoffs) if status.is_open else ""]
