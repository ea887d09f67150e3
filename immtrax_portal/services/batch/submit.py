"""Submitting several people at once: one request per person, all in one transaction, one receipt.

Each request is made by the single wizard's own submission (``services.requests._create_request``:
the same checks, number, invitation, lifecycle), so a row the registry or the rules refuse rolls
the whole submission back and says which row. The submission's idempotency key gives each row a
key of its own (``<key>-01`` ...); the same submission sent again (a double click, a retried
event) finds the requests the first one made and creates nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import AccessRequest, Organization, Person
from immtrax_portal.domain.permissions import NotAllowed, require_supervisor_of
from immtrax_portal.program_time import program_today
from immtrax_portal.services import audit, emails
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.batch.rows import MAX_PEOPLE, PersonRow
from immtrax_portal.services.requests import SubmissionRefused, _create_request, next_steps


@dataclass(frozen=True)
class Submitted:
    """One request of the submission, as the receipt lists it."""

    number: str
    type_label: str
    person: str


@dataclass
class BatchRefused(Exception):
    """A row was refused at submission (the registry changed since the check): nothing was made."""

    row: int
    refused: SubmissionRefused

    def __str__(self) -> str:
        return f"Row {self.row}: {self.refused.message}"


def row_key(key: str, index: int) -> str:
    return f"{key}-{index + 1:02d}"


def submit_people(person_id: int, organization_id: int, rows: list[PersonRow], idempotency_key: str, *,
                  source_ip: str = "", today: date | None = None) -> list[Submitted]:
    """One request per row, in one transaction; the receipt lists them. A key used before returns
    what it made then. Raises ``BatchRefused``, ``SubmissionRefused`` or ``NotAllowed``."""
    key = idempotency_key.strip()[:40]
    if len(key) < 16:
        raise SubmissionRefused("This form is out of date. Reload the page and try again.")
    rows = [row for row in rows if not row.is_blank]
    if not rows or len(rows) > MAX_PEOPLE:
        raise SubmissionRefused(f"A submission holds from 1 to {MAX_PEOPLE} people.")
    if previous := made_with(key, person_id):
        return previous
    try:
        with session_scope() as session:
            actor = load_actor(session, person_id)
            if actor is None:
                raise NotAllowed("Sign in again to submit requests.")
            require_supervisor_of(actor, organization_id)
            made = []
            for index, row in enumerate(rows):
                draft = row.answers(organization_id).request_draft()
                try:
                    made.append(_create_request(session, actor, draft, row_key(key, index),
                                                today or program_today(), source_ip, receipt=False))
                except SubmissionRefused as refused:
                    raise BatchRefused(index + 1, refused) from None
            steps = [step.split(". ", 1)[-1] for step in next_steps(made[0].request_type)]
            emails.batch_receipt(session, made, steps)
            audit.record(session, action=AuditAction.BATCH_SUBMIT, actor_id=actor.person_id,
                         actor_role=actor.role, organization_id=organization_id,
                         target_type="organization", target_id=organization_id,
                         source_ip=source_ip, details={"count": len(made), "first": made[0].number,
                                                       "last": made[-1].number})
            return _listed(session, made)
    except IntegrityError:
        # The same submission committed a moment earlier (a double click): answer with it.
        if previous := made_with(key, person_id):
            return previous
        raise SubmissionRefused("Another request for one of these people was submitted at the same "
                                "moment. Check the rows again.") from None
    except BatchRefused:
        if previous := made_with(key, person_id):
            return previous
        raise


def made_with(key: str, person_id: int) -> list[Submitted]:
    """The requests an earlier submission with this key made, in row order ([] if none)."""
    keys = [row_key(key, index) for index in range(MAX_PEOPLE)]
    with session_scope() as session:
        found = session.exec(select(AccessRequest).where(AccessRequest.idempotency_key.in_(keys))  # type: ignore[attr-defined]
                             .order_by(AccessRequest.idempotency_key)).all()
        if any(request.submitter_id != person_id for request in found):
            raise NotAllowed("This form belongs to another person's session.")
        return _listed(session, list(found))


def _listed(session, requests: list[AccessRequest]) -> list[Submitted]:
    people = {p.id: p for p in session.exec(select(Person).where(
        Person.id.in_([r.subject_person_id for r in requests])))} if requests else {}  # type: ignore[union-attr]
    return [Submitted(r.number, r.request_type.label, people[r.subject_person_id].full_name)
            for r in requests]


def organization_name(organization_id: int) -> str:
    with session_scope() as session:
        organization = session.get(Organization, organization_id)
        return organization.name if organization else ""
