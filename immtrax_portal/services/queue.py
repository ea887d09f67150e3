"""The staff queue: filters, status-tab counts, sorting and one page of rows, fast at 100,000 requests.

Every filter lives in the page's URL (``QueueFilters.from_query`` / ``to_query``), so a reload or
a shared link shows the same queue; the CSV export reads the same parameters.

How it stays fast (figures in benchmarks/README.md):
- the tab counts of the default page, "Mine", "Unassigned" and a type filter are read from
  ``request_tab_count``, which triggers keep exact on every change of a request (migration
  0008_search_indexes); under any other filter they are one ``GROUP BY status`` on that filter's
  index, never one count per tab;
- a name or e-mail search finds its people on an index (PostgreSQL: pg_trgm GIN indexes; SQLite:
  the FTS5 trigram table ``person_search``), then filters requests by them;
- the organization list of the filter is read once per change, shared by the worker's tabs;
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
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.business_days import business_days_waited, waiting_cutoff
from immtrax_portal.domain.enums import OPEN_STATUSES, AccessLevel, RequestStatus, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditChainHead,
    Grant,
    Organization,
    Person,
    RequestTabCount,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor, covered_owner_ids, require_staff
from immtrax_portal.program_time import machine_time, program_day, program_stamp
from immtrax_portal.services import clock_figures, queue_marks
from immtrax_portal.services.roster import person_name_lower
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
    "time_left": "Least time left first",
    "newest": "Newest first",
    "number": "Request number",
    "organization": "Organization",
}

OWNERS = {"": "Anyone", "mine": "Mine", "unassigned": "Unassigned"}

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
    owner: str = ""

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
        owner = text("owner")
        return cls(
            owner=owner if owner in OWNERS else "",
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
                 "owner": self.owner,
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
    owner: str = ""
    clock: str = ""
    clock_marker: str = ""
    duplicate_of: str = ""
    covering_for: str = ""

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


def _fts_phrase(needle: str) -> str:
    """``needle`` as one FTS5 phrase: inside double quotes every character stands for itself."""
    return '"' + needle.replace('"', '""') + '"'


def matching_people_query(dialect: str, needle: str):
    """SELECT the ids of people whose name or email contains ``needle`` (lower-case), on an index:
    PostgreSQL's trigram indexes (``ix_person_email_trgm``, ``ix_person_full_name_trgm``), SQLite's
    FTS5 trigram table ``person_search`` (case-insensitive, so it finds at least what a lower()
    match did). Fewer than 3 characters hold no trigram: those few searches scan the people."""
    if dialect == "sqlite" and len(needle) >= 3:
        search = sa.table("person_search", sa.column("rowid"))
        return select(search.c.rowid).where(
            sa.text("person_search MATCH :phrase").bindparams(phrase=_fts_phrase(needle)))
    return select(Person.id).where(sa.or_(Person.email.contains(needle, autoescape=True),  # type: ignore[union-attr]
                                          person_name_lower().contains(needle, autoescape=True)))


def _matching_people(session: Session, needle: str) -> list[int]:
    """Ids of people whose name or email contains ``needle``: one indexed lookup per page, shared
    by the counts and the page (bounded; a vaguer search should be refined)."""
    query = matching_people_query(session.get_bind().dialect.name, needle)
    return list(session.exec(query.limit(MAX_PEOPLE_MATCHED)))


def _tab_condition(tab: str):
    if tab == OPEN_TAB:
        return AccessRequest.status.in_([s for s in STATUS_ORDER if s in OPEN_STATUSES])  # type: ignore[attr-defined]
    if tab == ALL_TAB:
        return sa.true()
    return AccessRequest.status == RequestStatus(tab)


def filter_conditions(session: Session, filters: QueueFilters, now: datetime,
                      actor: Actor | None = None) -> list:
    """The WHERE terms of every filter but the tab (a name search looks its people up once)."""
    terms = []
    if filters.owner == "mine":
        # Mine: one's own, and those of the colleagues one stands in for today (a staff backup).
        mine = {actor.person_id, *covered_owner_ids(actor)} if actor else {-1}
        terms.append(AccessRequest.owner_id.in_(sorted(mine)))  # type: ignore[union-attr]
    elif filters.owner == "unassigned":
        terms.append(AccessRequest.owner_id.is_(None))  # type: ignore[union-attr]
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


def ordered_ids(filters: QueueFilters, terms: list, session: Session | None = None,
                now: datetime | None = None):
    """SELECT id ... in the queue's order; joins the organization only to sort by its name."""
    query = select(AccessRequest.id).where(_tab_condition(filters.status), *terms)
    if filters.sort == "organization":
        query = query.join(Organization, Organization.id == AccessRequest.organization_id)
    if filters.sort == "time_left" and session is not None:
        return query.order_by(*clock_figures.time_left_order(session, now or utcnow()))
    return query.order_by(*_order(filters.sort))


