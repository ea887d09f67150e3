"""Supervisor succession: every organization should have at least two supervisors.

- Organizations with one supervisor are flagged to staff (the succession page) and to that
  supervisor ("name a backup", ``needs_backup``).
- A supervisor can ask for another supervisor of their organization (``nominate_supervisor``); staff
  approve (which links the person) or decline, never on a nomination they made or that names them.
- When an organization loses its last supervisor (unlinked by staff, or the supervisor's own access
  at it ended), staff are alerted at once (``after_supervisor_left``, in the same transaction as
  the change): the organization, its open requests and its roster are listed on the succession
  page until a supervisor is linked.
- Every signed-in person can see who their supervisors are (``my_supervisors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import OPEN_STATUSES, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Organization,
    Person,
    SupervisorLink,
    SupervisorNomination,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    Actor,
    NotAllowed,
    nomination_refusal,
    require_may_decide_nomination,
    require_may_nominate_supervisor,
    require_staff,
)
from immtrax_portal.domain.validation import email_problem, name_problem, normalize_email, tidy_name
from immtrax_portal.services import audit, lifecycle_emails

PAGE_SIZE = 10
ROSTER_SHOWN = 10
REQUESTS_SHOWN = 10
_nominations = SupervisorNomination.__table__  # type: ignore[attr-defined]


class NominationInvalid(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


# --- Losing the last supervisor ----------------------------------------------------------------


def _supervisor_count(session: Session, organization_id: int) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(SupervisorLink)
        .where(SupervisorLink.organization_id == organization_id)
    ).one()


def _open_request_count(session: Session, organization_id: int) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(AccessRequest)
        .where(
            AccessRequest.organization_id == organization_id, AccessRequest.status.in_(sorted(OPEN_STATUSES))
        )
    ).one()  # type: ignore[attr-defined]


def _active_user_count(session: Session, organization_id: int) -> int:
    return session.exec(
        select(sa.func.count())
        .select_from(Grant)
        .where(Grant.organization_id == organization_id, Grant.active)
    ).one()


def after_supervisor_left(session: Session, organization_id: int, *, rule: str, cause: str) -> bool:
    """Call in the transaction that removed a supervisor: when none is left, staff are alerted
    (one audit event by the system naming the rule, one email to the program). True if alerted."""
    session.flush()
    if _supervisor_count(session, organization_id):
        return False
    organization = session.get(Organization, organization_id)
    open_requests = _open_request_count(session, organization_id)
    active_users = _active_user_count(session, organization_id)
    audit.record(
        session,
        action=AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR,
        actor_id=None,
        actor_role=Role.SYSTEM,
        organization_id=organization_id,
        target_type="organization",
        target_id=organization_id,
        reason=cause,
        details={"rule": rule, "open_requests": open_requests, "active_users": active_users},
    )
    lifecycle_emails.organization_without_supervisor(
        session, organization, cause=cause, open_requests=open_requests, active_users=active_users
    )
    return True


def after_access_ended(session: Session, grant: Grant, now: datetime) -> bool:
    """A supervisor whose own access at their organization ended no longer supervises it there:
    the link goes (by the system, naming the rule), and staff are alerted if it was the last."""
    link = session.exec(
        select(SupervisorLink).where(
            SupervisorLink.person_id == grant.person_id,
            SupervisorLink.organization_id == grant.organization_id,
        )
    ).first()
    if link is None:
        return False
    session.delete(link)
    audit.record(
        session,
        action=AuditAction.UNLINK_SUPERVISOR,
        actor_id=None,
        actor_role=Role.SYSTEM,
        organization_id=grant.organization_id,
        target_type="person",
        target_id=grant.person_id,
        reason="The supervisor's own access at this organization ended.",
        details={"rule": "succession.own_access_ended"},
    )
    person = session.get(Person, grant.person_id)
    after_supervisor_left(
        session,
        grant.organization_id,
        rule="succession.own_access_ended",
        cause=f"the access of {person.full_name}, its supervisor, ended",
    )
    return True


# --- Nominations ------------------------------------------------------------------------------------


def _nomination_problems(email: str, first_name: str, last_name: str) -> dict[str, str]:
    checks = {
        "email": email_problem(email),
        "first_name": name_problem(first_name, "first"),
        "last_name": name_problem(last_name, "last"),
    }
    return {field: problem for field, problem in checks.items() if problem}


def nominate_supervisor(
    actor: Actor, organization_id: int, email: str, first_name: str, last_name: str, *, source_ip: str = ""
) -> int:
    """A supervisor asks staff to add another supervisor of their organization. Returns its id."""
    require_may_nominate_supervisor(actor, organization_id, email)
    if problems := _nomination_problems(email, first_name, last_name):
        raise NominationInvalid(problems)
    email = normalize_email(email)
    with session_scope() as session:
        already = session.exec(
            select(Person.id)
            .join(SupervisorLink, SupervisorLink.person_id == Person.id)
            .where(Person.email == email, SupervisorLink.organization_id == organization_id)
        ).first()
        if already is not None:
            raise NominationInvalid({"email": "This person is already a supervisor of the organization."})
        pending = session.exec(
            select(SupervisorNomination.id).where(
                SupervisorNomination.organization_id == organization_id,
                SupervisorNomination.email == email,
                SupervisorNomination.status == "pending",
            )
        ).first()
        if pending is not None:
            raise NominationInvalid({"email": "You already asked for this person; staff will decide."})
        nomination = SupervisorNomination(
            organization_id=organization_id,
            nominated_by_id=actor.person_id,
            email=email,
            first_name=tidy_name(first_name)[:100],
            last_name=tidy_name(last_name)[:100],
        )
        session.add(nomination)
        session.flush()
        audit.record(
            session,
            action=AuditAction.SUPERVISOR_NOMINATED,
            actor_id=actor.person_id,
            actor_role=actor.role,
            organization_id=organization_id,
            target_type="supervisor_nomination",
            target_id=nomination.id,
            source_ip=source_ip,
            details={"email": email},
        )
        lifecycle_emails.supervisor_nominated(session, nomination)
        return nomination.id


def decide_nomination(actor: Actor, nomination_id: int, approve: bool, *, source_ip: str = "") -> str:
    """Staff approve (the person becomes a supervisor) or decline. Returns what was done."""
    require_staff(actor)
    try:
        with session_scope() as session:
            nomination = session.get(SupervisorNomination, nomination_id)
            if nomination is None:
                raise NotAllowed(
                    "That request does not exist.",
                    target_type="supervisor_nomination",
                    target_id=nomination_id,
                )
            require_may_decide_nomination(actor, nomination.id, nomination.nominated_by_id, nomination.email)
            status = "approved" if approve else "declined"
            won = session.execute(
                _nominations.update()
                .where(_nominations.c.id == nomination.id, _nominations.c.status == "pending")
                .values(status=status, decided_by_id=actor.person_id, decided_at=utcnow())
            ).rowcount
            if won != 1:
                raise NotAllowed(
                    "Someone already decided on this request. Reload the page.",
                    target_type="supervisor_nomination",
                    target_id=nomination_id,
                )
            person_id = _link(session, nomination) if approve else None
            audit.record(
                session,
                action=(
                    AuditAction.SUPERVISOR_NOMINATION_APPROVED
                    if approve
                    else AuditAction.SUPERVISOR_NOMINATION_DECLINED
                ),
                actor_id=actor.person_id,
                actor_role=actor.role,
                organization_id=nomination.organization_id,
                target_type="supervisor_nomination",
                target_id=nomination.id,
                source_ip=source_ip,
                details={"email": nomination.email, "linked_person_id": person_id},
            )
            return status
    except IntegrityError:
        raise NotAllowed("This person was made a supervisor just now. Reload the page.") from None


def _link(session: Session, nomination: SupervisorNomination) -> int:
    person = session.exec(select(Person).where(Person.email == nomination.email)).first()
    if person is None:
        person = Person(
            email=nomination.email, first_name=nomination.first_name, last_name=nomination.last_name
        )
        session.add(person)
        session.flush()
    linked = session.exec(
        select(SupervisorLink.id).where(
            SupervisorLink.person_id == person.id,
            SupervisorLink.organization_id == nomination.organization_id,
        )
    ).first()
    if linked is None:
        session.add(SupervisorLink(person_id=person.id, organization_id=nomination.organization_id))
    return person.id


# --- Reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupervisorOfMine:
    organization_name: str
    names: str  # "Sam Supervisor (sam@alpha.example), …" or "" when there is none
    has_supervisor: bool


def my_supervisors(person_id: int) -> list[SupervisorOfMine]:
    """Who supervises the signed-in person: per organization where they hold access."""
    with session_scope() as session:
        orgs = session.exec(
            select(Organization.id, Organization.name)
            .join(Grant, Grant.organization_id == Organization.id)
            .where(Grant.person_id == person_id, Grant.active)
            .order_by(Organization.name)
            .limit(20)
        ).all()
        result = []
        for org_id, org_name in orgs:
            people = session.exec(
                select(Person)
                .join(SupervisorLink, SupervisorLink.person_id == Person.id)
                .where(SupervisorLink.organization_id == org_id, Person.id != person_id)
                .order_by(Person.last_name, Person.first_name)
                .limit(10)
            ).all()
            result.append(
                SupervisorOfMine(
                    org_name, ", ".join(f"{p.full_name} ({p.email})" for p in people), bool(people)
                )
            )
        return result


def needs_backup(actor: Actor) -> list[tuple[int, str]]:
    """The actor's organizations where they are the only supervisor: (id, name)."""
    if not actor.supervised_org_ids:
        return []
    with session_scope() as session:
        rows = session.exec(
            select(Organization.id, Organization.name)
            .join(SupervisorLink, SupervisorLink.organization_id == Organization.id)
            .where(Organization.id.in_(sorted(actor.supervised_org_ids)), Organization.active)  # type: ignore[attr-defined]
            .group_by(Organization.id, Organization.name)
            .having(sa.func.count(SupervisorLink.id) == 1)
            .order_by(Organization.name)
        ).all()
        return [(org_id, name) for org_id, name in rows]


