"""The User Agreement is signed again every ``agreement_renewal_months`` (default 12).

Each person with access has one open re-signing cycle (``AgreementRenewal``) at a time:
- it opens by itself for everyone with access (the housekeeping job), due a year after they last
  signed, or by the day staff set when they published a version everyone must sign again; a cycle
  opened late never lapses sooner than the first reminder's lead time from when it opened;
- reminders go ``agreement_renewal_reminder_days`` before it lapses (default 30, 7 and 1), each
  with a fresh single-use link (the rules of the first invitation: random, stored as a hash, bound
  to the person's email, the older link revoked), copied to the person's supervisors;
- when it lapses, the person's grants are suspended and staff are told to deactivate the imMTrax
  account; signing again (``sign_renewal``) restores exactly those grants and tells staff.

Every automatic step is one transaction guarded by the cycle's own columns, with its audit event
(the system as actor, the rule in the details) and its emails: a run that dies half-way is
finished by the next without doubling anything.
"""

from __future__ import annotations

import calendar
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import (
    AgreementRenewal,
    AgreementSignature,
    AgreementVersion,
    Grant,
    Person,
    RenewalLink,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor
from immtrax_portal.program_time import end_of_program_day, program_time
from immtrax_portal.services import audit, lifecycle_emails
from immtrax_portal.services.agreements import current_agreement
from immtrax_portal.services.invitations import TOKEN_BYTES, hash_token
from immtrax_portal.services.signing import masked_email, names_match
from immtrax_portal.settings import get_settings

BATCH = 200
_renewals = AgreementRenewal.__table__  # type: ignore[attr-defined]
_links = RenewalLink.__table__  # type: ignore[attr-defined]
_OPEN = (AgreementRenewal.signed_at.is_(None),)  # type: ignore[union-attr]


def add_months(value: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def _reminder_days() -> list[int]:
    return sorted((d for d in get_settings().agreement_renewal_reminder_days if d > 0), reverse=True)


def _lead() -> timedelta:
    days = _reminder_days()
    return timedelta(days=days[0] if days else 0)


# --- Opening cycles -----------------------------------------------------------------------------


def _last_signed(session: Session, person_id: int) -> datetime | None:
    first = session.exec(
        select(sa.func.max(AgreementSignature.signed_at)).where(AgreementSignature.person_id == person_id)
    ).one()
    again = session.exec(
        select(sa.func.max(AgreementRenewal.signed_at)).where(AgreementRenewal.person_id == person_id)
    ).one()
    values = [v for v in (first, again) if v is not None]
    values = [v if v.tzinfo else v.replace(tzinfo=utcnow().tzinfo) for v in values]
    return max(values) if values else None


def due_for(session: Session, person_id: int, now: datetime) -> tuple[datetime, str]:
    """When this person's agreement lapses, and why: a year after they last signed (or after
    their access began, when they never signed here), or a version's sign-again day."""
    last = _last_signed(session, person_id)
    if last is None:
        since = session.exec(
            select(sa.func.min(Grant.since)).where(Grant.person_id == person_id, Grant.active)
        ).one()
        last = since.replace(tzinfo=now.tzinfo) if since and since.tzinfo is None else (since or now)
    due, cause = add_months(last, get_settings().agreement_renewal_months), "yearly"
    required = session.exec(
        select(sa.func.min(AgreementVersion.resign_by)).where(
            AgreementVersion.resign_by.is_not(None), AgreementVersion.published_at > last
        )
    ).one()  # type: ignore[union-attr]
    if required is not None:
        required = required if required.tzinfo else required.replace(tzinfo=now.tzinfo)
        if required < due:
            due, cause = required, "new_version"
    return max(due, now + _lead()), cause


def open_missing_cycles(now: datetime) -> int:
    """Everyone with access gets an open cycle (one per person: the partial unique index)."""
    with session_scope() as session:
        people = session.exec(
            select(Grant.person_id)
            .where(
                Grant.active,
                ~sa.exists().where(
                    AgreementRenewal.person_id == Grant.person_id, AgreementRenewal.signed_at.is_(None)
                ),
            )  # type: ignore[union-attr]
            .group_by(Grant.person_id)
            .order_by(Grant.person_id)
            .limit(BATCH)
        ).all()
    opened = 0
    for person_id in people:
        try:
            with session_scope() as session:
                due, cause = due_for(session, person_id, now)
                open_cycle(session, person_id, due, cause, now)
                opened += 1
        except IntegrityError:
            continue  # another run opened it at the same moment
    return opened


def open_cycle(
    session: Session, person_id: int, due: datetime, cause: str, now: datetime
) -> AgreementRenewal:
    """Open one person's re-signing cycle, due at ``due`` (the system's act, audited with its rule)."""
    renewal = AgreementRenewal(person_id=person_id, due_at=due, cause=cause, created_at=now)
    session.add(renewal)
    session.flush()
    audit.record(
        session,
        action=AuditAction.AGREEMENT_RENEWAL_OPENED,
        actor_id=None,
        actor_role=Role.SYSTEM,
        target_type="person",
        target_id=person_id,
        details={"rule": f"agreement_renewal.{cause}", "due_at": due.isoformat(), "renewal_id": renewal.id},
    )
    return renewal


# --- Links ----------------------------------------------------------------------------------------


def issue_link(session: Session, renewal: AgreementRenewal, email: str, now: datetime) -> str:
    """A fresh single-use link; every earlier open link of this cycle stops working."""
    session.execute(
        _links.update()
        .where(
            _links.c.renewal_id == renewal.id, _links.c.consumed_at.is_(None), _links.c.revoked_at.is_(None)
        )
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    lifetime = timedelta(days=get_settings().invitation_lifetime_days)
    session.add(
        RenewalLink(
            renewal_id=renewal.id,
            token_hash=hash_token(token),
            email=email.lower(),
            created_at=now,
            expires_at=max(renewal.due_at, now) + lifetime,
        )
    )
    return token


def _org_ids(session: Session, person_id: int, *, active: bool | None = True) -> list[int]:
    statement = select(Grant.organization_id).where(Grant.person_id == person_id)
    if active is not None:
        statement = statement.where(Grant.active == active)
    return list(session.exec(statement))


# --- Reminders and lapses (the housekeeping job) ---------------------------------------------------


def send_due_reminders(now: datetime) -> int:
    days = _reminder_days()
    if not days:
        return 0
    with session_scope() as session:
        due = session.exec(
            select(AgreementRenewal)
            .where(
                *_OPEN,
                AgreementRenewal.lapsed_at.is_(None),
                AgreementRenewal.reminders_sent < len(days),  # type: ignore[union-attr]
                AgreementRenewal.due_at > now,
                AgreementRenewal.due_at <= now + timedelta(days=days[0]),
            )
            .order_by(AgreementRenewal.due_at, AgreementRenewal.id)
            .limit(BATCH)
        ).all()
    sent = 0
    for renewal in due:
        reached = sum(1 for d in days if now >= renewal.due_at - timedelta(days=d))
        if reached > renewal.reminders_sent and _remind(
            renewal.id, renewal.reminders_sent, reached, days, now
        ):
            sent += 1
    return sent


def _remind(renewal_id: int, sent_before: int, reached: int, days: list[int], now: datetime) -> bool:
    with session_scope() as session:
        won = session.execute(
            _renewals.update()
            .where(
                _renewals.c.id == renewal_id,
                _renewals.c.reminders_sent == sent_before,
                _renewals.c.signed_at.is_(None),
                _renewals.c.lapsed_at.is_(None),
            )
            .values(reminders_sent=reached)
        ).rowcount
        if won != 1:
            return False
        renewal = session.get(AgreementRenewal, renewal_id)
        person = session.get(Person, renewal.person_id)
        token = issue_link(session, renewal, person.email, now)
        rule = f"agreement_renewal.reminder_{days[reached - 1]}_days"
        audit.record(
            session,
            action=AuditAction.AGREEMENT_RENEWAL_REMINDER,
            actor_id=None,
            actor_role=Role.SYSTEM,
            target_type="person",
            target_id=person.id,
            details={"rule": rule, "renewal_id": renewal.id, "due_at": renewal.due_at.isoformat()},
        )
        lifecycle_emails.renewal_reminder(session, renewal, person, token, _org_ids(session, person.id))
        return True


def lapse_overdue(now: datetime) -> int:
    with session_scope() as session:
        overdue = session.exec(
            select(AgreementRenewal.id)
            .where(*_OPEN, AgreementRenewal.lapsed_at.is_(None), AgreementRenewal.due_at <= now)  # type: ignore[union-attr]
            .order_by(AgreementRenewal.due_at, AgreementRenewal.id)
            .limit(BATCH)
        ).all()
    return sum(1 for renewal_id in overdue if _lapse(renewal_id, now))


def _lapse(renewal_id: int, now: datetime) -> bool:
    with session_scope() as session:
        renewal = session.get(AgreementRenewal, renewal_id, with_for_update=True)
        won = session.execute(
            _renewals.update()
            .where(
                _renewals.c.id == renewal_id,
                _renewals.c.signed_at.is_(None),
                _renewals.c.lapsed_at.is_(None),
                _renewals.c.due_at <= now,
            )
            .values(lapsed_at=now)
        ).rowcount
        if won != 1:
            return False
        grants = list(
            session.exec(
                select(Grant).where(Grant.person_id == renewal.person_id, Grant.active).with_for_update()
            )
        )
        for grant in grants:
            grant.active, grant.until = False, now
            session.add(grant)
        session.execute(
            _renewals.update()
            .where(_renewals.c.id == renewal_id)
            .values(suspended_grants=json.dumps(sorted(g.id for g in grants)))
        )
        person = session.get(Person, renewal.person_id)
        session.refresh(renewal)
        token = issue_link(session, renewal, person.email, now)
        audit.record(
            session,
            action=AuditAction.AGREEMENT_LAPSED,
            actor_id=None,
            actor_role=Role.SYSTEM,
            target_type="person",
            target_id=person.id,
            organization_id=grants[0].organization_id if len(grants) == 1 else None,
            reason="Rule agreement_renewal.lapsed: the User Agreement was not signed again "
            f"by {program_time(renewal.due_at)}.",
            details={
                "rule": "agreement_renewal.lapsed",
                "renewal_id": renewal.id,
                "suspended_grant_ids": sorted(g.id for g in grants),
            },
        )
        lifecycle_emails.agreement_lapsed(session, renewal, person, token, grants)
        return True


def run_agreement_renewals(now: datetime) -> int:
    """The housekeeping job: open missing cycles, lapse what is overdue, remind what is due."""
    return open_missing_cycles(now) + lapse_overdue(now) + send_due_reminders(now)


# --- A version everyone must sign again -------------------------------------------------------------


def require_everyone_to_sign(
    session: Session, version: AgreementVersion, by_day: date, actor: Actor, source_ip: str = ""
) -> int:
    """In the publishing transaction: every open cycle due later than the end of ``by_day`` is now
    due then (its reminders start over). Returns how many cycles moved."""
    by = end_of_program_day(by_day)
    version.resign_by = by
    session.add(version)
    moved = session.execute(
        _renewals.update()
        .where(_renewals.c.signed_at.is_(None), _renewals.c.lapsed_at.is_(None), _renewals.c.due_at > by)
        .values(due_at=by, cause="new_version", reminders_sent=0)
    ).rowcount
    session.flush()
    audit.record(
        session,
        action=AuditAction.AGREEMENT_RESIGN_REQUIRED,
        actor_id=actor.person_id,
        actor_role=actor.role,
        target_type="agreement_version",
        target_id=version.id,
        source_ip=source_ip,
        details={"by_day": by_day.isoformat(), "cycles_moved": moved},
    )
    return moved


# --- The re-signing page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalView:
    status: str  # valid | expired | used | revoked | unknown | wrong_identity
    message: str
    person_name: str = ""
    email_hint: str = ""
    due_label: str = ""
    lapsed: bool = False
    agreement_version_id: int | None = None
    agreement_label: str = ""
    agreement_title: str = ""
    agreement_body: str = ""
    acknowledgements: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"


class RenewalRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _call() -> str:
    s = get_settings()
    return f"call the {s.program_name} at {s.program_phone} ({s.program_hours})"


def _link_for(session: Session, token: str) -> RenewalLink | None:
    if not token or len(token) > 128 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return session.exec(select(RenewalLink).where(RenewalLink.token_hash == hash_token(token))).first()


def _status(link: RenewalLink | None, renewal: AgreementRenewal | None, now: datetime) -> tuple[str, str]:
    if link is None or renewal is None:
        return "unknown", f"We do not recognise this link. Copy the whole link from the email, or {_call()}."
    if link.consumed_at is not None or renewal.signed_at is not None:
        return "used", "You already signed the User Agreement again with this link. Nothing more is needed."
    if link.revoked_at is not None:
        return "revoked", "A newer reminder was sent to you: use the link in the newest email."
    if link.expires_at <= now:
        return "expired", f"This link has expired. {_call().capitalize()} for a new one."
    return "valid", ""


def open_renewal(token: str, *, signed_in_email: str | None, now: datetime | None = None) -> RenewalView:
    """What the re-signing page shows; only reads (mail scanners cannot burn a link)."""
    now = now or utcnow()
    with session_scope() as session:
        link = _link_for(session, token)
        renewal = session.get(AgreementRenewal, link.renewal_id) if link else None
        status, message = _status(link, renewal, now)
        if status != "valid":
            return RenewalView(status, message)
        person = session.get(Person, renewal.person_id)
        if signed_in_email is not None and signed_in_email.strip().lower() != link.email:
            return RenewalView(
                "wrong_identity",
                f"This link is for {masked_email(link.email)}. Sign out and sign in with that Okta account.",
                email_hint=masked_email(link.email),
            )
        agreement = current_agreement(session)
        if agreement is None:
            return RenewalView("unknown", "The agreement is not available right now. Please try again later.")
        return RenewalView(
            "valid",
            "",
            person_name=person.full_name,
            email_hint=masked_email(link.email),
            due_label=program_time(renewal.due_at),
            lapsed=renewal.lapsed_at is not None,
            agreement_version_id=agreement.id,
            agreement_label=agreement.label,
            agreement_title=agreement.title,
            agreement_body=agreement.body,
            acknowledgements=json.loads(agreement.acknowledgements),
        )


@dataclass(frozen=True)
class RenewalSigned:
    signed_at: datetime
    restored: int
    next_due_label: str


def sign_renewal(
    token: str,
    *,
    person_id: int,
    okta_subject: str,
    verified_email: str,
    typed_name: str,
    acknowledged: list[int],
    ip_address: str,
    user_agent: str,
    agreement_version_id: int | None,
    now: datetime | None = None,
) -> RenewalSigned:
    """Sign again with the emailed link as the signed-in person, or raise RenewalRefused (audited)."""
    now = now or utcnow()
    try:
        with session_scope() as session:
            return _sign(
                session,
                token,
                person_id,
                okta_subject,
                verified_email,
                typed_name,
                frozenset(acknowledged),
                ip_address,
                user_agent,
                agreement_version_id,
                now,
            )
    except RenewalRefused as refused:
        _record_refusal(refused, person_id, ip_address)
        raise
    except IntegrityError:
        refused = RenewalRefused("used", "You signed already a moment ago. Reload the page.")
        _record_refusal(refused, person_id, ip_address)
        raise refused from None


def _sign(
    session: Session,
    token: str,
    person_id: int,
    okta_subject: str,
    verified_email: str,
    typed_name: str,
    acknowledged: frozenset[int],
    ip_address: str,
    user_agent: str,
    agreement_version_id: int | None,
    now: datetime,
) -> RenewalSigned:
    link = _link_for(session, token)
    renewal = session.get(AgreementRenewal, link.renewal_id, with_for_update=True) if link else None
    status, message = _status(link, renewal, now)
    if status != "valid":
        raise RenewalRefused(status, message)
    person = session.get(Person, renewal.person_id)
    if (
        verified_email.strip().lower() != link.email
        or person_id != person.id
        or not okta_subject
        or person.okta_subject not in (None, okta_subject)
    ):
        raise RenewalRefused(
            "wrong_identity", f"This link is for {masked_email(link.email)}. Sign in with that Okta account."
        )
    agreement = current_agreement(session)
    if agreement is None or (agreement_version_id is not None and agreement_version_id != agreement.id):
        raise RenewalRefused(
            "agreement_changed",
            "The agreement was updated while you were reading it. Read the new version and sign again.",
        )
    if not set(range(len(json.loads(agreement.acknowledgements)))) <= acknowledged:
        raise RenewalRefused(
            "acknowledgements_missing", "Tick every statement to confirm that you agree to it."
        )
    if not names_match(typed_name, person.first_name, person.last_name):
        raise RenewalRefused(
            "name_mismatch",
            f"The name you typed does not match your name on file "
            f"({person.first_name} {person.last_name}). Type your first and last name as shown.",
        )
    if (
        session.execute(
            _links.update()
            .where(_links.c.id == link.id, _links.c.consumed_at.is_(None), _links.c.revoked_at.is_(None))
            .values(consumed_at=now)
        ).rowcount
        != 1
    ):
        raise RenewalRefused("used", "This link was used a moment ago. Reload the page.")
    won = session.execute(
        _renewals.update()
        .where(_renewals.c.id == renewal.id, _renewals.c.signed_at.is_(None))
        .values(
            signed_at=now,
            agreement_version_id=agreement.id,
            text_hash=agreement.text_hash,
            typed_name=" ".join(typed_name.split())[:200],
            okta_subject=okta_subject[:255],
            ip_address=ip_address[:64],
            user_agent=user_agent[:512],
        )
    ).rowcount
    if won != 1:
        raise RenewalRefused("used", "You signed already a moment ago. Reload the page.")
    restored = _restore(session, renewal, now) if renewal.lapsed_at is not None else []
    following = AgreementRenewal(
        person_id=person.id, due_at=add_months(now, get_settings().agreement_renewal_months), created_at=now
    )
    session.add(following)
    session.flush()
    audit.record(
        session,
        action=AuditAction.AGREEMENT_RENEWED,
        actor_id=person.id,
        actor_role=Role.APPLICANT,
        target_type="person",
        target_id=person.id,
        source_ip=ip_address,
        organization_id=restored[0].organization_id if len(restored) == 1 else None,
        details={
            "renewal_id": renewal.id,
            "agreement": agreement.label,
            "okta_subject": okta_subject,
            "restored_grant_ids": [g.id for g in restored],
            "next_renewal_id": following.id,
        },
    )
    if restored:
        lifecycle_emails.agreement_renewed_staff(session, person, now, restored)
    return RenewalSigned(now, len(restored), program_time(following.due_at))


def _restore(session: Session, renewal: AgreementRenewal, now: datetime) -> list[Grant]:
    """The grants the lapse suspended, unless something else ended them since."""
    ids = json.loads(renewal.suspended_grants or "[]")
    grants = (
        list(
            session.exec(
                select(Grant)
                .where(Grant.id.in_(ids), ~Grant.active)  # type: ignore[union-attr]
                .with_for_update()
            )
        )
        if ids
        else []
    )
    restored = []
    for grant in grants:
        if (
            grant.until is not None
            and renewal.lapsed_at is not None
            and abs((grant.until - renewal.lapsed_at).total_seconds()) < 1
        ):
            grant.active, grant.until = True, None
            session.add(grant)
            restored.append(grant)
    return restored


def _record_refusal(refused: RenewalRefused, person_id: int, ip_address: str) -> None:
    with session_scope() as session:
        audit.record(
            session,
            action=AuditAction.AGREEMENT_RENEWAL_REFUSED,
            actor_id=person_id,
            actor_role=Role.APPLICANT,
            outcome=AuditOutcome.DENIED,
            reason=refused.code,
            source_ip=ip_address,
            target_type="person",
            target_id=person_id,
        )


# --- Reading for the person and staff ---------------------------------------------------------------


def renewal_due_for(person_id: int) -> str:
    """'March 3, 2027 at 11:59 PM MST' when this person's agreement must be signed again, or ""."""
    with session_scope() as session:
        renewal = session.exec(
            select(AgreementRenewal).where(AgreementRenewal.person_id == person_id, *_OPEN)
        ).first()
        return program_time(renewal.due_at) if renewal else ""
