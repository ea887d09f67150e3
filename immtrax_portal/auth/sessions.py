"""Server-side sessions, sign-in transactions, and linking an Okta identity to a Person.

The browser only ever holds random ids (256 bits); the database only ever holds their sha256.
A stolen database therefore yields no usable cookie, and a cookie planted before sign-in is
worthless after it, because every sign-in issues a new id.

Pure Python (no Reflex import): the Reflex state calls ``person_from_cookie_header`` with the
Cookie header of its websocket handshake, the Starlette routes call the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.requests import cookie_parser

from immtrax_portal.auth.oidc import SignInError
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import (
    Person,
    SignInTransaction,
    SupervisorLink,
    WebSession,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor
from immtrax_portal.domain.person_names import NAME_MAX, tidy_name
from immtrax_portal.services import audit
from immtrax_portal.services.actors import actor_for
from immtrax_portal.settings import Settings, get_settings

SIGN_IN_TRANSACTION_LIFETIME = timedelta(minutes=10)
# last_seen_at is written at most this often: reads stay reads, idle timeout stays minute-exact
# (with a short idle timeout, a tenth of it).
LAST_SEEN_WRITE_INTERVAL = timedelta(minutes=1)


def last_seen_write_interval(settings: Settings | None = None) -> timedelta:
    settings = settings or get_settings()
    return min(LAST_SEEN_WRITE_INTERVAL, timedelta(seconds=settings.session_idle_seconds / 10))
# Sign-in attempts (their return path can be an invitation link) are deleted once they can no
# longer be used: abandoned ones when the next sign-in starts after their lifetime.
SIGN_IN_TRANSACTION_RETENTION = SIGN_IN_TRANSACTION_LIFETIME


def session_cookie_name(settings: Settings | None = None) -> str:
    """``__Host-immtrax_session`` under https (the browser then insists on Secure, Path=/ and no
    Domain, so no sibling host can plant or read it), ``immtrax_session`` on plain http."""
    settings = settings or get_settings()
    return "__Host-immtrax_session" if settings.secure_cookies else "immtrax_session"


def sign_in_cookie_name(settings: Settings | None = None) -> str:
    """The short-lived cookie that ties a callback to the browser that started the sign-in."""
    settings = settings or get_settings()
    return "__Host-immtrax_signin" if settings.secure_cookies else "immtrax_signin"


def new_random_id() -> str:
    """256 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_of(raw_id: str) -> str:
    """What the database stores instead of a cookie value."""
    return hashlib.sha256(raw_id.encode("utf-8")).hexdigest()


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """One cookie's value from a raw Cookie header (as a browser sends it), or None."""
    if not cookie_header:
        return None
    value = cookie_parser(cookie_header).get(name)
    return value or None


