"""User Agreement versions: the current text is the newest published one."""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, select

from immtrax_portal.domain.models import AgreementVersion

DEFAULT_ACKNOWLEDGEMENTS = [
    "I will access imMTrax only for the immunization work my job requires.",
    "I will keep patient information confidential and will not share my login with anyone.",
    "I understand my access can be audited and removed, and misuse may be reported.",
]

DEFAULT_BODY = """\
imMTrax, Montana's immunization information system, holds confidential health information.
As a user you agree to use imMTrax only to support the immunization of the patients you serve,
to protect the confidentiality of every record, to keep your login credentials to yourself, and
to tell your supervisor and the Montana Immunization Program when you no longer need access.
Access is granted by the program and may be reviewed, limited or removed at any time."""


def text_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def current_agreement(session: Session) -> AgreementVersion | None:
    return session.exec(
        select(AgreementVersion).order_by(AgreementVersion.published_at.desc(),  # type: ignore[union-attr]
                                          AgreementVersion.id.desc())  # type: ignore[union-attr]
    ).first()


def publish_default_agreement(session: Session, *, published_by_id: int | None) -> AgreementVersion:
    version = AgreementVersion(
        label="2026-1", title="imMTrax User Agreement", body=DEFAULT_BODY,
        text_hash=text_hash(DEFAULT_BODY), acknowledgements=json.dumps(DEFAULT_ACKNOWLEDGEMENTS),
        published_by_id=published_by_id,
    )
    session.add(version)
    return version
