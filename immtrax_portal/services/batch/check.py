"""What is wrong with each row of a several-people request, by the single wizard's own rules.

Per row, in the wizard's order: the fields (``steps.draft_problems``: names, email, phone, job
title, start date, level), the supervisor themselves (``permissions.require_not_about_self``), the
same email twice in the list, then the registry (``registry.registry_advice``, the very function
the wizard's step 2 and the submission use). Every person looked up is one audit row, as in the
wizard; one check counts once against the supervisor's look-up limit (it holds at most 25 people).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain import validation as v
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_not_about_self, require_supervisor_of
from immtrax_portal.program_time import program_today
from immtrax_portal.services import audit
from immtrax_portal.services.batch.rows import FIELDS, MAX_PEOPLE, PersonRow
from immtrax_portal.services.rate_limits import check_rate
from immtrax_portal.services.wizard.registry import registry_advice
from immtrax_portal.services.wizard.steps import REGISTRY, draft_problems

SAME_PERSON_TWICE = "This email is already on row {row}. List each person once."
NO_PEOPLE = "Fill in at least one person."

# What the registry found, as the page offers it: a one-click switch of the row's type, a
# Permissions Change for someone already here, or the open request to follow.
SWITCH, PERMISSIONS_CHANGE, OPEN_REQUEST = "switch", "permissions_change", "open_request"


@dataclass(frozen=True)
class RowCheck:
    """One row's verdict: ``problems`` by field (``REGISTRY`` for the registry's finding), and what
    the page may offer for the registry's finding."""

    row: PersonRow
    problems: dict[str, str] = field(default_factory=dict)
    offer: str = ""
    suggested_type: str = ""
    open_request_number: str = ""
    person_id: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class BatchCheck:
    rows: list[RowCheck]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def wrong(self) -> int:
        return sum(1 for r in self.rows if not r.ok)


def field_problems(actor: Actor, organization_id: int, row: PersonRow, today: date) -> dict[str, str]:
    """The wizard's own checks of the row's fields, and whether it is the supervisor themselves."""
    draft = row.answers(organization_id).request_draft()
    if draft is None:
        return {"email": "Choose the organization first."}
    problems = {name: message for name, message in draft_problems(draft, today).items() if name in FIELDS}
    try:
        require_not_about_self(actor, None, draft.email)
    except NotAllowed as refused:
        problems.setdefault("email", str(refused))
    return problems


def check_rows(actor: Actor, organization_id: int, rows: list[PersonRow], *, today: date | None = None,
               source_ip: str = "") -> BatchCheck:
    """Every row checked; blank rows dropped. Raises ``NotAllowed`` for an organization that is not
    the caller's, ``RateLimited`` past the look-up limit (both already recorded)."""
    require_supervisor_of(actor, organization_id)
    today = today or program_today()
    rows = [row for row in rows if not row.is_blank][:MAX_PEOPLE]
    if not rows:
        return BatchCheck([], NO_PEOPLE)
    checked = [field_problems(actor, organization_id, row, today) for row in rows]
    emails = [v.normalize_email(row.email) for row in rows]
    for index, email in enumerate(emails):
        if email and email in emails[:index] and "email" not in checked[index]:
            checked[index]["email"] = SAME_PERSON_TWICE.format(row=emails.index(email) + 1)
    to_look_up = [i for i, problems in enumerate(checked) if not problems]
    found: dict[int, RowCheck] = {}
    if to_look_up:
        check_rate("registry_lookup", person_id=actor.person_id, ip=source_ip, actor_role=actor.role)
        found = _registry(actor, organization_id, [(i, rows[i]) for i in to_look_up], source_ip)
    return BatchCheck([found.get(i) or RowCheck(row, checked[i]) for i, row in enumerate(rows)])


def _registry(actor: Actor, organization_id: int, rows: list[tuple[int, PersonRow]],
              source_ip: str) -> dict[int, RowCheck]:
    verdicts: dict[int, RowCheck] = {}
    with session_scope() as session:
        for index, row in rows:
            advice = registry_advice(session, organization_id, RequestType(row.request_type), row.email)
            if advice is not None:
                offer = (OPEN_REQUEST if advice.open_request_number else PERMISSIONS_CHANGE
                         if advice.suggested_type == RequestType.PERMISSIONS_CHANGE else SWITCH)
                person_id = 0
                if offer == PERMISSIONS_CHANGE:
                    person_id = session.exec(select(Person.id).where(
                        Person.email == v.normalize_email(row.email))).first() or 0
                verdicts[index] = RowCheck(
                    row, {REGISTRY: advice.message}, offer,
                    advice.suggested_type.value if advice.suggested_type else "",
                    advice.open_request_number or "", person_id or 0)
            _record_lookup(session, actor, organization_id, row, verdicts.get(index), source_ip)
    return verdicts


def _record_lookup(session, actor: Actor, organization_id: int, row: PersonRow, verdict: RowCheck | None,
                   source_ip: str) -> None:
    """One audit row per person looked up, as the wizard records its own look-ups."""
    email = v.normalize_email(row.email)
    audit.record(session, action=AuditAction.BATCH_REGISTRY_LOOKUP, actor_id=actor.person_id,
                 actor_role=actor.role, organization_id=organization_id, target_type="email",
                 target_id=email, source_ip=source_ip,
                 details={"email": email, "organization_id": organization_id,
                          "request_type": row.request_type,
                          "suggested_type": verdict.suggested_type if verdict else "",
                          "open_request": verdict.open_request_number if verdict else ""})