def secrets_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison, so timing does not leak how much of a secret was right."""
    return presented is not None and hmac.compare_digest(
        expected.encode("utf-8"), presented.encode("utf-8")
    )


# --- Sign-in transactions --------------------------------------------------------------------


def begin_sign_in_transaction(*, state: str, nonce: str, code_verifier: str, return_to: str) -> str:
    """Store one sign-in attempt's secrets server-side; returns the random cookie value that
    finds them again. Old abandoned attempts are swept out on the way."""
    raw_id = new_random_id()
    now = utcnow()
    with session_scope() as db:
        db.exec(sa.delete(SignInTransaction).where(
            SignInTransaction.created_at < now - SIGN_IN_TRANSACTION_RETENTION))
        db.add(SignInTransaction(id_hash=hash_of(raw_id), state=state, nonce=nonce,
                                 code_verifier=code_verifier, return_to=return_to, created_at=now))
    return raw_id


def claim_sign_in_transaction(raw_id: str | None) -> SignInTransaction:
    """The attempt this browser started, claimed in the same statement that checks it is unused
    and young, so two callbacks racing with one cookie cannot both win. The claimed row keeps
    nothing usable: its state, nonce, verifier and return path (which can be an invitation link)
    are erased at once, leaving only the mark that it was used; an expired attempt is deleted."""
    if not raw_id:
        raise SignInError("missing_transaction")
    id_hash = hash_of(raw_id)
    now = utcnow()
    with session_scope() as db:
        found = db.get(SignInTransaction, id_hash)
        if found is None:
            outcome = "missing_transaction"
        else:
            transaction = SignInTransaction(**found.model_dump())
            claimed = db.exec(
                sa.update(SignInTransaction)
                .where(SignInTransaction.id_hash == id_hash,
                       SignInTransaction.used_at.is_(None),
                       SignInTransaction.created_at > now - SIGN_IN_TRANSACTION_LIFETIME)
                .values(used_at=now, state=f"used:{id_hash}", nonce="", code_verifier="", return_to="/")
            ).rowcount
            used = db.exec(sa.select(SignInTransaction.used_at)
                           .where(SignInTransaction.id_hash == id_hash)).scalar_one_or_none()
            if claimed == 1:
                outcome = ""
            elif used is not None:
                outcome = "transaction_used"
            else:
                db.exec(sa.delete(SignInTransaction).where(SignInTransaction.id_hash == id_hash))
                outcome = "transaction_expired"
    if outcome == "missing_transaction":
        raise SignInError(outcome, "no such sign-in attempt")
    if outcome:
        raise SignInError(outcome)
    return transaction


# --- Linking the Okta identity to a Person ---------------------------------------------------


def _names_from_claims(claims: dict, email: str) -> tuple[str, str]:
    first = tidy_name(str(claims.get("given_name") or ""))
    last = tidy_name(str(claims.get("family_name") or ""))
    if not (first or last):
        full = tidy_name(str(claims.get("name") or ""))
        first, _, last = full.partition(" ") if full else (email.split("@")[0], "", "")
    return first[:NAME_MAX], last[:NAME_MAX]


def _person_for_claims(db: Session, claims: dict) -> tuple[Person, str]:
    """The Person these verified claims belong to, and how we found them."""
    subject = str(claims["sub"])
    if claims.get("email_verified") is not True:
        raise SignInError("email_not_verified", f"subject {subject}")
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise SignInError("email_missing", f"subject {subject}")
    person = db.exec(select(Person).where(Person.okta_subject == subject)).first()
    if person is not None:
        return person, "returning"
    person = db.exec(select(Person).where(Person.email == email)).first()
    if person is not None and person.okta_subject is not None:
        raise SignInError("subject_conflict", f"person {person.id} is linked to another account")
    if person is not None:
        person.okta_subject = subject
        db.add(person)
        return person, "linked"
    first, last = _names_from_claims(claims, email)
    person = Person(email=email, first_name=first, last_name=last, okta_subject=subject)
    db.add(person)
    db.flush()
    return person, "created"


def role_of(db: Session, person: Person) -> Role:
    """The strongest role a person holds, for the audit log's actor_role."""
    if person.is_admin:
        return Role.ADMIN
    if person.is_staff:
        return Role.STAFF
    link = db.exec(select(SupervisorLink.id).where(SupervisorLink.person_id == person.id)).first()
    return Role.SUPERVISOR if link is not None else Role.APPLICANT


@dataclass(frozen=True)
class SignedIn:
    raw_session_id: str
    person: Person


def complete_sign_in(
    claims: dict, *, id_token: str, ip_address: str, user_agent: str, replaced_raw_id: str | None
) -> SignedIn:
    """Link the identity, end any session this browser already had, start a new one and audit
    the sign-in, all in one transaction. A first sign-in racing another for the same email
    loses on the unique constraint and is retried once, finding the winner's Person."""
    for attempt in (1, 2):
        try:
            return _complete_sign_in_once(claims, id_token=id_token, ip_address=ip_address,
                                          user_agent=user_agent, replaced_raw_id=replaced_raw_id)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _complete_sign_in_once(
    claims: dict, *, id_token: str, ip_address: str, user_agent: str, replaced_raw_id: str | None
) -> SignedIn:
    settings = get_settings()
    now = utcnow()
    raw_id = new_random_id()
    with session_scope() as db:
        person, how = _person_for_claims(db, claims)
        if replaced_raw_id:
            _revoke(db, hash_of(replaced_raw_id), now)
        db.add(WebSession(
            id_hash=hash_of(raw_id), person_id=person.id, created_at=now, last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            id_token=id_token, ip_address=ip_address[:64], user_agent=user_agent[:512],
        ))
        audit.record(db, action=AuditAction.SIGN_IN, actor_id=person.id, actor_role=role_of(db, person),
                     target_type="person", target_id=person.id, source_ip=ip_address,
                     details={"okta_subject": str(claims["sub"]), "person": how})
    return SignedIn(raw_session_id=raw_id, person=person)


