"""Backups while away: naming who stands in for you, ending it, and what they then look after.

The rule of who may act for whom is ``domain.permissions`` (``Cover``, ``cover_refusal``,
``may_act_for``); the actor of every event carries the covers in force today (``services.actors``).
Here: writing the delegation with its audit event, the lists the backups page shows, and the names
an action taken for someone else records beside the actor's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import validation as v
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import OPEN_STATUSES, DelegationKind
from immtrax_portal.domain.models import (
    AccessRequest,
    Delegation,
    Organization,
    Person,
    SupervisorLink,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    acting_for,
    cover_refusal,
    covered_owner_ids,
    may_end_cover,
    require_staff,
    require_supervisor_of,
)
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.program_time import program_today
from immtrax_portal.services import audit
from immtrax_portal.services.actors import cover_of, load_actor

LIST_LIMIT = 20


class BackupRefused(ValueError):
    """The backup could not be named as asked; the message says why, in plain words."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Choice:
    person_id: int
    name: str


@dataclass(frozen=True)
class BackupRow:
    """One delegation as the backups page shows it (formatted; ids only of what the caller may end)."""

    id: int
    delegator: str
    delegate: str
    organization: str
    days: str
    state: str


def _name(person: Person | None) -> str:
    return person.full_name if person else "someone"


def backup_choices(actor: Actor, organization_id: int) -> list[Choice]:
    """The other supervisors of one of the caller's organizations: whom they may name."""
    require_supervisor_of(actor, organization_id)
    with session_scope() as session:
        rows = session.exec(
            select(Person).join(SupervisorLink, SupervisorLink.person_id == Person.id)
            .where(SupervisorLink.organization_id == organization_id, Person.id != actor.person_id)
            .order_by(Person.last_name, Person.first_name, Person.id).limit(100))
        return [Choice(p.id, p.full_name) for p in rows]


def _overlapping(session: Session, actor: Actor, kind: DelegationKind, organization_id: int, starts_on: date,
                 ends_on: date) -> Delegation | None:
    same_scope = (Delegation.organization_id.is_(None) if not organization_id  # type: ignore[union-attr]
                  else Delegation.organization_id == organization_id)
    return session.exec(select(Delegation).where(
        Delegation.kind == kind, Delegation.delegator_id == actor.person_id, same_scope,
        Delegation.ended_at.is_(None),  # type: ignore[union-attr]
        Delegation.starts_on <= ends_on, Delegation.ends_on >= starts_on)).first()


def name_backup(actor: Actor, organization_id: object, delegate_id: object, starts_on: str,
                ends_on: str, *, source_ip: str = "", now: datetime | None = None,
                kind: DelegationKind = DelegationKind.SUPERVISOR) -> Delegation:
    """Name a stand-in for the caller for these days: another supervisor of the organization (kind
    supervisor), or another member of staff for their assigned requests (kind staff, no organization).

    Raises ``NotAllowed`` (not the caller's organization, or not staff: recorded by the guard) or
    ``BackupRefused`` (a plain-words problem with the form: nothing written)."""
    staff = kind == DelegationKind.STAFF
    org_id, delegate_pid = (0 if staff else record_id(organization_id)), record_id(delegate_id)
    if staff:
        require_staff(actor)
    else:
        require_supervisor_of(actor, org_id)
    first, last = _day(starts_on, "starts_on"), _day(ends_on, "ends_on")
    today = program_today(now)
    with session_scope() as session:
        delegate = load_actor(session, delegate_pid, now) if delegate_pid else None
        if refusal := cover_refusal(actor, kind, delegate, first, last, today, org_id):
            raise BackupRefused(refusal[1], refusal[0])
        if clash := _overlapping(session, actor, kind, org_id, first, last):
            raise BackupRefused(
                f"You already named {_name(session.get(Person, clash.delegate_id))} for "
                f"{_days(clash.starts_on, clash.ends_on)}. End that first, or choose other days.",
                "starts_on")
        row = Delegation(kind=kind, delegator_id=actor.person_id, delegate_id=delegate_pid,
                         organization_id=org_id or None, starts_on=first, ends_on=last)
        session.add(row)
        session.flush()
        audit.record(session, action=AuditAction.DELEGATION_CREATE, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=org_id or None, target_type="delegation",
                     target_id=row.id, source_ip=source_ip,
                     details={"kind": row.kind.value, "delegator_id": actor.person_id,
                              "delegator": _name(session.get(Person, actor.person_id)),
                              "delegate_id": delegate_pid,
                              "delegate": _name(session.get(Person, delegate_pid)),
                              "starts_on": first.isoformat(), "ends_on": last.isoformat()})
        return row


