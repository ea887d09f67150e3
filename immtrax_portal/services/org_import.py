"""Importing organizations from a CSV file: parse, preview, and import only what was previewed.

``parse_organization_csv`` is pure (bytes in, rows and row errors out). ``plan_import`` compares
the rows with the database and says, per row, whether it creates, updates or leaves an
organization unchanged. ``apply_import`` runs the plan again inside one transaction and refuses
when it no longer matches the preview the staff member confirmed, so what is imported is exactly
what they saw.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import Organization
from immtrax_portal.domain.organization_rules import (
    OrganizationFields,
    organization_problems,
    parse_active,
    tidy,
)
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.services import audit
from immtrax_portal.services.organizations import changes_between, deactivation_problem

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
REQUIRED_COLUMNS = ("code", "name", "city")
OPTIONAL_COLUMNS = ("active",)
_LOOKUP_CHUNK = 500


class ImportFileRejected(ValueError):
    """The file as a whole cannot be read; the message says why and what to do."""


class ImportOutdated(RuntimeError):
    """The organizations changed between preview and confirm; ``plan`` is the new preview."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("The organizations changed since your preview. Check the new preview "
                         "below and confirm again.")
        self.plan = plan


@dataclass(frozen=True)
class ImportRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    fields: OrganizationFields
    active_given: bool


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    message: str


@dataclass(frozen=True)
class ParsedFile:
    digest: str
    rows: tuple[ImportRow, ...]
    errors: tuple[RowError, ...]


# --- Parsing ------------------------------------------------------------------------------------


_CSV_ENDINGS = (".csv", ".txt")


def check_file_name(name: str) -> None:
    """A file that is plainly not a CSV (a picture, a spreadsheet) is refused by its name."""
    shown = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "That file"
    if name and not name.lower().endswith(_CSV_ENDINGS):
        hint = (" In Excel, choose File, Save As, and \u201cCSV UTF-8 (comma delimited)\u201d."
                if name.lower().endswith((".xlsx", ".xls", ".ods", ".numbers")) else "")
        raise ImportFileRejected(f"\u201c{shown}\u201d is not a CSV file. Choose a file whose name "
                                 f"ends in .csv.{hint}")