def record_sign_in_denied(error: SignInError, *, ip_address: str) -> None:
    """Every refused sign-in leaves a trace: the reason code and its detail, never a token."""
    with session_scope() as db:
        audit.record(db, action=AuditAction.SIGN_IN_DENIED, actor_id=None, actor_role=Role.ANONYMOUS,
                     outcome=AuditOutcome.DENIED, reason=error.reason, source_ip=ip_address,
                     details={"detail": error.detail} if error.detail else None)


# --- Live sessions ---------------------------------------------------------------------------


def _is_live(web_session: WebSession, now: datetime, settings: Settings) -> bool:
    if web_session.revoked_at is not None:
        return False
    return now < _session_end(web_session, settings)


def _session_end(web_session: WebSession, settings: Settings) -> datetime:
    """When the session ends if nothing happens: idle timeout or absolute lifetime, the earlier."""
    absolute_end = min(web_session.expires_at,
                       web_session.created_at + timedelta(hours=settings.session_absolute_hours))
    return min(absolute_end, web_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes))


def _live_session(db: Session, raw_id: str | None, now: datetime) -> WebSession | None:
    if not raw_id:
        return None
    web_session = db.get(WebSession, hash_of(raw_id))
    if web_session is None or not _is_live(web_session, now, get_settings()):
        return None
    return web_session


@contextmanager
def _cookie_session(cookie_header: str | None,
                    ) -> Iterator[tuple[Session | None, WebSession | None, datetime]]:
    """(unit of work, the live WebSession of a raw Cookie header or None, now): no database is
    opened for a header without the session cookie."""
    raw_id = cookie_value(cookie_header, session_cookie_name())
    now = utcnow()
    if not raw_id:
        yield None, None, now
        return
    with session_scope() as db:
        yield db, _live_session(db, raw_id, now), now


def _record_activity(db: Session, web_session: WebSession, now: datetime,
                     settings: Settings | None = None) -> None:
    """Activity keeps a session from idling out; it is written at most once a minute, so that a
    busy tab does not write on every event."""
    if now - web_session.last_seen_at >= last_seen_write_interval(settings):
        db.exec(sa.update(WebSession)
                .where(WebSession.id_hash == web_session.id_hash, WebSession.revoked_at.is_(None))
                .values(last_seen_at=now))


def person_from_cookie_header(cookie_header: str | None, *, touch: bool = True) -> Person | None:
    """The signed-in Person for a raw Cookie header, or None when there is no live session
    (none, unknown, signed out, idle too long, or past its absolute lifetime).

    ``touch`` records activity for the idle timeout, at most once a minute. The Person comes back
    detached: read its fields freely, but it is not bound to any database session.
    """
    with _cookie_session(cookie_header) as (db, web_session, now):
        if web_session is None:
            return None
        if touch:
            _record_activity(db, web_session, now)
        person = db.get(Person, web_session.person_id)
        if person is not None:
            db.expunge(person)
        return person


def session_hash_from_cookie_header(cookie_header: str | None) -> str | None:
    """The stored form (sha256) of the session id in a raw Cookie header, or None without one:
    what ``people_for_session_hashes`` looks up."""
    raw_id = cookie_value(cookie_header, session_cookie_name())
    return hash_of(raw_id) if raw_id else None


