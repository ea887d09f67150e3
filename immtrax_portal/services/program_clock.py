"""The program's clock, changed: staff set the targets per request type, and the housekeeping job
tells the owner at 50% and 75% of the target, and the owner and the staff inbox at breach, each
notice exactly once (``ClockNotice``'s unique request and level). Reading the clock is
``services/clock_figures.py``.
"""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, ClockNotice, Person, ProgramClockTarget, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.services import audit, clock_figures, emails
from immtrax_portal.services.clock_figures import targets, zone
from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)
NOTICE_BATCH = 200


# --- Targets --------------------------------------------------------------------------------------

class TargetProblems(ValueError):
    """Some targets were not whole numbers of business hours in range; nothing was saved."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Some targets need fixing.")
        self.problems = problems


def parse_targets(form: dict) -> dict[RequestType, int]:
    """The form's hours per type (``target_<type>``), or TargetProblems naming each bad field."""
    chosen, problems = {}, {}
    for kind in RequestType:
        raw = str(form.get(f"target_{kind.value}", "")).strip()[:8]
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= clock.MAX_TARGET_HOURS:
            problems[kind.value] = (f"Enter the {kind.label} target as a whole number of business "
                                    f"hours from 1 to {clock.MAX_TARGET_HOURS}.")
        else:
            chosen[kind] = int(raw)
    if problems:
        raise TargetProblems(problems)
    return chosen


def save_targets(actor: Actor, chosen: dict[RequestType, int], *, source_ip: str = "") -> int:
    """Store the targets that changed (one audit row each); returns how many changed."""
    require_staff(actor)
    changed = 0
    with session_scope() as session:
        before = targets(session)
        for kind, hours in chosen.items():
            if before.get(kind) == hours:
                continue
            row = (session.get(ProgramClockTarget, kind)
                   or ProgramClockTarget(request_type=kind, business_hours=hours))
            row.business_hours, row.updated_at, row.updated_by_id = hours, utcnow(), actor.person_id
            session.add(row)
            audit.record(session, action=AuditAction.SET_CLOCK_TARGET, actor_id=actor.person_id,
                         actor_role=actor.role, target_type="request_type", target_id=kind.value,
                         source_ip=source_ip, details={"from_hours": before.get(kind), "to_hours": hours})
            changed += 1
    clock_figures.forget_typical()
    return changed


# --- Notices ---------------------------------------------------------------------------------------

def _due_for(session: Session, level: str, percent: int, business_now: int, found, limit: int) -> list[int]:
    """Open requests at or past ``percent`` of their target that had no ``level`` notice yet."""
    over = sa.or_(*[
        sa.and_(AccessRequest.request_type == kind, sa.or_(
            AccessRequest.clock_origin <= business_now - hours * clock.HOUR * percent // 100,
            sa.and_(AccessRequest.clock_origin.is_(None),  # type: ignore[union-attr]
                    AccessRequest.program_seconds >= hours * clock.HOUR * percent // 100)))
        for kind, hours in found.items()])
    noticed = select(ClockNotice.id).where(ClockNotice.request_id == AccessRequest.id,
                                           ClockNotice.level == level).exists()
    return list(session.exec(
        select(AccessRequest.id)
        .where(AccessRequest.status.in_(list(OPEN_STATUSES)), over, ~noticed)  # type: ignore[attr-defined]
        .order_by(AccessRequest.id).limit(limit)))


def _tell(session: Session, request: AccessRequest, level: str, percent: int, hours: int, used: int,
          now: datetime | None = None) -> None:
    """The owner is told at 50% and 75%, the owner and the staff inbox at breach; while the owner
    is away, the colleague standing in for them (a staff backup in force today) is told too."""
    from immtrax_portal.services.delegations import staff_backups_now  # delegations -> actors -> models

    inbox = get_settings().program_inbox
    owner = session.get(Person, request.owner_id) if request.owner_id else None
    standing_in = staff_backups_now(session, request.owner_id, now) if owner else []
    backups = [p.email for p in standing_in]
    used_text = clock.hours_text(used)
    if level == "breach":
        recipients = [*([owner.email] if owner else []), *backups, inbox]
        for to in dict.fromkeys(recipients):
            emails.clock_breach(session, request, to=to, used=used_text, target_hours=hours,
                                owner_name=owner.full_name if owner else "")
    else:
        for to in dict.fromkeys([owner.email, *backups] if owner else [inbox]):
            emails.clock_notice(session, request, to=to, percent=percent, used=used_text,
                                target_hours=hours)
    audit.record(session, action=AuditAction.CLOCK_NOTICE, actor_id=None, actor_role=Role.SYSTEM,
                 organization_id=request.organization_id, request_id=request.id,
                 target_type="access_request", target_id=request.number, reason=f"{percent}% of the target",
                 details={"level": level, "used_seconds": used, "target_hours": hours,
                          **({"backup_ids": [p.id for p in standing_in]} if standing_in else {})})


def _notify_one(request_id: int, level_index: int, business_now: int, found, now: datetime) -> bool:
    """One request's notice at ``NOTICE_LEVELS[level_index]``, once: the lower levels it skipped
    are recorded as passed without mail. False when another process was first, or it no longer
    applies."""
    level, percent = clock.NOTICE_LEVELS[level_index]
    try:
        with session_scope() as session:
            request = session.get(AccessRequest, request_id)
            if request is None or not RequestStatus(request.status).is_open:
                return False
            hours = found.get(RequestType(request.request_type), clock.DEFAULT_TARGET_HOURS)
            used = clock.program_seconds_now(request.program_seconds, request.clock_origin, now, zone())
            if used * 100 < hours * clock.HOUR * percent:
                return False
            have = set(session.exec(select(ClockNotice.level).where(ClockNotice.request_id == request_id)))
            for lower, _ in clock.NOTICE_LEVELS[:level_index]:
                if lower not in have:
                    session.add(ClockNotice(request_id=request_id, level=lower, emailed=False,
                                            created_at=now))
            session.add(ClockNotice(request_id=request_id, level=level, emailed=True, created_at=now))
            session.flush()   # the unique (request, level): a second process stops here
            _tell(session, request, level, percent, hours, used, now)
    except IntegrityError:
        return False
    return True


def run_clock_notices(now: datetime | None = None) -> int:
    """The housekeeping job: every notice that is due, each exactly once (highest level first, so a
    request that jumped past several levels gets one email). Returns how many were sent."""
    now = now or utcnow()
    business_now = clock.business_seconds_at(now, zone())
    with session_scope() as session:
        found = targets(session)
    sent = 0
    for level_index in range(len(clock.NOTICE_LEVELS) - 1, -1, -1):
        level, percent = clock.NOTICE_LEVELS[level_index]
        with session_scope() as session:
            due = _due_for(session, level, percent, business_now, found, NOTICE_BATCH)
        for request_id in due:
            sent += _notify_one(request_id, level_index, business_now, found, now)
    return sent


