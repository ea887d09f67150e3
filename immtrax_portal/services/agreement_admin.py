"""Publishing User Agreement versions: administrators only, validated, audited.

A version is never edited after publishing: signatures point at it and at the hash of its text.
The newest published version is the one applicants sign (``services.agreements.current_agreement``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AgreementVersion, utcnow
from immtrax_portal.domain.permissions import Actor, require_admin, require_staff
from immtrax_portal.services import audit
from immtrax_portal.services.agreements import text_hash

MAX_LABEL, MAX_TITLE, MAX_BODY = 40, 200, 50_000
MAX_ACKNOWLEDGEMENTS, MAX_ACKNOWLEDGEMENT = 12, 500
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


def agreement_problems(label: str, title: str, body: str, acknowledgements: list[str]) -> dict[str, str]:
    problems = {}
    if not label:
        problems["label"] = "Give the version a label, for example 2026-2."
    elif len(label) > MAX_LABEL or not _LABEL.match(label):
        problems["label"] = (f"Use up to {MAX_LABEL} letters, digits, dots, dashes or underscores, "
                             "starting with a letter or digit.")
    if not title:
        problems["title"] = "Give the agreement a title."
    elif len(title) > MAX_TITLE:
        problems["title"] = f"Keep the title to {MAX_TITLE} characters."
    if not body:
        problems["body"] = "Enter the text of the agreement."
    elif len(body) > MAX_BODY:
        problems["body"] = f"Keep the text to {MAX_BODY:,} characters."
    if not acknowledgements:
        problems["acknowledgements"] = "Add at least one statement the applicant ticks."
    elif len(acknowledgements) > MAX_ACKNOWLEDGEMENTS:
        problems["acknowledgements"] = f"Use at most {MAX_ACKNOWLEDGEMENTS} statements."
    elif any(len(a) > MAX_ACKNOWLEDGEMENT for a in acknowledgements):
        problems["acknowledgements"] = f"Keep each statement to {MAX_ACKNOWLEDGEMENT} characters."
    elif len({a.casefold() for a in acknowledgements}) != len(acknowledgements):
        problems["acknowledgements"] = "Each statement must be different."
    return problems


def publish_agreement(actor: Actor, label: str, title: str, body: str, acknowledgements: list[str], *,
                      source_ip: str = "") -> AgreementVersion:
    """Publish a new version; from now on applicants read and sign it."""
    require_admin(actor)
    label, title, body = label.strip(), " ".join(title.split()), _clean_body(body)
    acknowledgements = [" ".join(a.split()) for a in acknowledgements if a.strip()]
    if problems := agreement_problems(label, title, body, acknowledgements):
        raise AgreementRefused("Some fields need correcting.", problems)
    taken = AgreementRefused("That label is already used.", {"label": "Choose a label not used before."})
    try:
        with session_scope() as session:
            if session.exec(select(AgreementVersion.id).where(AgreementVersion.label == label)).first():
                raise taken
            version = AgreementVersion(label=label, title=title, body=body, text_hash=text_hash(body),
                                       acknowledgements=json.dumps(acknowledgements),
                                       published_at=utcnow(), published_by_id=actor.person_id)
            session.add(version)
            session.flush()
            audit.record(session, action="publish_agreement", actor_id=actor.person_id, actor_role=actor.role,
                         target_type="agreement_version", target_id=version.id, source_ip=source_ip,
                         details={"label": label, "text_hash": version.text_hash})
            return version
    except IntegrityError:
        raise taken from None


def list_agreement_versions(actor: Actor) -> list[dict]:
    """Every published version, newest first (the first is current), for the staff page."""
    require_staff(actor)
    with session_scope() as session:
        versions = session.exec(select(AgreementVersion).order_by(
            AgreementVersion.published_at.desc(), AgreementVersion.id.desc())).all()  # type: ignore[union-attr]
        return [{"id": v.id, "label": v.label, "title": v.title, "published_at": v.published_at,
                 "current": i == 0, "acknowledgements": json.loads(v.acknowledgements)}
                for i, v in enumerate(versions)]
