"""Publishing User Agreement versions: program staff (DESIGN.md: staff "manage agreement
versions"), validated, audited.

A version is never edited after publishing: signatures point at it and at the hash of its text.
The newest published version is the one applicants sign (``services.agreements.current_agreement``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import AgreementSignature, AgreementVersion, Person, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.domain.validation import parse_date
from immtrax_portal.services import audit, renewals
from immtrax_portal.services.agreements import current_agreement, text_hash

MAX_LABEL, MAX_TITLE, MAX_BODY = 40, 200, 50_000
MAX_ACKNOWLEDGEMENTS, MAX_ACKNOWLEDGEMENT = 12, 500
PAGE_SIZE = 10
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class AgreementRefused(Exception):
    """The version was not published; ``problems`` maps field -> message for the form."""

    message: str
    problems: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def _clean_body(body: str) -> str:
    """One newline convention and no trailing spaces, so the hash does not depend on the browser."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def tidy_agreement(label: str, title: str, body: str, acknowledgements: list[str]
                   ) -> tuple[str, str, str, list[str]]:
    """The form's values as they would be published (the review step shows exactly these)."""
    return (label.strip(), " ".join(title.split()), _clean_body(body),
            [" ".join(a.split()) for a in acknowledgements if a.strip()])


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
CONTROL_PROBLEM = "Remove the invisible control characters (they often come from pasting)."


def _first_problem(*checks: tuple[bool, str]) -> str:
    return next((message for failed, message in checks if failed), "")


def agreement_problems(label: str, title: str, body: str, acknowledgements: list[str]) -> dict[str, str]:
    """field -> what is wrong with it, for the form; empty when the version can be published."""
    found = {
        "label": _first_problem(
            (not label, "Give the version a label, for example 2026-2."),
            (len(label) > MAX_LABEL or not _LABEL.fullmatch(label),
             f"Use up to {MAX_LABEL} letters, digits, dots, dashes or underscores, starting with a letter "
             "or digit.")),
        "title": _first_problem(
            (not title, "Give the agreement a title."),
            (len(title) > MAX_TITLE, f"Keep the title to {MAX_TITLE} characters."),
            (bool(_CONTROL.search(title)), CONTROL_PROBLEM)),
        "body": _first_problem(
            (not body, "Enter the text of the agreement."),
            (len(body) > MAX_BODY, f"Keep the text to {MAX_BODY:,} characters."),
            (bool(_CONTROL.search(body)), CONTROL_PROBLEM)),
        "acknowledgements": _first_problem(
            (not acknowledgements, "Add at least one statement the applicant ticks."),
            (len(acknowledgements) > MAX_ACKNOWLEDGEMENTS, f"Use at most {MAX_ACKNOWLEDGEMENTS} statements."),
            (any(len(a) > MAX_ACKNOWLEDGEMENT for a in acknowledgements),
             f"Keep each statement to {MAX_ACKNOWLEDGEMENT} characters."),
            (len({a.casefold() for a in acknowledgements}) != len(acknowledgements),
             "Each statement must be different."),
            (any(_CONTROL.search(a) for a in acknowledgements), CONTROL_PROBLEM)),
    }
    return {name: problem for name, problem in found.items() if problem}


LABEL_TAKEN = "That label is already used by a published version. Choose a new one."


def _label_exists(session, label: str) -> bool:
    found = session.exec(select(AgreementVersion.id).where(AgreementVersion.label == label)).first()
    return found is not None


def label_is_taken(label: str) -> bool:
    """Asked at the review step, so the reviewer hears about it before, not after, reading through."""
    with session_scope() as session:
        return _label_exists(session, label)


MAX_RESIGN_DAYS_AHEAD = 365


def resign_by_problem(value: str, today: date) -> str | None:
    """The day by which everyone must sign a new version again: after today, within a year."""
    day = parse_date(value)
    if day is None:
        return "Enter the day by which everyone must sign again, for example 2026-12-01."
    if day <= today:
        return "Choose a day after today."
    if day > today + timedelta(days=MAX_RESIGN_DAYS_AHEAD):
        return f"Choose a day at most {MAX_RESIGN_DAYS_AHEAD} days ahead."
    return None


