"""Inactivity from the registry's own report: the last imMTrax login of each username.

Staff upload the report imMTrax produces (CSV: ``username,last_login``). As with the organization
import (``services/org_import.py``, whose file checks this reuses), parsing is pure and bounded,
the preview says per row what would change, and ``apply_report`` re-plans in one transaction and
refuses when the plan no longer matches what was previewed. Importing the same report twice
changes nothing the second time (every row is "unchanged"), and an older login never replaces a
newer one.

What follows, in ``run_inactivity(now)`` (idempotent, on the housekeeping loop): people idle for
``idle_confirm_days`` are listed to their supervisors, who are emailed once per reported login, to
confirm or remove; at ``idle_deletion_days`` an Access Deletion is opened for staff to confirm
(once per reported login: a rejected deletion is not reopened until a newer report).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import (
    Grant,
    Organization,
    Person,
    RegistryActivity,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_review_answer, require_staff
from immtrax_portal.program_time import program_date, program_zone
from immtrax_portal.services import audit, emails
from immtrax_portal.services.automatic_deletion import open_automatic_deletion, supervisor_emails
from immtrax_portal.services.org_import import ImportFileRejected, RowError, _text_of
from immtrax_portal.settings import get_settings

MAX_BYTES = 1_000_000
MAX_ROWS = 20_000
COLUMNS = ("username", "last_login")
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_LOOKUP_CHUNK = 500

_activity = RegistryActivity.__table__  # type: ignore[attr-defined]


class ReportOutdated(RuntimeError):
    def __init__(self, plan: ReportPlan) -> None:
        super().__init__("What the portal knows changed since your preview. Check the new preview "
                         "below and confirm again.")
        self.plan = plan


@dataclass(frozen=True)
class ReportRow:
    row: int
    username: str        # lower-cased
    last_login_at: datetime


@dataclass(frozen=True)
class ParsedReport:
    digest: str
    rows: tuple[ReportRow, ...]
    errors: tuple[RowError, ...]


def parse_last_login(value: str) -> datetime:
    """``2026-03-01``, ``2026-03-01 14:05[:09]`` or ``03/01/2026``, read in the program's time zone."""
    text = value.strip()
    if len(text) > 32:
        raise ValueError("The last login is too long to be a date.")
    try:
        if m := _DATE.fullmatch(text):
            y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
            local = datetime(y, mo, d, h, mi, s)
        elif m := _US_DATE.fullmatch(text):
            mo, d, y = (int(x) for x in m.groups())
            local = datetime(y, mo, d)
        else:
            raise ValueError
    except ValueError:
        raise ValueError("Give the last login as a date like 2026-03-01 (or 03/01/2026).") from None
    return local.replace(tzinfo=program_zone()).astimezone(UTC)