def end_backup(actor: Actor, delegation_id: object, *, source_ip: str = "") -> None:
    """End a backup early: the person who named it, or the backup themselves."""
    with session_scope() as session:
        row = session.get(Delegation, record_id(delegation_id)) if record_id(delegation_id) else None
        if row is None or not may_end_cover(actor, cover_of(row)):
            raise NotAllowed("That backup is not yours to end.", target_type="delegation",
                             target_id=str(delegation_id)[:12])
        if row.ended_at is not None:
            return
        row.ended_at = utcnow()
        session.add(row)
        audit.record(session, action=AuditAction.DELEGATION_END, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=row.organization_id, target_type="delegation",
                     target_id=row.id, source_ip=source_ip,
                     details={"delegator_id": row.delegator_id, "delegate_id": row.delegate_id,
                              "delegator": _name(session.get(Person, row.delegator_id)),
                              "delegate": _name(session.get(Person, row.delegate_id))})


def backups_of(actor: Actor, now: datetime | None = None,
               kind: DelegationKind | None = None) -> tuple[list[BackupRow], list[BackupRow]]:
    """(the backups the caller named, the people the caller stands in for), not yet over; only
    those of ``kind`` when given (the supervisors' page and the staff page each show their own)."""
    today = program_today(now)
    delegator, delegate = aliased(Person), aliased(Person)
    statement = (select(Delegation, delegator, delegate, Organization.name)
                 .join(delegator, delegator.id == Delegation.delegator_id)
                 .join(delegate, delegate.id == Delegation.delegate_id)
                 .join(Organization, Organization.id == Delegation.organization_id, isouter=True)
                 .where(Delegation.ends_on >= today, Delegation.ended_at.is_(None))  # type: ignore[union-attr]
                 .order_by(Delegation.starts_on, Delegation.id))
    if kind is not None:
        statement = statement.where(Delegation.kind == kind)
    with session_scope() as session:
        named = session.exec(statement.where(Delegation.delegator_id == actor.person_id).limit(LIST_LIMIT))
        mine = [_row(d, a, b, org, today) for d, a, b, org in named]
        covering = session.exec(statement.where(Delegation.delegate_id == actor.person_id).limit(LIST_LIMIT))
        theirs = [_row(d, a, b, org, today) for d, a, b, org in covering]
    return mine, theirs


def _row(row: Delegation, delegator: Person, delegate: Person, organization: str | None,
         today: date) -> BackupRow:
    state = "In force now" if cover_of(row).is_active(today) else "Starts later"
    return BackupRow(row.id, delegator.full_name, delegate.full_name, organization or "", _days(row.starts_on,
                     row.ends_on), state)