def publish_agreement(actor: Actor, label: str, title: str, body: str, acknowledgements: list[str], *,
                      source_ip: str = "", resign_by: date | None = None) -> AgreementVersion:
    """Publish a new version; from now on applicants read and sign it. With ``resign_by``, everyone
    with access must sign it again by the end of that day (``services.renewals``)."""
    require_staff(actor)
    label, title, body, acknowledgements = tidy_agreement(label, title, body, acknowledgements)
    if problems := agreement_problems(label, title, body, acknowledgements):
        raise AgreementRefused("Some fields need correcting.", problems)
    taken = AgreementRefused("That label is already used.", {"label": LABEL_TAKEN})
    try:
        with session_scope() as session:
            if _label_exists(session, label):
                raise taken
            version = AgreementVersion(label=label, title=title, body=body, text_hash=text_hash(body),
                                       acknowledgements=json.dumps(acknowledgements),
                                       published_at=utcnow(), published_by_id=actor.person_id)
            session.add(version)
            session.flush()
            audit.record(session, action=AuditAction.PUBLISH_AGREEMENT, actor_id=actor.person_id,
                         actor_role=actor.role,
                         target_type="agreement_version", target_id=version.id, source_ip=source_ip,
                         details={"label": label, "text_hash": version.text_hash})
            if resign_by is not None:
                renewals.require_everyone_to_sign(session, version, resign_by, actor, source_ip)
            return version
    except IntegrityError:
        raise taken from None


@dataclass(frozen=True)
class VersionRow:
    id: int
    label: str
    title: str
    published_at: object
    published_by: str
    acknowledgement_count: int
    signature_count: int
    current: bool


@dataclass(frozen=True)
class VersionPage:
    rows: list[VersionRow]
    total: int
    page: int
    pages: int


_NEWEST_FIRST = (AgreementVersion.published_at.desc(), AgreementVersion.id.desc())  # type: ignore[union-attr]


def list_agreement_versions(actor: Actor, page: int = 1) -> VersionPage:
    """One page of published versions, newest (the current one) first, with who published each
    and how many applicants signed it."""
    require_staff(actor)
    with session_scope() as session:
        total = session.exec(select(sa.func.count()).select_from(AgreementVersion)).one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        current = current_agreement(session)
        found = session.exec(
            select(AgreementVersion, Person)
            .join(Person, Person.id == AgreementVersion.published_by_id, isouter=True)  # type: ignore[arg-type]
            .order_by(*_NEWEST_FIRST).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        ).all()
        ids = [v.id for v, _ in found]
        signatures = dict(session.exec(
            select(AgreementSignature.agreement_version_id, sa.func.count())
            .where(AgreementSignature.agreement_version_id.in_(ids))  # type: ignore[attr-defined]
            .group_by(AgreementSignature.agreement_version_id)
        ).all()) if ids else {}
        rows = [VersionRow(id=v.id, label=v.label, title=v.title, published_at=v.published_at,
                           published_by=p.full_name if p else "The portal (first setup)",
                           acknowledgement_count=len(json.loads(v.acknowledgements)),
                           signature_count=signatures.get(v.id, 0),
                           current=current is not None and v.id == current.id)
                for v, p in found]
    return VersionPage(rows=rows, total=total, page=page, pages=pages)


@dataclass(frozen=True)
class CurrentText:
    label: str
    title: str
    body: str
    acknowledgements: list[str]


def current_text(actor: Actor) -> CurrentText | None:
    """The version applicants sign now: the starting point for the next one."""
    require_staff(actor)
    with session_scope() as session:
        version = current_agreement(session)
        if version is None:
            return None
        return CurrentText(version.label, version.title, version.body, json.loads(version.acknowledgements))


def changes_from_current(actor: Actor, title: str, body: str, acknowledgements: list[str]) -> str:
    """What a reviewer should know before publishing: which parts differ from what is signed now."""
    current = current_text(actor)
    if current is None:
        return "This will be the first version: there is no current one."
    changed = [part for part, differs in (("the title", title != current.title),
                                          ("the text", body != current.body),
                                          ("the statements", acknowledgements != current.acknowledgements))
               if differs]
    if not changed:
        return f"Only the label differs from version {current.label}: applicants would sign the same words."
    verb = "differs" if len(changed) == 1 else "differ"
    return f"{_and_join(changed).capitalize()} {verb} from version {current.label}."


def _and_join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
