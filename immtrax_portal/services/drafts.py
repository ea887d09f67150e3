"""A supervisor's unfinished wizard request, kept on the server as they type.

Why on the server: a reload, a lost connection or a restart of the portal must not cost the
supervisor what they entered, and the idempotency key of the eventual submission has to survive
all three so that a resent submit still finds the one request it made. Why a whitelist: anything
the browser can call may send anything, so only known keys with string values of bounded length
are ever stored.
"""

from __future__ import annotations

import json

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from immtrax_portal.db import session_scope
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
                    row = WizardDraft(supervisor_id=supervisor_id)
                row.data, row.updated_at = payload, utcnow()
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


def cancel_draft(supervisor_id: int, *, actor_role: Role | str = Role.SUPERVISOR,
                 source_ip: str = "") -> bool:
    """The supervisor threw their draft away: discard it and leave a trace in the audit log."""
    with session_scope() as session:
        row = session.exec(select(WizardDraft).where(WizardDraft.supervisor_id == supervisor_id)).first()
        had_draft = row is not None
        kept = _parsed(row.data) if row is not None else {}
        if row is not None:
            session.delete(row)
        audit.record(session, action="wizard.cancel", actor_id=supervisor_id, actor_role=actor_role,
                     target_type="wizard_draft", target_id=supervisor_id, source_ip=source_ip,
                     details={"request_type": kept.get("request_type", ""),
                              "organization_id": kept.get("organization_id", ""),
                              "had_draft": had_draft})
    return had_draft