# --- Reading ----------------------------------------------------------------------------------------


def _core(session: Session, statement):
    """Run a read of plain columns on the session's connection, past the ORM's per-statement
    bookkeeping (identity map, autoflush, loader options), which a page of columns never needs
    and which cost more than the SQL itself on the queue's page."""
    return session.connection().execute(statement)


def tab_counts(session: Session, terms: list) -> dict[str, int]:
    """Counts per tab under the other filters' ``terms``: one GROUP BY status."""
    grouped = _core(session,
        select(AccessRequest.status, sa.func.count())
        .where(*terms)
        .group_by(AccessRequest.status)
    ).all()
    return _per_tab({str(getattr(status, "value", status)): count for status, count in grouped})


def maintained_counts(session: Session, filters: QueueFilters,
                      actor: Actor | None = None) -> dict[str, int] | None:
    """The tab counts read from ``request_tab_count`` (kept by triggers on every insert, update
    and delete of a request, so they are exact in every transaction): a handful of rows, whatever
    the number of requests. Only the owner and type filters are kept there; None under any other
    filter (its counts come from ``tab_counts``, on that filter's index)."""
    if filters.organization_id or filters.older_than_days or filters.search or filters.overdue_only:
        return None
    query = select(RequestTabCount.status, sa.func.sum(RequestTabCount.n)).group_by(RequestTabCount.status)
    if filters.owner == "mine":
        # Mine: the caller's and those of the colleagues they stand in for today (as in the rows).
        mine = {actor.person_id, *covered_owner_ids(actor)} if actor else {-1}
        query = query.where(RequestTabCount.owner_key.in_(mine))  # type: ignore[attr-defined]
    elif filters.owner == "unassigned":
        query = query.where(RequestTabCount.owner_key == 0)
    if filters.request_type:
        query = query.where(RequestTabCount.request_type == filters.request_type)
    return _per_tab({status: int(count or 0) for status, count in _core(session, query)})


def _per_tab(per_status: dict[str, int]) -> dict[str, int]:
    counts = {s.value: per_status.get(s.value, 0) for s in STATUS_ORDER}
    counts[OPEN_TAB] = sum(counts[s.value] for s in OPEN_STATUSES)
    counts[ALL_TAB] = sum(per_status.values())
    return counts


def _display_rows(session: Session, ids: list[int], now: datetime,
                  covered: frozenset[int] = frozenset()) -> list[QueueRow]:
    """The display columns of just these ids, kept in the given order; a row owned by a colleague
    in ``covered`` (whom the caller stands in for today) is marked with whom it is covered for."""
    if not ids:
        return []
    owner = sa.orm.aliased(Person)
    found = _core(session,
        select(AccessRequest.id, AccessRequest.number, AccessRequest.request_type, AccessRequest.status,
               AccessRequest.created_at, AccessRequest.status_changed_at, Person.first_name,
               Person.last_name, Person.email, Organization.name, AccessRequest.previous_access_level,
               AccessRequest.access_level, Grant.access_level, owner.first_name, owner.last_name,
               AccessRequest.program_seconds, AccessRequest.clock_origin, AccessRequest.organization_id,
               AccessRequest.owner_id)
        .join(Person, Person.id == AccessRequest.subject_person_id)
        .join(Organization, Organization.id == AccessRequest.organization_id)
        # The level held today: the "from" of an open Permissions Change kept no level of its own.
        .join(Grant, sa.and_(Grant.person_id == AccessRequest.subject_person_id,
                             Grant.organization_id == AccessRequest.organization_id), isouter=True)
        .join(owner, owner.id == AccessRequest.owner_id, isouter=True)
        .where(AccessRequest.id.in_(ids))  # type: ignore[union-attr]
    ).all()
    by_id = {row[0]: row for row in found}
    cutoffs = overdue_cutoffs(now)
    zone = get_settings().business_time_zone
    duplicates = queue_marks.likely_duplicates(
        session, [(row[0], row[17], row[6], row[7]) for row in found if RequestStatus(row[3]).is_open])
    targets = clock_figures.targets(session)
    rows = []
    for request_id in ids:
        (_, number, kind, status, created, since, first, last, email, org, before, after, held,
         owner_first, owner_last, program_seconds, origin, _org_id, owner_id) = by_id[request_id]
        status = RequestStatus(status)
        before = before or (held if status.is_open else None)
        waited = business_days_waited(since, now, zone)
        clock_text, clock_marker = clock.clock_text(
            status, clock.program_seconds_now(program_seconds, origin, now, zone),
            targets.get(RequestType(kind), clock.DEFAULT_TARGET_HOURS))
        rows.append(QueueRow(
            number=number, type_label=type_text(RequestType(kind), before, after),
            person=f"{first} {last}", email=email,
            organization=org, status=status.value, status_label=status.label,
            submitted=program_day(created), waiting_since=program_stamp(since),
            waited=_waited_text(waited) if status.is_open else "closed",
            overdue=overdue_marker(status, since, cutoffs) if status.is_open else "",
            owner=f"{owner_first} {owner_last}" if owner_first else "", clock=clock_text,
            covering_for=f"{owner_first} {owner_last}" if owner_id in covered and status.is_open else "",
            clock_marker=clock_marker,
            duplicate_of=duplicates.get(request_id, ""),
        ))
    return rows