def _text_of(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileRejected(f"The file is larger than {MAX_BYTES // 1_000_000} MB. "
                                 "Split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileRejected("The file is not UTF-8 text. In your spreadsheet, save it as "
                                 "\"CSV UTF-8 (comma delimited)\".") from None
    if "\x00" in text:
        raise ImportFileRejected("The file contains binary data; choose a CSV file.")
    return text


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    doubled = sorted({h for h in names if names.count(h) > 1})
    if missing or unknown or doubled:
        said = []
        if missing:
            said.append("missing " + ", ".join(missing))
        if unknown:
            said.append("unknown " + ", ".join(f'"{u[:30]}"' for u in unknown[:5]))
        if doubled:
            said.append("repeated " + ", ".join(doubled))
        raise ImportFileRejected("The first row must name the columns code, name, city and "
                                 f"optionally active ({'; '.join(said)}).")
    return {name: names.index(name) for name in names}


def _row_of(number: int, values: list[str], columns: dict[str, int], seen: dict[str, int]
            ) -> ImportRow | RowError:
    def value(name: str) -> str:
        at = columns.get(name)
        return values[at] if at is not None and at < len(values) else ""

    raw_code = value("code").strip()
    if len(values) > len(columns):
        return RowError(number, raw_code.upper()[:40],
                        f"This row has {len(values)} values but the header names {len(columns)} "
                        "columns (a comma inside a name needs quotes).")
    try:
        active = parse_active(value("active"))
    except ValueError as problem:
        return RowError(number, raw_code.upper()[:40], str(problem))
    fields = tidy(OrganizationFields(code=raw_code, name=value("name"), city=value("city"),
                                     active=True if active is None else active))
    if problems := organization_problems(fields):
        return RowError(number, fields.code[:40], " ".join(problems[k] for k in ("code", "name", "city")
                                                           if k in problems))
    if fields.code in seen:
        return RowError(number, fields.code, f"The code {fields.code} is already on row "
                                             f"{seen[fields.code]} of this file.")
    seen[fields.code] = number
    return ImportRow(number, fields, active_given=active is not None)


def parse_organization_csv(data: bytes) -> ParsedFile:
    """Rows and per-row errors of a CSV file; ``ImportFileRejected`` when it cannot be read."""
    text = _text_of(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise ImportFileRejected("The file is empty. The first row must name the columns "
                                     "code, name, city and optionally active.")
        columns = _columns(header)
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise ImportFileRejected(f"The file has more than {MAX_ROWS:,} rows. "
                                         "Split it into smaller files.")
            outcome = _row_of(number, values, columns, seen)
            (rows if isinstance(outcome, ImportRow) else errors).append(outcome)
    except csv.Error as problem:
        raise ImportFileRejected(f"The file is not valid CSV at row {reader.line_num} ({problem}). "
                                 "Check the quotes on that row.") from None
    if not rows and not errors:
        raise ImportFileRejected("The file has a header row but no organizations.")
    return ParsedFile(hashlib.sha256(data).hexdigest(), tuple(rows), tuple(errors))


# --- Planning against the database --------------------------------------------------------------

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class PlannedRow:
    row: int
    outcome: str
    fields: OrganizationFields
    changes: dict[str, list] = field(default_factory=dict)
    organization_id: int | None = None

    def describe_changes(self) -> str:
        def shown(value) -> str:
            return ("yes" if value else "no") if isinstance(value, bool) else (value or "(blank)")
        return "; ".join(f"{name}: {shown(old)} → {shown(new)}" for name, (old, new) in self.changes.items())


@dataclass(frozen=True)
class ImportPlan:
    digest: str
    rows: tuple[PlannedRow, ...]
    errors: tuple[RowError, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def fingerprint(self) -> str:
        """Identifies what the preview promised: the file, every row's outcome and every error."""
        promised = [(r.row, r.outcome, r.changes) for r in self.rows]
        promised += [(e.row, "error", e.message) for e in self.errors]
        return hashlib.sha256(json.dumps([self.digest, promised], sort_keys=True).encode()).hexdigest()


def _existing(session: Session, codes: list[str]) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for start in range(0, len(codes), _LOOKUP_CHUNK):
        chunk = codes[start:start + _LOOKUP_CHUNK]
        found.update((o.code, o) for o in session.exec(
            select(Organization).where(Organization.code.in_(chunk))).all())  # type: ignore[attr-defined]
    return found


def _plan(session: Session, parsed: ParsedFile) -> ImportPlan:
    existing = _existing(session, [r.fields.code for r in parsed.rows])
    planned: list[PlannedRow] = []
    errors = list(parsed.errors)
    for row in parsed.rows:
        org = existing.get(row.fields.code)
        if org is None:
            planned.append(PlannedRow(row.row, CREATE, row.fields))
            continue
        wanted = row.fields if row.active_given else OrganizationFields(
            row.fields.code, row.fields.name, row.fields.city, org.active)
        changes = changes_between(OrganizationFields(org.code, org.name, org.city, org.active), wanted)
        if org.active and not wanted.active and (why := deactivation_problem(session, org.id)):
            errors.append(RowError(row.row, row.fields.code, why))
            continue
        planned.append(PlannedRow(row.row, UPDATE if changes else UNCHANGED, wanted, changes, org.id))
    errors.sort(key=lambda e: e.row)
    return ImportPlan(parsed.digest, tuple(planned), tuple(errors))


def plan_import(actor: Actor, parsed: ParsedFile) -> ImportPlan:
    require_staff(actor)
    with session_scope() as session:
        return _plan(session, parsed)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: int


def apply_import(actor: Actor, parsed: ParsedFile, previewed_fingerprint: str, *,
                 source_ip: str = "") -> ImportResult:
    """Create and update the organizations of the previewed plan, all or nothing.

    Rows in error are skipped (the preview said so). If the plan computed now differs from the
    one previewed, nothing is imported and ``ImportOutdated`` carries the new plan.
    """
    require_staff(actor)
    try:
        with session_scope() as session:
            plan = _plan(session, parsed)
            if plan.fingerprint != previewed_fingerprint:
                raise ImportOutdated(plan)
            for row in plan.rows:
                _apply_row(session, actor, row, parsed.digest, source_ip)
            result = ImportResult(plan.count(CREATE), plan.count(UPDATE), plan.count(UNCHANGED),
                                  len(plan.errors))
            audit.record(session, action=AuditAction.IMPORT_ORGANIZATIONS, actor_id=actor.person_id,
                         actor_role=actor.role, target_type="organization_file",
                         target_id=parsed.digest[:64], source_ip=source_ip,
                         details={"created": result.created, "updated": result.updated,
                                  "unchanged": result.unchanged, "rows_in_error": result.skipped})
            return result
    except IntegrityError:  # someone created one of these codes while we were importing
        with session_scope() as session:
            raise ImportOutdated(_plan(session, parsed)) from None


def _apply_row(session: Session, actor: Actor, row: PlannedRow, digest: str, source_ip: str) -> None:
    if row.outcome == UNCHANGED:
        return
    if row.outcome == CREATE:
        org = Organization(code=row.fields.code, name=row.fields.name, city=row.fields.city,
                           active=row.fields.active)
        session.add(org)
        session.flush()
        action, details = "create_organization", {"code": org.code, "name": org.name,
                                                  "city": org.city, "active": org.active}
    else:
        org = session.get(Organization, row.organization_id)
        org.code, org.name, org.city, org.active = (row.fields.code, row.fields.name,
                                                    row.fields.city, row.fields.active)
        session.add(org)
        action, details = "update_organization", {"changed": row.changes}
    audit.record(session, action=action, actor_id=actor.person_id, actor_role=actor.role,
                 organization_id=org.id, target_type="organization", target_id=org.id,
                 source_ip=source_ip, details={**details, "import_file": digest[:16],
                                               "row": row.row})