def covered_requests(actor: Actor) -> list[dict[str, str]]:
    """The open requests of the supervisors the caller stands in for today (at most ``LIST_LIMIT``)."""
    pairs = [(delegator, org) for kind, delegator, org in actor.covering if kind == DelegationKind.SUPERVISOR]
    if not pairs:
        return []
    subject, submitter = aliased(Person), aliased(Person)
    where = sa.or_(*(sa.and_(AccessRequest.submitter_id == d, AccessRequest.organization_id == o)
                     for d, o in pairs))
    with session_scope() as session:
        rows = session.exec(
            select(AccessRequest, subject, submitter)
            .join(subject, subject.id == AccessRequest.subject_person_id)
            .join(submitter, submitter.id == AccessRequest.submitter_id)
            .where(where, AccessRequest.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
            .order_by(AccessRequest.status_changed_at, AccessRequest.id).limit(LIST_LIMIT))
        return [{"number": r.number, "type_label": r.request_type.label, "person": s.full_name,
                 "status_label": r.status.label, "for": sub.full_name} for r, s, sub in rows]


def on_behalf_details(session: Session, actor: Actor, request: AccessRequest) -> dict:
    """What an action's audit event adds when the actor acts as an absent supervisor's backup, or
    as the backup of the member of staff who owns the request: both names ({} for one's own
    request or any other)."""
    absent = acting_for(actor, request)
    if absent is None:
        return {}
    return {"on_behalf_of_id": absent, "on_behalf_of": _name(session.get(Person, absent)),
            "backup_id": actor.person_id, "backup": _name(session.get(Person, actor.person_id))}


def backups_now(session: Session, delegator_id: int, organization_id: int,
                now: datetime | None = None) -> list[Person]:
    """Who stands in for ``delegator_id`` at the organization today (for copies of their notices)."""
    today = program_today(now)
    return list(session.exec(
        select(Person).join(Delegation, Delegation.delegate_id == Person.id)
        .where(Delegation.kind == DelegationKind.SUPERVISOR, Delegation.delegator_id == delegator_id,
               Delegation.organization_id == organization_id, Delegation.ended_at.is_(None),  # type: ignore[union-attr]
               Delegation.starts_on <= today, Delegation.ends_on >= today)
        .join(SupervisorLink, sa.and_(SupervisorLink.person_id == Person.id,
                                      SupervisorLink.organization_id == organization_id))))


def staff_backups_now(session: Session, owner_id: int | None, now: datetime | None = None) -> list[Person]:
    """Who stands in for the staff member ``owner_id`` today (they get the owner's clock notices),
    only program staff, only the delegations naming them directly."""
    if not owner_id:
        return []
    today = program_today(now)
    return list(session.exec(
        select(Person).join(Delegation, Delegation.delegate_id == Person.id)
        .where(Delegation.kind == DelegationKind.STAFF, Delegation.delegator_id == owner_id,
               Delegation.ended_at.is_(None),  # type: ignore[union-attr]
               Delegation.starts_on <= today, Delegation.ends_on >= today,
               sa.or_(Person.is_staff.is_(True), Person.is_admin.is_(True)))  # type: ignore[attr-defined]
        .order_by(Person.id)))


def staff_backup_choices(actor: Actor) -> list[Choice]:
    """The other members of program staff: whom a member of staff may name as their backup."""
    require_staff(actor)
    with session_scope() as session:
        rows = session.exec(
            select(Person).where(sa.or_(Person.is_staff.is_(True), Person.is_admin.is_(True)),  # type: ignore[attr-defined]
                                 Person.id != actor.person_id)
            .order_by(Person.last_name, Person.first_name, Person.id).limit(200))
        return [Choice(p.id, p.full_name) for p in rows]


def covered_assigned_requests(actor: Actor) -> list[dict[str, str]]:
    """The open requests assigned to the colleagues the caller stands in for today (at most
    ``LIST_LIMIT``, least recently moved first)."""
    owners = covered_owner_ids(actor)
    if not owners:
        return []
    subject, owner = aliased(Person), aliased(Person)
    with session_scope() as session:
        rows = session.exec(
            select(AccessRequest, subject, owner)
            .join(subject, subject.id == AccessRequest.subject_person_id)
            .join(owner, owner.id == AccessRequest.owner_id)
            .where(AccessRequest.owner_id.in_(sorted(owners)),  # type: ignore[union-attr]
                   AccessRequest.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
            .order_by(AccessRequest.status_changed_at, AccessRequest.id).limit(LIST_LIMIT))
        return [{"number": r.number, "type_label": r.request_type.label, "person": s.full_name,
                 "status_label": r.status.label, "for": o.full_name} for r, s, o in rows]


def _day(text: str, field: str) -> date:
    parsed = v.parse_date(text) if isinstance(text, str) and text.strip() else None
    if parsed is None:
        raise BackupRefused("Enter the date as YYYY-MM-DD, for example 2026-03-02.", field)
    return parsed


def _days(first: date, last: date) -> str:
    return f"{first.strftime('%B %-d, %Y')} to {last.strftime('%B %-d, %Y')}"


def covering_note(actor: Actor, now: datetime | None = None) -> str:
    """One line for the dashboard of someone standing in for others today ("" for nobody)."""
    if not actor.covering:
        return ""
    _, theirs = backups_of(actor, now, kind=DelegationKind.SUPERVISOR)
    in_force = [row for row in theirs if row.state == "In force now"]
    if not in_force:
        return ""
    people = "; ".join(f"{row.delegator} at {row.organization} until {row.days.split(' to ')[-1]}"
                       for row in in_force)
    return f"You stand in for {people}: you may answer, resend and cancel their open requests there."