def people_for_session_hashes(id_hashes: frozenset[str]) -> dict[str, Person]:
    """The signed-in Person of each live session among ``id_hashes`` (one statement for them all;
    a session that is unknown, signed out, idle too long or past its lifetime is left out). Only
    reads: asking is no activity. The People come back detached."""
    if not id_hashes:
        return {}
    now, settings = utcnow(), get_settings()
    with session_scope() as db:
        rows = db.exec(select(WebSession, Person)
                       .join(Person, Person.id == WebSession.person_id)
                       .where(WebSession.id_hash.in_(sorted(id_hashes)))).all()  # type: ignore[attr-defined]
        found = {web_session.id_hash: person for web_session, person in rows
                 if _is_live(web_session, now, settings)}
        db.expunge_all()   # detached: several sessions may share one Person
        return found
@dataclass(frozen=True)
class Caller:
    """Who a Cookie header signs in, as one event needs it: the live session (its cookie's hash),
    the Person (detached) and their roles as the database has them now."""

    session_hash: str
    person: Person
    actor: Actor


def caller_from_cookie_header(cookie_header: str | None, *, touch: bool = True) -> Caller | None:
    """``person_from_cookie_header`` and ``actor_for`` in one unit of work (three statements, and
    the last-seen write at most once a minute when ``touch``): the caller of one event."""
    raw_id = cookie_value(cookie_header, session_cookie_name())
    if not raw_id:
        return None
    now = utcnow()
    id_hash = hash_of(raw_id)
    settings = get_settings()
    with session_scope() as db:
        found = db.exec(select(WebSession, Person).join(Person, Person.id == WebSession.person_id)
                        .where(WebSession.id_hash == id_hash)).first()
        if found is None or not _is_live(found[0], now, settings):
            return None
        web_session, person = found
        if touch:
            _record_activity(db, web_session, now, settings)
        actor = actor_for(db, person)
        db.expunge(person)
        return Caller(session_hash=id_hash, person=person, actor=actor)


def seconds_left(cookie_header: str | None) -> float | None:
    """How long the session of this Cookie header lasts if nothing happens (seconds), or None when
    there is no live session. Only reads: asking is no activity (the timeout warning asks)."""
    with _cookie_session(cookie_header) as (db, web_session, now):
        if web_session is None:
            return None
        return (_session_end(web_session, get_settings()) - now).total_seconds()


def extend_session(cookie_header: str | None, *, ip_address: str = "") -> float | None:
    """"Stay signed in": the idle timeout starts again from now (the absolute lifetime stays), and
    the extension is audited. Returns the seconds now left, or None when no session was live."""
    with _cookie_session(cookie_header) as (db, web_session, now):
        if web_session is None:
            return None
        db.exec(sa.update(WebSession)
                .where(WebSession.id_hash == web_session.id_hash, WebSession.revoked_at.is_(None))
                .values(last_seen_at=now))
        web_session.last_seen_at = now
        person = db.get(Person, web_session.person_id)
        audit.record(db, action=AuditAction.SESSION_EXTENDED, actor_id=web_session.person_id,
                     actor_role=role_of(db, person) if person else Role.ANONYMOUS,
                     target_type="person", target_id=web_session.person_id, source_ip=ip_address)
        return (_session_end(web_session, get_settings()) - now).total_seconds()


def _revoke(db: Session, id_hash: str, now: datetime) -> None:
    db.exec(sa.update(WebSession)
            .where(WebSession.id_hash == id_hash, WebSession.revoked_at.is_(None))
            .values(revoked_at=now))


@dataclass(frozen=True)
class EndedSession:
    person_id: int
    id_token: str


def end_session(cookie_header: str | None, *, ip_address: str = "") -> EndedSession | None:
    """Sign out: the session is revoked in the database (the cookie is dead from now on, even if
    a copy survives somewhere) and the sign-out is audited. None when nothing was live."""
    raw_id = cookie_value(cookie_header, session_cookie_name())
    now = utcnow()
    with session_scope() as db:
        web_session = _live_session(db, raw_id, now)
        if web_session is None:
            return None
        _revoke(db, web_session.id_hash, now)
        person = db.get(Person, web_session.person_id)
        audit.record(db, action=AuditAction.SIGN_OUT, actor_id=web_session.person_id,
                     actor_role=role_of(db, person) if person else Role.ANONYMOUS,
                     target_type="person", target_id=web_session.person_id, source_ip=ip_address)
        return EndedSession(person_id=web_session.person_id, id_token=web_session.id_token)