def type_text(kind: RequestType, before: AccessLevel | str | None, after: AccessLevel | str | None) -> str:
    """The type as the queue shows it; a Permissions Change with its levels, from → to."""
    if kind != RequestType.PERMISSIONS_CHANGE or not before or not after:
        return kind.label
    return f"{kind.label}: {AccessLevel(before).label} → {AccessLevel(after).label}"


def _waited_text(business_days: int) -> str:
    if business_days == 0:
        return "under 1 business day"
    return f"{business_days} business day{'s' if business_days != 1 else ''}"


def queue_page(actor: Actor, filters: QueueFilters, now: datetime | None = None) -> QueuePage:
    """One page of the queue for program staff (NotAllowed for anyone else)."""
    require_staff(actor)
    now = now or utcnow()
    with session_scope() as session:
        terms = filter_conditions(session, filters, now, actor)
        counts = maintained_counts(session, filters, actor)
        if counts is None:
            counts = tab_counts(session, terms)
        total = counts[filters.status]
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(filters.page, pages)
        ids = list(_core(session, ordered_ids(filters, terms, session, now)
                         .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars())
        rows = _display_rows(session, ids, now, covered_owner_ids(actor))
    return QueuePage(rows=rows, counts=counts, total=total, page=page, pages=pages,
                     filters=filters.with_changes(page=page))


def organization_choices(actor: Actor, limit: int = 2000) -> list[tuple[int, str]]:
    """Organizations for the filter's list, by name (bounded; the program has a few hundred).

    Read once per change and shared by every tab of the worker: each call reads one row of
    markers (the audit chain's head, which every audited change moves, and the organizations'
    highest id and number) and re-reads the list only when they moved."""
    require_staff(actor)
    with session_scope() as session:
        marker = tuple(session.exec(select(
            select(AuditChainHead.last_seq).where(AuditChainHead.id == 1).scalar_subquery(),
            select(sa.func.max(Organization.id)).scalar_subquery(),
            select(sa.func.count()).select_from(Organization).scalar_subquery())).one())
        key = (str(session.get_bind().engine.url), limit)
        cached = _ORGANIZATIONS.get(key)
        if cached is not None and cached[0] == marker:
            return list(cached[1])
        choices = [(org_id, name) for org_id, name in session.exec(
            select(Organization.id, Organization.name).order_by(Organization.name).limit(limit))]
    if len(_ORGANIZATIONS) > 16:  # one entry per database; tests make many
        _ORGANIZATIONS.clear()
    _ORGANIZATIONS[key] = (marker, choices)
    return list(choices)


_ORGANIZATIONS: dict[tuple[str, int], tuple[tuple, list[tuple[int, str]]]] = {}


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
    with session_scope() as session:
        terms = [_tab_condition(filters.status), *filter_conditions(session, filters, now)]
        for (number, kind, status, org, code, first, last, email, created, since,
             completed) in session.exec(query.where(*terms)):
            status = RequestStatus(status)
            yield [number, RequestType(kind).label, status.label, org, code, f"{first} {last}", email,
                   machine_time(created), machine_time(since),
                   machine_time(completed) if completed else "",
                   overdue_marker(status, since, cutoffs) if status.is_open else ""]
