"""Organizations and their supervisors, managed by program staff. Every change is audited.

Lists are paginated and searched by the start of a name or code with range conditions that the
indexes ``ix_organization_name_lower`` and the unique index on ``code`` serve, on SQLite and
PostgreSQL alike (PostgreSQL will not use a b-tree index for LIKE under most collations).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import OPEN_STATUSES
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Organization,
    Person,
    SupervisorLink,
)
from immtrax_portal.domain.organization_rules import (
    OrganizationFields,
    normalize_code,
    organization_problems,
    tidy,
    tidy_text,
)
from immtrax_portal.domain.permissions import Actor, require_may_link_supervisor, require_staff
from immtrax_portal.domain.validation import email_problem, name_problem, normalize_email, tidy_name
from immtrax_portal.program_time import program_date
from immtrax_portal.services import audit, succession

PAGE_SIZE = 20
SEARCH_MAX = 100


class OrganizationInvalid(ValueError):
    """Input that changes nothing; ``problems`` maps each field to the message shown next to it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class OrganizationRow:
    id: int
    code: str
    name: str
    city: str
    active: bool
    supervisors: int
    active_users: int

    def as_dict(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name, "city": self.city or "—",
                "active": "Active" if self.active else "Inactive", "is_active": self.active,
                "supervisors": self.supervisors, "active_users": self.active_users}


