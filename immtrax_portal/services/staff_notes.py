"""Internal notes on a request: program staff write and read them; nobody else ever receives one.

The audit event of a new note names the note (its id), never its text, because audit events of a
request appear in the history that supervisors and applicants see.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import AccessRequest, Person, StaffNote
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_staff
from immtrax_portal.program_time import program_stamp
from immtrax_portal.services import audit
from immtrax_portal.services.delegations import on_behalf_details

NOTE_MAX = 2000
NOTE_ADDED = AuditAction.STAFF_NOTE_ADDED  # staff-only audit action: hidden from others' history


@dataclass(frozen=True)
class NoteView:
    author: str
    when: str
    body: str

    def as_dict(self) -> dict[str, str]:
        return {"author": self.author, "when": self.when, "body": self.body}


def add_note(actor: Actor, request_id: int, body: str, *, source_ip: str = "") -> int:
    """Store a note on the request and audit it; NotAllowed for anyone but program staff."""
    require_staff(actor)
    text = str(body).strip()[:NOTE_MAX]
    if not text:
        raise ValueError("Write the note before saving it.")
    with session_scope() as session:
        request = session.get(AccessRequest, request_id)
        if request is None:
            raise NotAllowed("That request does not exist or is not yours to see.")
        note = StaffNote(request_id=request.id, author_id=actor.person_id, body=text)
        session.add(note)
        session.flush()
        audit.record(session, action=NOTE_ADDED, actor_id=actor.person_id, actor_role=actor.role,
                     organization_id=request.organization_id, request_id=request.id,
                     target_type="staff_note", target_id=note.id, source_ip=source_ip,
                     details=on_behalf_details(session, actor, request) or None)
        return note.id


def notes_of(actor: Actor, request_id: int) -> list[NoteView]:
    """The request's notes, oldest first; NotAllowed for anyone but program staff."""
    require_staff(actor)
    with session_scope() as session:
        found = session.exec(
            select(StaffNote, Person.first_name, Person.last_name)
            .join(Person, Person.id == StaffNote.author_id)
            .where(StaffNote.request_id == request_id)
            .order_by(StaffNote.created_at, StaffNote.id)  # type: ignore[arg-type]
        ).all()
        return [NoteView(f"{first} {last}", program_stamp(note.created_at), note.body)
                for note, first, last in found]
