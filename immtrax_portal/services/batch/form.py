"""The several-people page as plain values: the rows being typed, their verdicts, the receipt.

The Reflex state (``ui/state/batch.py``) keeps a ``Sheet`` on the server, lets it make one move per
event and shows ``Sheet.shown()``. Every check is ``services.batch.check`` (the wizard's rules);
every submission ``services.batch.submit``. A sheet submits only what its last check passed, with
nothing edited since; the submission re-checks everything in its transaction anyway.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from immtrax_portal.domain.enums import AccessLevel, RequestType
from immtrax_portal.services.batch.check import OPEN_REQUEST, PERMISSIONS_CHANGE, SWITCH, BatchCheck
from immtrax_portal.services.batch.rows import FIELDS, LABELS, MAX_PEOPLE, PersonRow, level_value
from immtrax_portal.services.batch.submit import Submitted
from immtrax_portal.services.wizard.steps import REGISTRY
from immtrax_portal.ui import routes

START_ROWS = 3
LEVELS = frozenset(level.value for level in AccessLevel)


def _index(value: object) -> int | None:
    """A row number as a client sends it (an int, or its digits as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3
    return int(value) if digits else None


def cell_id(index: int, name: str) -> str:
    """The DOM id of one cell of the table (the error summary links to it)."""
    return f"batch-r{index + 1}-{name.replace('_', '-')}"


@dataclass
class Sheet:
    organization_id: int = 0
    rows: list[PersonRow] = field(default_factory=lambda: [PersonRow() for _ in range(START_ROWS)])
    check: BatchCheck | None = None
    key: str = ""
    submitted: list[Submitted] = field(default_factory=list)
    revision: int = 0
    stale: bool = False   # edited since the last check: it no longer holds

    # --- Editing ----------------------------------------------------------------------------

    def edited(self) -> None:
        """Any change after a check: the check no longer holds (a changed row's messages go)."""
        self.stale = True

    def set_cell(self, index: object, name: object, value: object) -> bool:
        index = _index(index)
        if not (index is not None and 0 <= index < len(self.rows) and name in FIELDS
                and isinstance(value, str)):
            return False
        row = self.rows[index]
        if getattr(row, name) != value:
            self.rows[index] = PersonRow.of({**row.as_dict(), name: value})
            self.edited()
        return True

    def add_row(self) -> bool:
        if len(self.rows) >= MAX_PEOPLE:
            return False
        self.rows.append(PersonRow())
        self.edited()
        return True

    def remove_row(self, index: object) -> bool:
        index = _index(index)
        if not (index is not None and 0 <= index < len(self.rows)):
            return False
        del self.rows[index]
        if not self.rows:
            self.rows.append(PersonRow())
        self.check, self.revision = None, self.revision + 1
        return True

    def take_form(self, form: object) -> None:
        """The table as submitted (``r1.first_name`` ...): what the check reads."""
        if not isinstance(form, dict):
            return
        rows = []
        for index in range(min(len(self.rows), MAX_PEOPLE)):
            current = self.rows[index].as_dict()
            typed = {name: form[f"r{index + 1}.{name}"] for name in FIELDS
                     if isinstance(form.get(f"r{index + 1}.{name}"), str)}
            rows.append(PersonRow.of({**current, **typed}))
        self.rows = rows or [PersonRow()]

    def replace_rows(self, rows: list[PersonRow]) -> None:
        self.rows = rows[:MAX_PEOPLE] or [PersonRow()]
        self.check, self.revision = None, self.revision + 1

    def switch_row(self, index: object) -> bool:
        """The registry's one-click advice: the row becomes the type it suggested."""
        index = _index(index)
        if not (index is not None and self.check and 0 <= index < len(self.check.rows)):
            return False
        verdict = self.check.rows[index]
        if verdict.offer != SWITCH or index >= len(self.rows):
            return False
        self.rows[index] = self.rows[index].as_kind(verdict.suggested_type)
        self.revision += 1
        return True

    def checked(self, check: BatchCheck) -> None:
        """Keep the verdict; blank rows are gone from the table once checked."""
        self.check, self.stale = check, False
        if check.rows:
            self.rows = [verdict.row for verdict in check.rows]
            self.revision += 1
        if check.ok and not self.key:
            self.key = secrets.token_urlsafe(24)

    @property
    def ready(self) -> bool:
        return bool(self.check and self.check.ok and not self.stale)

    # --- What the page shows ------------------------------------------------------------------

    def shown_rows(self) -> list[dict[str, str]]:
        verdicts = self.check.rows if self.check else []
        shown = []
        for index, row in enumerate(self.rows):
            verdict = verdicts[index] if index < len(verdicts) and verdicts[index].row == row else None
            problems = verdict.problems if verdict else {}
            item = {name: getattr(row, name) for name in FIELDS}
            item.update({f"id_{name}": cell_id(index, name) for name in FIELDS})
            item.update({f"e_{name}": problems.get(name, "") for name in FIELDS})
            item.update({
                "index": str(index), "n": str(index + 1), "request_type": row.request_type,
                "level_value": level if (level := level_value(row.access_level)) in LEVELS else "",
                "type_label": RequestType(row.request_type).label,
                "registry": problems.get(REGISTRY, ""),
                "state": ("" if verdict is None else "ok" if verdict.ok else "wrong"),
                "offer": verdict.offer if verdict else "",
                "offer_label": (f"Make it a {RequestType(verdict.suggested_type).label} request"
                                if verdict and verdict.offer == SWITCH else ""),
                "open_link": (routes.request_url(verdict.open_request_number)
                              if verdict and verdict.offer == OPEN_REQUEST else ""),
                "change_link": (routes.wizard_prefill_url(RequestType.PERMISSIONS_CHANGE.value,
                                                          self.organization_id, verdict.person_id)
                                if verdict and verdict.offer == PERMISSIONS_CHANGE and verdict.person_id
                                else ""),
            })
            shown.append(item)
        return shown

    def summary(self) -> list[dict[str, str]]:
        """The error summary: one line per problem, linked to its cell (the registry's to the email)."""
        if not self.check or self.stale:
            return []
        if self.check.problem:
            return [{"text": self.check.problem, "target": cell_id(0, "first_name")}]
        lines = []
        for index, verdict in enumerate(self.check.rows):
            for name, message in verdict.problems.items():
                target = cell_id(index, "email" if name == REGISTRY else name)
                what = "" if name == REGISTRY else f"{LABELS[name]}: "
                lines.append({"text": f"Row {index + 1}, {what}{message}", "target": target})
        return lines

    def receipt(self) -> list[dict[str, str]]:
        return [{"number": s.number, "type_label": s.type_label, "person": s.person,
                 "link": routes.request_url(s.number)} for s in self.submitted]
