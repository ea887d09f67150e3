"""A supervisor's unfinished wizard request, kept on the server as they type.

Why on the server: a reload, a lost connection or a restart of the portal must not cost the
supervisor what they entered, and the idempotency key of the eventual submission has to survive
all three so that a resent submit still finds the one request it made. Why a whitelist: anything
the browser can call may send anything, so only known keys with string values of bounded length
are ever stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import Role
from immtrax_portal.domain.models import WizardDraft, utcnow
from immtrax_portal.services import audit
from immtrax_portal.services.wizard.answers import LIMITS

# key -> longest value kept: the answers (``services.wizard.answers``, each declared there once),
# the step the supervisor was on and the submission's idempotency key. Longer values are cut,
# unknown keys and non-strings dropped.
BOOKKEEPING: dict[str, int] = {"step": 2, "idempotency_key": 64}
DRAFT_FIELDS: dict[str, int] = {**LIMITS, **BOOKKEEPING}


def cleaned_draft(data: dict) -> dict[str, str]:
    """Only the whitelisted keys, only string values, each cut to its limit; empties left out."""
    if not isinstance(data, dict):
        return {}
    return {
        key: value[:limit]
        for key, limit in DRAFT_FIELDS.items()
        if isinstance(value := data.get(key), str) and value
    }


def _parsed(text: str) -> dict[str, str]:
    try:
        return cleaned_draft(json.loads(text or "{}"))
    except ValueError:
        return {}


@dataclass(frozen=True)
class Draft:
    """A stored draft as one tab read it: its answers, which row, and which version of it.
    ``draft_id`` 0 means nothing is stored (a fresh request)."""

    data: dict[str, str] = field(default_factory=dict)
    draft_id: int = 0
    version: int = 0


class DraftChanged(Exception):
    """The draft was saved, submitted or discarded elsewhere (another tab) since this tab read it.
    ``newer`` is what is stored now (``draft_id`` 0: nothing any more)."""

    def __init__(self, newer: Draft) -> None:
        super().__init__("the draft changed in another tab")
        self.newer = newer


def _row(session, supervisor_id: int) -> WizardDraft | None:
    return session.exec(select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)).first()


def read_draft(supervisor_id: int) -> Draft:
    """The supervisor's stored draft with its row id and version (an empty ``Draft`` if none)."""
    with session_scope() as session:
        row = _row(session, supervisor_id)
        return Draft(_parsed(row.data), row.id, row.version) if row is not None else Draft()


def save_if_unchanged(supervisor_id: int, data: dict, *, draft_id: int, version: int) -> Draft:
    """Store ``data`` (cleaned) only over the draft this tab read: row ``draft_id`` at ``version``
    (``draft_id`` 0: only if no draft is stored). Returns the stored draft with its new version;
    raises ``DraftChanged`` with what is stored now when another tab got there first."""
    cleaned = cleaned_draft(data)
    payload = json.dumps(cleaned, sort_keys=True)
    table = WizardDraft.__table__  # type: ignore[attr-defined]
    try:
        with session_scope() as session:
            if draft_id:
                changed = session.exec(
                    sa.update(table)
                    .where(table.c.id == draft_id, table.c.supervisor_id == supervisor_id,
                           table.c.version == version)
                    .values(data=payload, updated_at=utcnow(), version=version + 1)).rowcount
                if changed == 1:
                    return Draft(cleaned, draft_id, version + 1)
            elif _row(session, supervisor_id) is None:
                row = WizardDraft(supervisor_id=supervisor_id, data=payload, updated_at=utcnow(), version=1)
                session.add(row)
                session.flush()
                return Draft(cleaned, row.id, 1)
    except IntegrityError:
        pass  # another tab stored the first draft at the same moment
    raise DraftChanged(read_draft(supervisor_id))


def load_draft(supervisor_id: int) -> dict[str, str]:
    """The supervisor's saved draft, or {} when there is none (or it cannot be read)."""
    with session_scope() as session:
        row = session.exec(select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)).first()
        return _parsed(row.data) if row is not None else {}


def save_draft(supervisor_id: int, data: dict) -> dict[str, str]:
    """Replace the supervisor's draft with ``data`` (cleaned); returns what was stored."""
    cleaned = cleaned_draft(data)
    payload = json.dumps(cleaned, sort_keys=True)
    for attempt in (1, 2):
        try:
            with session_scope() as session:
                row = session.exec(
                    select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)
                ).first()
                if row is None:
                    row = WizardDraft(supervisor_id=supervisor_id, version=0)
                row.data, row.updated_at, row.version = payload, utcnow(), (row.version or 0) + 1
                session.add(row)
            return cleaned
        except IntegrityError:
            # Two tabs saved the first draft at the same moment: the second one updates instead.
            if attempt == 2:
                raise
    return cleaned


def discard_draft(supervisor_id: int) -> bool:
    """Forget the draft (after a submission); returns whether there was one."""
    with session_scope() as session:
        row = session.exec(select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)).first()
        if row is None:
            return False
        session.delete(row)
        return True


def _unchanged(row: WizardDraft | None, draft_id: int | None, version: int | None) -> bool:
    """Whether the stored row is the one a tab read (``draft_id`` None: the caller does not ask)."""
    if draft_id is None:
        return True
    if row is None:
        return not draft_id
    return row.id == draft_id and row.version == version


def cancel_draft(supervisor_id: int, *, actor_role: Role | str = Role.SUPERVISOR,
                 source_ip: str = "", draft_id: int | None = None, version: int | None = None) -> bool:
    """The supervisor threw their draft away: discard it and leave a trace in the audit log.
    With ``draft_id``/``version`` only the draft the tab read is discarded: a draft changed in
    another tab since raises ``DraftChanged`` and nothing is discarded or recorded."""
    with session_scope() as session:
        row = session.exec(select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)).first()
        if not _unchanged(row, draft_id, version):
            newer = Draft(_parsed(row.data), row.id, row.version) if row is not None else Draft()
            raise DraftChanged(newer)
        had_draft = row is not None
        kept = _parsed(row.data) if row is not None else {}
        if row is not None:
            session.delete(row)
        audit.record(session, action=AuditAction.WIZARD_CANCEL, actor_id=supervisor_id, actor_role=actor_role,
                     target_type="wizard_draft", target_id=supervisor_id, source_ip=source_ip,
                     details={"request_type": kept.get("request_type", ""),
                              "organization_id": kept.get("organization_id", ""),
                              "had_draft": had_draft})
    return had_draft