def parse_report(data: bytes, *, now: datetime | None = None) -> ParsedReport:
    """Rows and per-row errors of the registry's report; ``ImportFileRejected`` for the whole file.
    One pass over the text (the csv module and fixed, anchored patterns): linear in its size."""
    now = now or utcnow()
    text = _text_of(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ReportRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        header = next(reader, None)
        names = [h.strip().lower() for h in header or []]
        if sorted(names) != sorted(COLUMNS):
            raise ImportFileRejected("The first row must name the two columns username and last_login.")
        at = {name: names.index(name) for name in COLUMNS}
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise ImportFileRejected(f"The file has more than {MAX_ROWS:,} rows. Split it into "
                                         "smaller files.")
            outcome = _row_of(number, values, at, seen, now)
            (rows if isinstance(outcome, ReportRow) else errors).append(outcome)
    except csv.Error as problem:
        raise ImportFileRejected(f"The file is not valid CSV at row {reader.line_num} ({problem}). "
                                 "Check the quotes on that row.") from None
    if not rows and not errors:
        raise ImportFileRejected("The file has a header row but no users.")
    return ParsedReport(hashlib.sha256(data).hexdigest(), tuple(rows), tuple(errors))


def _row_of(number: int, values: list[str], at: dict[str, int], seen: dict[str, int],
            now: datetime) -> ReportRow | RowError:
    if len(values) > len(COLUMNS):
        return RowError(number, "", f"This row has {len(values)} values; the report has two columns.")
    raw = values[at["username"]].strip() if at["username"] < len(values) else ""
    shown = raw[:40]
    if not _USERNAME.fullmatch(raw):
        return RowError(number, shown, "The username is missing or has characters imMTrax usernames "
                                       "do not have.")
    username = raw.lower()
    try:
        login = parse_last_login(values[at["last_login"]] if at["last_login"] < len(values) else "")
    except ValueError as problem:
        return RowError(number, shown, str(problem))
    if login > now + timedelta(days=1):
        return RowError(number, shown, "The last login is in the future.")
    if username in seen:
        return RowError(number, shown, f"The username {shown} is already on row {seen[username]}.")
    seen[username] = number
    return ReportRow(number, username, login)


# --- Planning ---------------------------------------------------------------------------------------

NEW, NEWER, UNCHANGED = "new", "newer", "unchanged"
OUTCOME_LABELS = {NEW: "First report", NEWER: "Later login", UNCHANGED: "Unchanged"}


@dataclass(frozen=True)
class PlannedReportRow:
    row: int
    outcome: str
    username: str
    last_login_at: datetime
    people: str        # who holds access under this username, and where


@dataclass(frozen=True)
class ReportPlan:
    digest: str
    rows: tuple[PlannedReportRow, ...]
    errors: tuple[RowError, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def changes(self) -> int:
        return self.count(NEW) + self.count(NEWER)

    @property
    def fingerprint(self) -> str:
        promised = [(r.row, r.outcome, r.username) for r in self.rows]
        promised += [(e.row, "error", e.message) for e in self.errors]
        return hashlib.sha256(json.dumps([self.digest, promised]).encode()).hexdigest()


def _holders(session: Session, usernames: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for start in range(0, len(usernames), _LOOKUP_CHUNK):
        chunk = usernames[start:start + _LOOKUP_CHUNK]
        for username, first, last, org in session.exec(
                select(sa.func.lower(Grant.immtrax_username), Person.first_name, Person.last_name,
                       Organization.name)
                .join(Person, Person.id == Grant.person_id)
                .join(Organization, Organization.id == Grant.organization_id)
                .where(sa.func.lower(Grant.immtrax_username).in_(chunk), Grant.active)):
            found.setdefault(username, []).append(f"{first} {last} ({org})")
    return found


def _plan(session: Session, parsed: ParsedReport) -> ReportPlan:
    names = [r.username for r in parsed.rows]
    known: dict[str, RegistryActivity] = {}
    for start in range(0, len(names), _LOOKUP_CHUNK):
        known.update((a.username, a) for a in session.exec(select(RegistryActivity).where(
            RegistryActivity.username.in_(names[start:start + _LOOKUP_CHUNK]))))  # type: ignore[attr-defined]
    holders = _holders(session, names)
    planned, errors = [], list(parsed.errors)
    for row in parsed.rows:
        if row.username not in holders:
            errors.append(RowError(row.row, row.username[:40], "No one with active access in the portal "
                                                               "has this imMTrax username."))
            continue
        before = known.get(row.username)
        outcome = NEW if before is None else NEWER if row.last_login_at > before.last_login_at else UNCHANGED
        planned.append(PlannedReportRow(row.row, outcome, row.username, row.last_login_at,
                                        "; ".join(holders[row.username])[:300]))
    errors.sort(key=lambda e: e.row)
    return ReportPlan(parsed.digest, tuple(planned), tuple(errors))


def plan_report(actor: Actor, parsed: ParsedReport) -> ReportPlan:
    require_staff(actor)
    with session_scope() as session:
        return _plan(session, parsed)


def apply_report(actor: Actor, parsed: ParsedReport, previewed_fingerprint: str, *,
                 now: datetime | None = None, source_ip: str = "") -> int:
    """Store the previewed logins, all or nothing; returns how many usernames changed."""
    require_staff(actor)
    now = now or utcnow()
    with session_scope() as session:
        plan = _plan(session, parsed)
        if plan.fingerprint != previewed_fingerprint:
            raise ReportOutdated(plan)
        for row in plan.rows:
            if row.outcome == NEW:
                session.add(RegistryActivity(username=row.username, last_login_at=row.last_login_at,
                                             reported_at=now, report_digest=parsed.digest))
            elif row.outcome == NEWER:
                session.execute(_activity.update().where(_activity.c.username == row.username,
                                                         _activity.c.last_login_at < row.last_login_at)
                                .values(last_login_at=row.last_login_at, reported_at=now,
                                        report_digest=parsed.digest))
        audit.record(session, action=AuditAction.IMPORT_ACTIVITY_REPORT, actor_id=actor.person_id,
                     actor_role=actor.role, target_type="activity_report", target_id=parsed.digest[:64],
                     source_ip=source_ip, details={"new": plan.count(NEW), "newer": plan.count(NEWER),
                                                   "unchanged": plan.count(UNCHANGED),
                                                   "rows_in_error": len(plan.errors)})
        return plan.changes


# --- What follows from it ----------------------------------------------------------------------------

def _idle_since(days: int, now: datetime):
    return RegistryActivity.last_login_at <= now - timedelta(days=days)


def _idle_grants(*where):
    return (select(Grant, RegistryActivity)
            .join(RegistryActivity, RegistryActivity.username == sa.func.lower(Grant.immtrax_username))
            .where(Grant.active, Grant.immtrax_username != "", *where))


def notify_idle(now: datetime) -> int:
    """Email each organization's supervisors once per newly idle batch (per reported login)."""
    days = get_settings().idle_confirm_days
    with session_scope() as session:
        rows = session.exec(_idle_grants(
            _idle_since(days, now),
            sa.or_(RegistryActivity.notified_for.is_(None),  # type: ignore[union-attr]
                   RegistryActivity.notified_for != RegistryActivity.last_login_at))
            .order_by(Grant.organization_id).limit(2_000)).all()
        batches: dict[int, list[tuple[str, datetime]]] = {}
        for grant, activity in rows:
            batches.setdefault(grant.organization_id, []).append((activity.username, activity.last_login_at))
    told = 0
    for org_id, entries in batches.items():
        with session_scope() as session:
            fresh = 0
            for username, login in entries:
                won = session.execute(_activity.update().where(
                    _activity.c.username == username, _activity.c.last_login_at == login,
                    sa.or_(_activity.c.notified_for.is_(None), _activity.c.notified_for != login))
                    .values(notified_for=login)).rowcount
                fresh += won
            if not fresh:
                continue
            organization = session.get(Organization, org_id)
            for address in supervisor_emails(session, org_id):
                emails.idle_notice(session, to=address, organization=organization, people=len(entries))
            audit.record(session, action=AuditAction.IDLE_NOTICE, actor_id=None, actor_role=Role.SYSTEM,
                         organization_id=org_id, target_type="organization", target_id=org_id,
                         reason=f"No imMTrax sign-in for {days} days (registry report)",
                         details={"people": len(entries)})
            told += 1
    return told


def open_idle_deletions(now: datetime) -> int:
    """An Access Deletion for each active grant idle ``idle_deletion_days``, once per reported login
    (all the grants under one username in one transaction, then the login is marked done)."""
    days = get_settings().idle_deletion_days
    with session_scope() as session:
        due = list(session.exec(
            select(RegistryActivity.username, RegistryActivity.last_login_at).where(
                _idle_since(days, now),
                sa.or_(RegistryActivity.deletion_for.is_(None),  # type: ignore[union-attr]
                       RegistryActivity.deletion_for != RegistryActivity.last_login_at),
                sa.exists().where(sa.func.lower(Grant.immtrax_username) == RegistryActivity.username,
                                  Grant.active))
            .order_by(RegistryActivity.last_login_at).limit(500)))
    opened = 0
    for username, login in due:
        with session_scope() as session:
            won = session.execute(_activity.update().where(
                _activity.c.username == username, _activity.c.last_login_at == login,
                sa.or_(_activity.c.deletion_for.is_(None), _activity.c.deletion_for != login))
                .values(deletion_for=login)).rowcount
            if won != 1:
                continue  # another run took it, or a newer report came in
            rule = f"No imMTrax sign-in for {days} days (registry report: last login {program_date(login)})"
            grants = session.exec(select(Grant).where(sa.func.lower(Grant.immtrax_username) == username,
                                                      Grant.active).order_by(Grant.id)
                                  .with_for_update()).all()
            for grant in grants:
                organization = session.get(Organization, grant.organization_id)
                request = open_automatic_deletion(
                    session, grant, key=f"idle-{grant.id}-{int(login.timestamp())}",
                    cause=AuditAction.IDLE_AUTO_DELETION, rule=rule, now=now,
                    details={"username": username, "last_login": login.isoformat()},
                    reason=(f"imMTrax reports no sign-in by {username} since {program_date(login)}, "
                            f"more than {days} days ago, at {organization.name}."))
                opened += 1 if request is not None else 0
    return opened


def run_inactivity(now: datetime) -> int:
    """The inactivity housekeeping job: idempotent, safe to run twice or on several workers."""
    return notify_idle(now) + open_idle_deletions(now)


# --- The supervisor's answer, and reading -----------------------------------------------------------

def confirm_idle(actor: Actor, grant_id: int, *, source_ip: str = "") -> None:
    """A supervisor says this idle person still needs access (until a newer report)."""
    with session_scope() as session:
        grant = session.get(Grant, int(grant_id))
        if grant is None or not grant.active:
            raise NotAllowed("That person has no active access.", target_type="grant", target_id=grant_id)
        require_review_answer(actor, grant.organization_id, grant.person_id, target_type="grant",
                              target_id=grant.id)
        activity = session.get(RegistryActivity, grant.immtrax_username.lower())
        if activity is None or activity.confirmed_for == activity.last_login_at:
            return
        session.execute(_activity.update().where(_activity.c.username == activity.username)
                        .values(confirmed_for=activity.last_login_at, confirmed_by_id=actor.person_id))
        audit.record(session, action=AuditAction.IDLE_CONFIRMED, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=grant.organization_id, target_type="grant",
                     target_id=grant.id, source_ip=source_ip,
                     details={"username": activity.username,
                              "last_login": activity.last_login_at.isoformat()})


def idle_days(last_login_at: datetime, now: datetime) -> int:
    return max(0, (now - last_login_at).days)


def last_activity_subquery():
    """The registry's last login of a grant's username (correlated to ``Grant``), for rosters."""
    return (select(RegistryActivity.last_login_at)
            .where(RegistryActivity.username == sa.func.lower(Grant.immtrax_username))
            .correlate(Grant).scalar_subquery())


def describe_last_activity(value, now: datetime | None = None) -> str:
    if value is None:
        return "Not reported"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    idle = idle_days(value, now or utcnow())
    ago = "today" if idle == 0 else "1 day ago" if idle == 1 else f"{idle} days ago"
    return f"{program_date(value)} ({ago})"


@dataclass(frozen=True)
class IdlePerson:
    grant_id: int
    person_id: int
    organization_id: int
    organization_name: str
    name: str
    level: str
    username: str
    last_login: str
    days: int


def idle_people(actor: Actor, *, now: datetime | None = None, limit: int = 50) -> list[IdlePerson]:
    """People at the actor's organizations idle ``idle_confirm_days`` and not yet confirmed for
    this login; the oldest logins first (bounded)."""
    now = now or utcnow()
    if not actor.supervised_org_ids:
        return []
    with session_scope() as session:
        rows = session.exec(
            select(Grant, RegistryActivity, Person, Organization.name)
            .join(RegistryActivity, RegistryActivity.username == sa.func.lower(Grant.immtrax_username))
            .join(Person, Person.id == Grant.person_id)
            .join(Organization, Organization.id == Grant.organization_id)
            .where(Grant.active, Grant.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
                   _idle_since(get_settings().idle_confirm_days, now),
                   sa.or_(RegistryActivity.confirmed_for.is_(None),  # type: ignore[union-attr]
                          RegistryActivity.confirmed_for != RegistryActivity.last_login_at))
            .order_by(RegistryActivity.last_login_at, Grant.id).limit(limit)).all()
        return [IdlePerson(g.id, p.id, g.organization_id, org_name, p.full_name, g.access_level.label,
                           a.username, program_date(a.last_login_at), idle_days(a.last_login_at, now))
                for g, a, p, org_name in rows]