@dataclass(frozen=True)
class OrphanRow:
    organization_id: int
    name: str
    code: str
    open_requests: list[str]  # request numbers (at most REQUESTS_SHOWN)
    open_total: int
    roster: list[str]  # "Name (email), level" (at most ROSTER_SHOWN)
    roster_total: int


@dataclass(frozen=True)
class SingleRow:
    organization_id: int
    name: str
    code: str
    supervisor: str


@dataclass(frozen=True)
class NominationRow:
    nomination_id: int
    organization_name: str
    person: str
    nominated_by: str
    asked_on: str
    decision_withheld: str  # why this staff member may not decide ("" when they may)


@dataclass(frozen=True)
class SuccessionView:
    orphans: list[OrphanRow]
    orphans_total: int
    single: list[SingleRow]
    single_total: int
    single_page: int
    single_pages: int
    nominations: list[NominationRow]


def _supervisor_counts():
    return (
        select(SupervisorLink.organization_id, sa.func.count(SupervisorLink.id).label("n"))
        .group_by(SupervisorLink.organization_id)
        .subquery()
    )


def succession_view(actor: Actor, single_page: int = 1) -> SuccessionView:
    """Staff: organizations without a supervisor (with their open requests and roster), those with
    one (paginated), and the supervisors' pending nominations."""
    require_staff(actor)
    from immtrax_portal.program_time import program_date

    counts = _supervisor_counts()
    with session_scope() as session:
        orphan_orgs = session.exec(
            select(Organization)
            .join(counts, counts.c.organization_id == Organization.id, isouter=True)
            .where(
                Organization.active,
                sa.func.coalesce(counts.c.n, 0) == 0,
                sa.or_(
                    sa.exists().where(Grant.organization_id == Organization.id, Grant.active),
                    sa.exists().where(
                        AccessRequest.organization_id == Organization.id,
                        AccessRequest.status.in_(sorted(OPEN_STATUSES)),
                    ),
                ),
            )  # type: ignore[attr-defined]
            .order_by(Organization.name)
            .limit(PAGE_SIZE)
        ).all()
        orphans_total = len(orphan_orgs)
        orphans = [_orphan(session, org) for org in orphan_orgs]
        single_where = (Organization.active, counts.c.n == 1)
        single_total = session.exec(
            select(sa.func.count())
            .select_from(Organization)
            .join(counts, counts.c.organization_id == Organization.id)
            .where(*single_where)
        ).one()
        pages = max(1, -(-single_total // PAGE_SIZE))
        page = max(1, min(int(single_page), pages))
        singles = session.exec(
            select(Organization, Person)
            .join(counts, counts.c.organization_id == Organization.id)
            .join(SupervisorLink, SupervisorLink.organization_id == Organization.id)
            .join(Person, Person.id == SupervisorLink.person_id)
            .where(*single_where)
            .order_by(Organization.name, Organization.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        single = [SingleRow(org.id, org.name, org.code, f"{p.full_name} ({p.email})") for org, p in singles]
        pending = session.exec(
            select(SupervisorNomination, Organization.name, Person)
            .join(Organization, Organization.id == SupervisorNomination.organization_id)
            .join(Person, Person.id == SupervisorNomination.nominated_by_id)
            .where(SupervisorNomination.status == "pending")
            .order_by(SupervisorNomination.created_at, SupervisorNomination.id)
            .limit(PAGE_SIZE)
        ).all()
        nominations = [
            NominationRow(
                n.id,
                org_name,
                f"{n.first_name} {n.last_name} ({n.email})",
                by.full_name,
                program_date(n.created_at),
                nomination_refusal(actor, n.nominated_by_id, n.email) or "",
            )
            for n, org_name, by in pending
        ]
    return SuccessionView(orphans, orphans_total, single, single_total, page, pages, nominations)


def _orphan(session: Session, org: Organization) -> OrphanRow:
    numbers = session.exec(
        select(AccessRequest.number)
        .where(AccessRequest.organization_id == org.id, AccessRequest.status.in_(sorted(OPEN_STATUSES)))  # type: ignore[attr-defined]
        .order_by(AccessRequest.created_at)
        .limit(REQUESTS_SHOWN)
    ).all()
    roster = session.exec(
        select(Person, Grant)
        .join(Grant, Grant.person_id == Person.id)
        .where(Grant.organization_id == org.id, Grant.active)
        .order_by(Person.last_name, Person.first_name)
        .limit(ROSTER_SHOWN)
    ).all()
    return OrphanRow(
        org.id,
        org.name,
        org.code,
        list(numbers),
        _open_request_count(session, org.id),
        [f"{p.full_name} ({p.email}), {g.access_level.label}" for p, g in roster],
        _active_user_count(session, org.id),
    )
