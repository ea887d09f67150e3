"""Access that ends on a set day: a scheduled Access Deletion, or time-limited access.

- An Access Deletion whose last day is still ahead does not suspend access at submission: it
  schedules the end (``kind = scheduled_removal``) at the end of that day in the program's time
  zone. The supervisor can move the day until then, or cancel the deletion (which cancels the end).
- A New Access or Change Employer with an end date (students, temporary staff) schedules the end
  when it is provisioned (``kind = end_date``); the supervisor is reminded before it (by default 14
  and 1 days) and can extend it with one action.

At ``ends_at`` the housekeeping job ends the access: the grant is suspended, the organization's
supervisors and the program are told, and the event names the system and the rule. Each effect is
one transaction guarded by ``done_at IS NULL``, so running twice ends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import (
    AccessEnd,
    AccessRequest,
    Grant,
    Organization,
    Person,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    require_may_change_access_end,
    require_staff,
)
from immtrax_portal.domain.validation import MAX_LAST_DAY_DAYS_AHEAD, parse_date
from immtrax_portal.program_time import end_of_program_day, program_today
from immtrax_portal.services import audit, lifecycle_emails, succession
from immtrax_portal.settings import get_settings

SCHEDULED_REMOVAL = "scheduled_removal"
END_DATE = "end_date"
RULE = {SCHEDULED_REMOVAL: "scheduled_removal.last_day_ended", END_DATE: "time_limited_access.end_date"}
BATCH = 200
PAGE_SIZE = 20
MAX_ACCESS_END_DAYS_AHEAD = 365

_ends = AccessEnd.__table__  # type: ignore[attr-defined]
_OPEN = (AccessEnd.done_at.is_(None), AccessEnd.cancelled_at.is_(None))  # type: ignore[union-attr]


class AccessEndProblem(ValueError):
    """A day that cannot be used; the message is for the field."""


# --- Scheduling (called inside the transaction of the request that causes it) -------------------


def is_ahead(last_day: date | None, now: datetime | None = None) -> bool:
    """Whether access should wait for ``last_day`` instead of ending at once."""
    return last_day is not None and last_day > program_today(now)


def schedule(session: Session, grant: Grant, kind: str, last_day: date, *, request: AccessRequest | None,
             actor_id: int | None, actor_role: Role | str, source_ip: str = "") -> AccessEnd:
    """The grant ends at the end of ``last_day``; an open end of the same grant is replaced."""
    for earlier in session.exec(select(AccessEnd).where(AccessEnd.grant_id == grant.id, *_OPEN)):
        earlier.cancelled_at = utcnow()
        session.add(earlier)
    session.flush()
    end = AccessEnd(grant_id=grant.id, organization_id=grant.organization_id,
                    request_id=request.id if request else None, kind=kind, last_day=last_day,
                    ends_at=end_of_program_day(last_day))
    session.add(end)
    session.flush()
    audit.record(session, action=AuditAction.ACCESS_END_SCHEDULED, actor_id=actor_id, actor_role=actor_role,
                 organization_id=grant.organization_id, request_id=end.request_id, target_type="grant",
                 target_id=grant.id, source_ip=source_ip,
                 details={"kind": kind, "last_day": last_day.isoformat(), "access_end_id": end.id})
    return end


def cancel_for_request(session: Session, request: AccessRequest, *, actor_id: int | None,
                       actor_role: Role | str, source_ip: str = "") -> bool:
    """A cancelled or rejected deletion takes its scheduled end with it."""
    cancelled = False
    for end in session.exec(select(AccessEnd).where(AccessEnd.request_id == request.id, *_OPEN)):
        end.cancelled_at = utcnow()
        session.add(end)
        audit.record(session, action=AuditAction.ACCESS_END_CANCELLED, actor_id=actor_id,
                     actor_role=actor_role, organization_id=end.organization_id, request_id=request.id,
                     target_type="grant", target_id=end.grant_id, source_ip=source_ip,
                     details={"access_end_id": end.id, "last_day": end.last_day.isoformat()})
        cancelled = True
    return cancelled


def schedule_after_provision(session: Session, request: AccessRequest, grant: Grant, *,
                             actor_id: int | None, actor_role: Role | str, source_ip: str = "") -> None:
    """Time-limited access: the request's end date becomes the grant's scheduled end."""
    if request.access_ends_on is not None:
        schedule(session, grant, END_DATE, request.access_ends_on, request=request, actor_id=actor_id,
                 actor_role=actor_role, source_ip=source_ip)


# --- The supervisor: move, extend ---------------------------------------------------------------


def _open_end(session: Session, access_end_id: int) -> tuple[AccessEnd, Grant]:
    end = session.get(AccessEnd, access_end_id, with_for_update=True)
    if end is None or end.done_at is not None or end.cancelled_at is not None:
        raise NotAllowed("That end of access is no longer scheduled. Reload the page.",
                         target_type="access_end", target_id=access_end_id)
    return end, session.get(Grant, end.grant_id)


def day_problem(value: str, today: date, *, most_days_ahead: int) -> str | None:
    day = parse_date(value)
    if day is None:
        return "Enter the day as a real date, for example 2026-12-01."
    if day <= today:
        return "Choose a day after today. To end access today, submit an Access Deletion."
    if day > today + timedelta(days=most_days_ahead):
        return f"The day cannot be more than {most_days_ahead} days ahead."
    return None


def _move(session: Session, actor: Actor, end: AccessEnd, grant: Grant, new_day: date,
          action: AuditAction, source_ip: str) -> AccessEnd:
    before = end.last_day
    won = session.execute(
        _ends.update().where(_ends.c.id == end.id, _ends.c.done_at.is_(None), _ends.c.cancelled_at.is_(None))
        .values(last_day=new_day, ends_at=end_of_program_day(new_day), reminders_sent=0)
    ).rowcount
    if won != 1:
        raise NotAllowed("That end of access is no longer scheduled. Reload the page.")
    if end.request_id is not None:
        request = session.get(AccessRequest, end.request_id)
        request.last_day = new_day if end.kind == SCHEDULED_REMOVAL else request.last_day
        session.add(request)
    audit.record(session, action=action, actor_id=actor.person_id, actor_role=actor.role,
                 organization_id=end.organization_id, request_id=end.request_id, target_type="grant",
                 target_id=grant.id, source_ip=source_ip,
                 details={"access_end_id": end.id, "from": before.isoformat(), "to": new_day.isoformat()})
    session.refresh(end)
    return end


def move_last_day(actor: Actor, access_end_id: int, new_day: str, *, source_ip: str = "",
                  now: datetime | None = None) -> AccessEnd:
    """Move a scheduled end to another day (after today, within the limit for its kind)."""
    with session_scope() as session:
        end, grant = _open_end(session, access_end_id)
        require_may_change_access_end(actor, end.organization_id, grant.person_id)
        ahead = MAX_LAST_DAY_DAYS_AHEAD if end.kind == SCHEDULED_REMOVAL else MAX_ACCESS_END_DAYS_AHEAD
        if problem := day_problem(new_day, program_today(now), most_days_ahead=ahead):
            raise AccessEndProblem(problem)
        return _move(session, actor, end, grant, parse_date(new_day), AuditAction.ACCESS_END_MOVED, source_ip)


def extend_access(actor: Actor, access_end_id: int, *, source_ip: str = "",
                  now: datetime | None = None) -> AccessEnd:
    """One action: time-limited access runs ``access_extension_days`` longer than its end date."""
    with session_scope() as session:
        end, grant = _open_end(session, access_end_id)
        require_may_change_access_end(actor, end.organization_id, grant.person_id)
        if end.kind != END_DATE:
            raise NotAllowed("Only time-limited access can be extended. Move the last day instead.")
        new_day = end.last_day + timedelta(days=get_settings().access_extension_days)
        new_day = min(new_day, program_today(now) + timedelta(days=MAX_ACCESS_END_DAYS_AHEAD))
        return _move(session, actor, end, grant, new_day, AuditAction.ACCESS_END_EXTENDED, source_ip)


# --- The housekeeping jobs --------------------------------------------------------------------------


def run_scheduled_access_ends(now: datetime) -> int:
    """End every access whose last day is over. Returns how many ended in this run."""
    with session_scope() as session:
        due = session.exec(select(AccessEnd.id).where(*_OPEN, AccessEnd.ends_at <= now)
                           .order_by(AccessEnd.ends_at, AccessEnd.id).limit(BATCH)).all()
    return sum(1 for end_id in due if _end_access(end_id, now))


def _end_access(access_end_id: int, now: datetime) -> bool:
    with session_scope() as session:
        won = session.execute(
            _ends.update().where(_ends.c.id == access_end_id, _ends.c.done_at.is_(None),
                                 _ends.c.cancelled_at.is_(None), _ends.c.ends_at <= now)
            .values(done_at=now)
        ).rowcount
        if won != 1:
            return False  # another run ended it, or it was moved or cancelled just now
        end = session.get(AccessEnd, access_end_id)
        grant = session.get(Grant, end.grant_id, with_for_update=True)
        if grant.active:
            grant.active, grant.until = False, end.ends_at
            session.add(grant)
        person = session.get(Person, grant.person_id)
        audit.record(session, action=AuditAction.ACCESS_ENDED, actor_id=None, actor_role=Role.SYSTEM,
                     organization_id=end.organization_id, request_id=end.request_id, target_type="grant",
                     target_id=grant.id, reason=f"Rule {RULE[end.kind]}: the last day, "
                     f"{end.last_day.isoformat()}, is over.",
                     details={"rule": RULE[end.kind], "kind": end.kind, "access_end_id": end.id,
                              "last_day": end.last_day.isoformat()})
        lifecycle_emails.access_ended(session, end, grant, person)
        succession.after_access_ended(session, grant, now)
        return True


def run_access_end_reminders(now: datetime) -> int:
    """Remind supervisors before time-limited access ends (each reminder once)."""
    days = sorted((d for d in get_settings().access_end_reminder_days if d > 0), reverse=True)
    with session_scope() as session:
        open_ends = session.exec(select(AccessEnd).where(
            *_OPEN, AccessEnd.kind == END_DATE, AccessEnd.reminders_sent < len(days),
            AccessEnd.ends_at <= now + timedelta(days=days[0] if days else 0), AccessEnd.ends_at > now,
        ).order_by(AccessEnd.ends_at).limit(BATCH)).all()
    sent = 0
    for end in open_ends:
        reached = sum(1 for d in days if now >= end.ends_at - timedelta(days=d))
        if reached > end.reminders_sent and _remind(end.id, end.reminders_sent, reached, days, now):
            sent += 1
    return sent


def _remind(access_end_id: int, sent_before: int, reached: int, days: list[int], now: datetime) -> bool:
    with session_scope() as session:
        won = session.execute(
            _ends.update().where(_ends.c.id == access_end_id, _ends.c.reminders_sent == sent_before,
                                 _ends.c.done_at.is_(None), _ends.c.cancelled_at.is_(None))
            .values(reminders_sent=reached)
        ).rowcount
        if won != 1:
            return False
        end = session.get(AccessEnd, access_end_id)
        grant = session.get(Grant, end.grant_id)
        person = session.get(Person, grant.person_id)
        rule = f"time_limited_access.reminder_{days[reached - 1]}_days"
        audit.record(session, action=AuditAction.ACCESS_END_REMINDER, actor_id=None, actor_role=Role.SYSTEM,
                     organization_id=end.organization_id, request_id=end.request_id, target_type="grant",
                     target_id=grant.id, details={"rule": rule, "access_end_id": end.id,
                                                  "last_day": end.last_day.isoformat()})
        lifecycle_emails.access_end_reminder(session, end, person)
        return True


# --- Reading: the supervisor's expiring access, the staff's upcoming removals ----------------------


@dataclass(frozen=True)
class AccessEndRow:
    access_end_id: int
    person_name: str
    person_email: str
    organization_name: str
    kind: str
    kind_label: str
    last_day: str          # 2026-12-01, for the date field
    last_day_label: str    # December 1, 2026
    request_number: str
    may_extend: bool


_KIND_LABELS = {SCHEDULED_REMOVAL: "Scheduled removal", END_DATE: "Time-limited access"}


def _rows(session: Session, statement) -> list[AccessEndRow]:
    rows = session.exec(statement).all()
    return [AccessEndRow(access_end_id=end.id, person_name=person.full_name, person_email=person.email,
                         organization_name=org.name, kind=end.kind, kind_label=_KIND_LABELS[end.kind],
                         last_day=end.last_day.isoformat(),
                         last_day_label=end.last_day.strftime("%B %-d, %Y"),
                         request_number=number or "", may_extend=end.kind == END_DATE)
            for end, person, org, number in rows]


def _listing():
    return (select(AccessEnd, Person, Organization, AccessRequest.number)
            .join(Grant, Grant.id == AccessEnd.grant_id)
            .join(Person, Person.id == Grant.person_id)
            .join(Organization, Organization.id == AccessEnd.organization_id)
            .join(AccessRequest, AccessRequest.id == AccessEnd.request_id, isouter=True)
            .where(*_OPEN))


SOON_DAYS = 14


def upcoming_for_supervisor(actor: Actor, *, within_days: int = MAX_ACCESS_END_DAYS_AHEAD + 1,
                            now: datetime | None = None, limit: int = 20) -> list[AccessEndRow]:
    """Scheduled ends of access at the supervisor's organizations, soonest first (never their own);
    those within ``SOON_DAYS`` are their to-do."""
    if not actor.supervised_org_ids:
        return []
    horizon = (now or utcnow()) + timedelta(days=within_days)
    with session_scope() as session:
        return _rows(session, _listing().where(
            AccessEnd.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
            AccessEnd.ends_at <= horizon, Grant.person_id != actor.person_id,
        ).order_by(AccessEnd.ends_at, AccessEnd.id).limit(limit))


@dataclass(frozen=True)
class UpcomingPage:
    rows: list[AccessEndRow]
    page: int
    pages: int
    total: int


def upcoming_for_staff(actor: Actor, page: int = 1) -> UpcomingPage:
    """Every scheduled end of access, soonest first, a page at a time."""
    require_staff(actor)
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(AccessEnd).where(*_OPEN)).one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = max(1, min(int(page), pages))
        rows = _rows(session, _listing().order_by(AccessEnd.ends_at, AccessEnd.id)
                     .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
        return UpcomingPage(rows=rows, page=page, pages=pages, total=total)