@dataclass(frozen=True)
class OrganizationPage:
    rows: list[OrganizationRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class SupervisorRow:
    person_id: int
    name: str
    email: str
    has_signed_in: bool
    linked_on: str


@dataclass(frozen=True)
class OrganizationDetail:
    id: int
    fields: OrganizationFields
    supervisors: list[SupervisorRow]
    open_requests: list[str]
    open_request_total: int


# --- Reading ------------------------------------------------------------------------------------


def _prefix_range(column, prefix: str):
    """``column`` starts with ``prefix``: a range an index serves, then LIKE for exactness."""
    upper_bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.and_(column >= prefix, column < upper_bound, column.like(escaped + "%", escape="\\"))


def search_condition(term: str):
    term = tidy_text(term)[:SEARCH_MAX]
    if not term:
        return sa.true()
    return sa.or_(_prefix_range(sa.func.lower(Organization.name), term.lower()),
                  _prefix_range(Organization.code, normalize_code(term)))


def _counts(session: Session, org_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    if not org_ids:
        return {}, {}
    supervisors = dict(session.exec(
        select(SupervisorLink.organization_id, sa.func.count())
        .where(SupervisorLink.organization_id.in_(org_ids))  # type: ignore[attr-defined]
        .group_by(SupervisorLink.organization_id)
    ).all())
    users = dict(session.exec(
        select(Grant.organization_id, sa.func.count())
        .where(Grant.organization_id.in_(org_ids), Grant.active)  # type: ignore[attr-defined]
        .group_by(Grant.organization_id)
    ).all())
    return supervisors, users


def list_organizations(actor: Actor, search: str = "", page: int = 1) -> OrganizationPage:
    """One page of organizations by name, with their supervisor and active-user counts."""
    require_staff(actor)
    condition = search_condition(search)
    with session_scope() as session:
        total = session.exec(select(sa.func.count()).select_from(Organization).where(condition)).one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        orgs = session.exec(
            select(Organization).where(condition).order_by(Organization.name, Organization.id)
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
        supervisors, users = _counts(session, [o.id for o in orgs])
        rows = [OrganizationRow(o.id, o.code, o.name, o.city, o.active, supervisors.get(o.id, 0),
                                users.get(o.id, 0)) for o in orgs]
    return OrganizationPage(rows=rows, total=total, page=page, pages=pages)


def open_request_numbers(session: Session, organization_id: int, limit: int = 5
                         ) -> tuple[list[str], int]:
    """A few open request numbers of the organization (oldest first) and how many are open."""
    condition = sa.and_(AccessRequest.organization_id == organization_id,
                        AccessRequest.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
    total = session.exec(select(sa.func.count()).select_from(AccessRequest).where(condition)).one()
    numbers = session.exec(select(AccessRequest.number).where(condition)
                           .order_by(AccessRequest.number).limit(limit)).all()
    return list(numbers), total


def describe_open_requests(numbers: list[str], total: int) -> str:
    listed = ", ".join(numbers)
    return listed + (f" and {total - len(numbers)} more" if total > len(numbers) else "")


def _supervisors(session: Session, organization_id: int) -> list[SupervisorRow]:
    linked = session.exec(
        select(Person, SupervisorLink.created_at)
        .join(SupervisorLink, SupervisorLink.person_id == Person.id)
        .where(SupervisorLink.organization_id == organization_id)
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    return [SupervisorRow(p.id, p.full_name, p.email, p.okta_subject is not None,
                          program_date(since)) for p, since in linked]


def organization_detail(actor: Actor, organization_id: int) -> OrganizationDetail:
    require_staff(actor)
    with session_scope() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            raise LookupError("That organization does not exist.")
        numbers, total = open_request_numbers(session, org.id)
        return OrganizationDetail(
            id=org.id,
            fields=OrganizationFields(code=org.code, name=org.name, city=org.city, active=org.active),
            supervisors=_supervisors(session, org.id), open_requests=numbers,
            open_request_total=total)


# --- Creating and editing -----------------------------------------------------------------------


def _code_taken(session: Session, code: str, other_than: int | None = None) -> bool:
    query = select(Organization.id).where(Organization.code == code)
    if other_than is not None:
        query = query.where(Organization.id != other_than)
    return session.exec(query).first() is not None


def _taken_problem(code: str) -> dict[str, str]:
    return {"code": f"Another organization already has the code {code}."}


def create_organization(actor: Actor, given: OrganizationFields, *, source_ip: str = "") -> int:
    """The new organization's id. Bad input raises ``OrganizationInvalid`` and changes nothing."""
    require_staff(actor)
    fields = tidy(given)
    if problems := organization_problems(fields):
        raise OrganizationInvalid(problems)
    try:
        with session_scope() as session:
            if _code_taken(session, fields.code):
                raise OrganizationInvalid(_taken_problem(fields.code))
            org = Organization(code=fields.code, name=fields.name, city=fields.city,
                               active=fields.active)
            session.add(org)
            session.flush()
            audit.record(session, action=AuditAction.CREATE_ORGANIZATION, actor_id=actor.person_id,
                         actor_role=actor.role, organization_id=org.id, target_type="organization",
                         target_id=org.id, source_ip=source_ip,
                         details={"code": org.code, "name": org.name, "city": org.city,
                                  "active": org.active})
            return org.id
    except IntegrityError:  # the same code created at the same moment by someone else
        raise OrganizationInvalid(_taken_problem(fields.code)) from None


def changes_between(before: OrganizationFields, after: OrganizationFields) -> dict[str, list]:
    return {name: [getattr(before, name), getattr(after, name)]
            for name in ("code", "name", "city", "active")
            if getattr(before, name) != getattr(after, name)}


def deactivation_problem(session: Session, organization_id: int) -> str | None:
    """Why the organization cannot be deactivated now, or None."""
    numbers, total = open_request_numbers(session, organization_id)
    if not total:
        return None
    return (f"This organization has {total} open request{'s' if total != 1 else ''} "
            f"({describe_open_requests(numbers, total)}). Complete, reject or cancel "
            f"{'them' if total != 1 else 'it'} before deactivating the organization.")


def update_organization(actor: Actor, organization_id: int, given: OrganizationFields, *,
                        source_ip: str = "") -> dict[str, list]:
    """Save the fields; returns what changed. Deactivating with open requests is refused."""
    require_staff(actor)
    fields = tidy(given)
    if problems := organization_problems(fields):
        raise OrganizationInvalid(problems)
    try:
        with session_scope() as session:
            org = session.get(Organization, organization_id)
            if org is None:
                raise LookupError("That organization does not exist.")
            before = OrganizationFields(org.code, org.name, org.city, org.active)
            changed = changes_between(before, fields)
            if not changed:
                return {}
            if "code" in changed and _code_taken(session, fields.code, other_than=org.id):
                raise OrganizationInvalid(_taken_problem(fields.code))
            if org.active and not fields.active and (why := deactivation_problem(session, org.id)):
                raise OrganizationInvalid({"active": why})
            org.code, org.name, org.city, org.active = (fields.code, fields.name, fields.city,
                                                        fields.active)
            session.add(org)
            audit.record(session, action=AuditAction.UPDATE_ORGANIZATION, actor_id=actor.person_id,
                         actor_role=actor.role, organization_id=org.id, target_type="organization",
                         target_id=org.id, source_ip=source_ip, details={"changed": changed})
            return changed
    except IntegrityError:
        raise OrganizationInvalid(_taken_problem(fields.code)) from None


# --- Supervisors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedSupervisor:
    person_id: int
    name: str
    created_person: bool


def _person_problems(email: str, first_name: str, last_name: str, needs_name: bool) -> dict[str, str]:
    problems = {}
    if problem := email_problem(email):
        problems["email"] = problem
    if needs_name:
        for field, value, which in (("first_name", first_name, "first"), ("last_name", last_name, "last")):
            if problem := name_problem(value, which, whose="the supervisor's"):
                problems[field] = problem
    return problems


def link_supervisor(actor: Actor, organization_id: int, email: str, first_name: str = "",
                    last_name: str = "", *, source_ip: str = "") -> LinkedSupervisor:
    """Register the person with this work email as a supervisor of the organization.

    Someone the portal has not met yet is created from the name given; when they first sign in
    with Okta under that email, the sign-in links their account to this person (by email), and
    their supervisor role is read from the link on every call.
    """
    require_staff(actor)
    if problems := _person_problems(email, first_name, last_name, needs_name=False):
        raise OrganizationInvalid(problems)
    email = normalize_email(email)
    require_may_link_supervisor(actor, organization_id, email)
    try:
        with session_scope() as session:
            org = session.get(Organization, organization_id)
            if org is None:
                raise LookupError("That organization does not exist.")
            person = session.exec(select(Person).where(Person.email == email)).first()
            created = person is None
            if person is None:
                if problems := _person_problems(email, first_name, last_name, needs_name=True):
                    raise OrganizationInvalid({field: f"{message} Nobody with this email uses the "
                                                      "portal yet, so the name is needed."
                                               for field, message in problems.items()})
                person = Person(email=email, first_name=tidy_name(first_name)[:100],
                                last_name=tidy_name(last_name)[:100])
                session.add(person)
                session.flush()
            elif session.exec(select(SupervisorLink.id).where(
                    SupervisorLink.person_id == person.id,
                    SupervisorLink.organization_id == org.id)).first() is not None:
                raise OrganizationInvalid({"email": f"{person.full_name} ({email}) is already a "
                                                    f"supervisor of {org.name}."})
            session.add(SupervisorLink(person_id=person.id, organization_id=org.id))
            audit.record(session, action=AuditAction.LINK_SUPERVISOR, actor_id=actor.person_id,
                         actor_role=actor.role, organization_id=org.id, target_type="person",
                         target_id=person.id, source_ip=source_ip,
                         details={"email": email, "created_person": created})
            session.flush()
            return LinkedSupervisor(person.id, person.full_name, created)
    except IntegrityError:  # a second click or a colleague linked the same person just now
        raise OrganizationInvalid({"email": f"{email} is already a supervisor of this organization."}
                                  ) from None


def unlink_warning(actor: Actor, organization_id: int, person_id: int) -> str:
    """What to say before unlinking: a warning when the last supervisor leaves open requests."""
    require_staff(actor)
    with session_scope() as session:
        return _unlink_warning(session, organization_id, person_id)


def _unlink_warning(session: Session, organization_id: int, person_id: int) -> str:
    others = session.exec(select(sa.func.count()).select_from(SupervisorLink).where(
        SupervisorLink.organization_id == organization_id, SupervisorLink.person_id != person_id)).one()
    if others:
        return ""
    numbers, total = open_request_numbers(session, organization_id)
    if not total:
        return ""
    return (f"This is the organization's last supervisor, and it has {total} open "
            f"request{'s' if total != 1 else ''} ({describe_open_requests(numbers, total)}). "
            "Nobody will be able to answer questions or cancel them until another supervisor is "
            "linked.")


def unlink_supervisor(actor: Actor, organization_id: int, person_id: int, *, source_ip: str = ""
                      ) -> str:
    """Remove the link; returns the warning that applied (recorded in the audit event too)."""
    require_staff(actor)
    with session_scope() as session:
        link = session.exec(select(SupervisorLink).where(
            SupervisorLink.organization_id == organization_id,
            SupervisorLink.person_id == person_id)).first()
        if link is None:
            raise LookupError("That person is not a supervisor of this organization.")
        warning = _unlink_warning(session, organization_id, person_id)
        session.delete(link)
        audit.record(session, action=AuditAction.UNLINK_SUPERVISOR, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=organization_id, target_type="person",
                     target_id=person_id, source_ip=source_ip,
                     details={"last_supervisor_with_open_requests": bool(warning)})
        # Supervisor succession: staff are alerted at once when this was the last one.
        succession.after_supervisor_left(session, organization_id, rule="succession.unlinked_by_staff",
                                         cause="its last supervisor was unlinked by program staff")
        return warning
