"""The provisioning worksheet: exactly what staff enter in imMTrax for one request, in the order the
registry's user screen asks for it, so nothing is retyped by hand.

The registry's user screen asks, top to bottom: the organization (its name, then its registry
identifier, the provider PIN), the person (last name, first name, email, phone, job title), the
role (the access level) and the start date. A Change Employer also ends the access at the former
organization; a deletion deactivates one account (its imMTrax username), with the last day.
Program staff only: the sheet names people and organizations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.models import AccessRequest, Grant, Organization, Person
from immtrax_portal.domain.permissions import Actor, require_staff


@dataclass(frozen=True)
class SheetField:
    key: str
    label: str
    value: str


def _grant(session, person_id: int, organization_id: int | None) -> Grant | None:
    if organization_id is None:
        return None
    return session.exec(select(Grant).where(Grant.person_id == person_id,
                                            Grant.organization_id == organization_id)).first()


def worksheet(session, actor: Actor, request: AccessRequest) -> list[SheetField]:
    """The fields to enter in imMTrax for ``request``, in the registry screen's order."""
    require_staff(actor)
    person = session.get(Person, request.subject_person_id)
    org = session.get(Organization, request.organization_id)
    kind = RequestType(request.request_type)
    level = request.access_level.label if request.access_level else ""
    rows: list[tuple[str, str, str]] = [
        ("organization", "Organization", org.name),
        ("organization_id", "Organization registry identifier (PIN)", org.code),
    ]
    if kind == RequestType.ACCESS_DELETION:
        grant = _grant(session, person.id, request.organization_id)
        rows += [
            ("deactivate_account", "Account to deactivate (imMTrax username)",
             (grant.immtrax_username if grant and grant.immtrax_username else "") or person.email),
            ("last_name", "Last name", person.last_name),
            ("first_name", "First name", person.first_name),
            ("email", "Email", person.email),
            ("last_day", "Last day", request.last_day.isoformat() if request.last_day else ""),
        ]
    else:
        rows += [
            ("last_name", "Last name", person.last_name),
            ("first_name", "First name", person.first_name),
            ("email", "Email", person.email),
            ("phone", "Phone", request.phone or person.phone),
            ("job_title", "Job title", request.job_title or person.job_title),
            ("level", "Role (access level)", level),
            ("start_date", "Start date", request.start_date.isoformat() if request.start_date else ""),
        ]
        if kind == RequestType.PERMISSIONS_CHANGE:
            grant = _grant(session, person.id, request.organization_id)
            if grant and grant.immtrax_username:
                rows.insert(2, ("account", "Account to change (imMTrax username)", grant.immtrax_username))
    if kind == RequestType.CHANGE_EMPLOYER and request.former_organization_id:
        former = session.get(Organization, request.former_organization_id)
        rows += [("former_organization", "Former organization: end access", former.name),
                 ("former_organization_id", "Former organization registry identifier (PIN)", former.code)]
    return [SheetField(key, label, value) for key, label, value in rows if value]


def sheet_text(fields: list[SheetField]) -> str:
    """The whole sheet as text to paste: one "label: value" line per field."""
    return "\n".join(f"{f.label}: {f.value}" for f in fields)
