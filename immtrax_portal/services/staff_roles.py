"""Granting and removing the program-staff role: admins only, each change audited."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import (
    Actor,
    may_remove_staff_role,
    require_admin,
    require_may_remove_staff_role,
)
from immtrax_portal.domain.validation import email_problem, normalize_email
from immtrax_portal.services import audit

PAGE_SIZE = 20


@dataclass(frozen=True)
class StaffMember:
    person_id: int
    name: str
    email: str
    is_admin: bool
    can_remove: bool = False   # the rulebook's answer for the admin looking at the list


def list_staff(actor: Actor, page: int = 1) -> tuple[list[StaffMember], int]:
    """One page of staff, and how many there are."""
    require_admin(actor)
    with session_scope() as session:
        total = session.exec(select(sa.func.count()).select_from(Person).where(Person.is_staff)).one()
        people = session.exec(
            select(Person).where(Person.is_staff).order_by(Person.last_name, Person.id)
            .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
        return [StaffMember(p.id, p.full_name, p.email, p.is_admin,
                            may_remove_staff_role(actor, p.is_admin)) for p in people], total


@dataclass(frozen=True)
class StaffChange:
    member: StaffMember
    changed: bool   # False: they already held (or no longer held) the role; nothing was written


def grant_staff_role(actor: Actor, email: str, *, source_ip: str = "") -> StaffMember:
    """Make a known person program staff. They must have signed in (or been invited) once."""
    return add_staff_role(actor, email, source_ip=source_ip).member


def add_staff_role(actor: Actor, email: str, *, source_ip: str = "") -> StaffChange:
    """``grant_staff_role``, saying whether anything changed."""
    require_admin(actor)
    if problem := email_problem(email):
        raise ValueError(problem)
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.email == normalize_email(email))).first()
        if person is None:
            raise ValueError("Nobody with that email has signed in to the portal yet. Ask them to "
                             "sign in once, then add them.")
        changed = not person.is_staff
        if changed:
            person.is_staff = True
            session.add(person)
            audit.record(session, action=AuditAction.GRANT_STAFF_ROLE, actor_id=actor.person_id,
                         actor_role=actor.role, target_type="person", target_id=person.id,
                         source_ip=source_ip)
        return StaffChange(StaffMember(person.id, person.full_name, person.email, person.is_admin), changed)


def staff_member(actor: Actor, person_id: int) -> StaffMember:
    """One member of staff, for the question asked before their role is removed (ValueError when
    they are not staff; NotAllowed when this admin may not remove their role)."""
    require_admin(actor)
    with session_scope() as session:
        person = session.get(Person, person_id) if person_id else None
        if person is None or not person.is_staff:
            raise ValueError("That person is not program staff.")
        require_may_remove_staff_role(actor, person.id, target_is_admin=person.is_admin)
        return StaffMember(person.id, person.full_name, person.email, person.is_admin, True)


def remove_staff_role(actor: Actor, person_id: int, *, source_ip: str = "") -> StaffMember:
    """Take the staff role away. Admins keep theirs: an admin cannot demote an admin here."""
    require_admin(actor)
    with session_scope() as session:
        person = session.get(Person, person_id) if person_id else None
        if person is None or not person.is_staff:
            raise ValueError("That person is not program staff.")
        require_may_remove_staff_role(actor, person.id, target_is_admin=person.is_admin)
        person.is_staff = False
        session.add(person)
        audit.record(session, action=AuditAction.REMOVE_STAFF_ROLE, actor_id=actor.person_id,
                     actor_role=actor.role, target_type="person", target_id=person.id,
                     source_ip=source_ip)
        return StaffMember(person.id, person.full_name, person.email, person.is_admin)
