"""Database tables. Plain SQLModel: no Reflex import, so services and tests use them directly.

Every timestamp is stored in UTC and read back as an aware datetime (see ``UTCDateTime``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

from immtrax_portal.domain.enums import (
    AccessLevel,
    AuditOutcome,
    EmailStatus,
    RequestStatus,
    RequestType,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; SQLite drops the zone, so it is put back on read."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timestamps in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _enum(enum_cls, *, index: bool = False) -> Column:
    # Stored as plain strings (no native ENUM) so adding a member never needs a type migration.
    return Column(
        sa.Enum(enum_cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
        index=index,
    )


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    code: str = Field(max_length=32, unique=True, description="Provider (VFC) PIN or program code")
    city: str = Field(default="", max_length=100)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


# Staff search organizations by the start of their name, whatever its case: a range scan on this.
sa.Index("ix_organization_name_lower", sa.func.lower(Organization.__table__.c.name))


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="ck_person_email_lowercase"),)

    id: int | None = Field(default=None, primary_key=True)
    # Always stored lower-cased (the check constraint enforces it): unique case-insensitively.
    email: str = Field(max_length=254, unique=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100, index=True)
    phone: str = Field(default="", max_length=32)
    job_title: str = Field(default="", max_length=120)
    okta_subject: str | None = Field(default=None, max_length=255, unique=True)
    is_staff: bool = Field(default=False)
    is_admin: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class SupervisorLink(SQLModel, table=True):
    __tablename__ = "supervisor_link"
    __table_args__ = (sa.UniqueConstraint("person_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Grant(SQLModel, table=True):
    """Who holds imMTrax access where: one row per person and organization."""

    __tablename__ = "access_grant"
    __table_args__ = (
        sa.UniqueConstraint("person_id", "organization_id"),
        sa.Index("ix_access_grant_org_active", "organization_id", "active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organization_id: int = Field(foreign_key="organization.id")
    access_level: AccessLevel = Field(sa_column=_enum(AccessLevel))
    active: bool = Field(default=True)
    immtrax_username: str = Field(default="", max_length=100)
    since: datetime = Field(default_factory=utcnow, sa_column=_ts())
    until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class RequestNumberCounter(SQLModel, table=True):
    """Hands out readable request numbers per year (IMR-2026-000042) without gaps from races."""

    __tablename__ = "request_number_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = Field(default=0)


_OPEN_SQL = "status IN ('submitted', 'awaiting_agreement', 'in_review', 'needs_info')"


_REQUEST_VERSION = Column("version", sa.Integer, nullable=False)


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_request"
    __mapper_args__ = {"version_id_col": _REQUEST_VERSION}
    __table_args__ = (
        sa.Index("ix_access_request_status_created", "status", "created_at"),
        sa.Index("ix_access_request_org_status", "organization_id", "status"),
        sa.Index("ix_access_request_subject_org", "subject_person_id", "organization_id"),
        sa.Index("ix_access_request_type_created", "request_type", "created_at"),
        # The staff queue: a status tab ordered by how long it has waited, the newest-first and
        # per-week views, and the completion metrics (see services/queue.py and the benchmark).
        sa.Index("ix_access_request_status_waiting", "status", "status_changed_at", "id"),
        sa.Index("ix_access_request_created", "created_at", "id"),
        sa.Index("ix_access_request_completed", "completed_at"),
        # At most one open request per person and organization, even under concurrent submits.
        sa.Index(
            "uq_access_request_open_subject_org", "subject_person_id", "organization_id",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    request_type: RequestType = Field(sa_column=_enum(RequestType))
    status: RequestStatus = Field(sa_column=_enum(RequestStatus))
    organization_id: int = Field(foreign_key="organization.id")
    submitter_id: int = Field(foreign_key="person.id", index=True)
    subject_person_id: int = Field(foreign_key="person.id")
    former_organization_id: int | None = Field(default=None, foreign_key="organization.id")
    access_level: AccessLevel | None = Field(
        default=None,
        sa_column=Column(
            sa.Enum(AccessLevel, native_enum=False, length=32,
                    values_callable=lambda e: [m.value for m in e]),
            nullable=True,
        ),
    )
    job_title: str = Field(default="", max_length=120)
    phone: str = Field(default="", max_length=32)
    start_date: date | None = None
    last_day: date | None = None
    reason: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=2000)
    rejection_reason: str = Field(default="", max_length=2000)
    immtrax_username: str = Field(default="", max_length=100)
    # Optimistic locking by SQLAlchemy itself (``version_id_col``): every UPDATE of a request says
    # ``WHERE version = <as loaded>`` and raises StaleDataError when someone changed it since.
    version: int = Field(default=1, sa_column=_REQUEST_VERSION)
    # A client-made key per wizard submission: the second submit of the same key finds the first.
    idempotency_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Invitation(SQLModel, table=True):
    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id", index=True)
    # sha256 of the token; the token itself is only ever in the emailed link.
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts(index=True))
    consumed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reminders_sent: int = Field(default=0)


class AgreementVersion(SQLModel, table=True):
    __tablename__ = "agreement_version"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=40, unique=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
    text_hash: str = Field(max_length=64)
    acknowledgements: str = Field(
        default="[]", sa_column=Column(sa.Text, nullable=False), description="JSON list of strings"
    )
    published_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    published_by_id: int | None = Field(default=None, foreign_key="person.id")


class AgreementSignature(SQLModel, table=True):
    __tablename__ = "agreement_signature"

    id: int | None = Field(default=None, primary_key=True)
    # One signature per request: the unique constraint is the last word on double redemption.
    request_id: int = Field(foreign_key="access_request.id", unique=True)
    invitation_id: int = Field(foreign_key="invitation.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    agreement_version_id: int = Field(foreign_key="agreement_version.id", index=True)
    text_hash: str = Field(max_length=64)
    typed_name: str = Field(max_length=200)
    acknowledgements: str = Field(sa_column=Column(sa.Text, nullable=False))
    signed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    okta_subject: str = Field(max_length=255)
    ip_address: str = Field(max_length=64)
    user_agent: str = Field(max_length=512)


class AuditEvent(SQLModel, table=True):
    """Append-only history: every state change and every denial."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_request_time", "request_id", "occurred_at"),
        sa.Index("ux_audit_event_chain_seq", "chain_seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    actor_role: str = Field(max_length=20)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    request_id: int | None = Field(default=None, foreign_key="access_request.id")
    action: str = Field(max_length=60)
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    outcome: AuditOutcome = Field(default=AuditOutcome.SUCCESS, sa_column=_enum(AuditOutcome))
    reason: str = Field(default="", max_length=2000)
    source_ip: str = Field(default="", max_length=64)
    details: str = Field(default="{}", sa_column=Column(sa.Text, nullable=False))
    # The hash chain (services/audit_chain.py fills these as the row is inserted): the event's
    # place in the chain, the previous event's hash, and the hash of this event's content plus
    # that previous hash. NOT NULL, so a row that bypassed the chain cannot be written at all.
    chain_seq: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=False))
    prev_hash: str | None = Field(default=None, sa_column=Column(sa.String(64), nullable=False))
    entry_hash: str | None = Field(default=None, sa_column=Column(sa.String(64), nullable=False))


class AuditChainHead(SQLModel, table=True):
    """The newest link of the audit hash chain, one row. Appending an event updates this row in
    the same transaction, so concurrent writers queue on its row lock (PostgreSQL) or on the
    database write lock (SQLite), and a deleted tail of events shows as a head that points past
    the last row."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_column=Column(sa.BigInteger, nullable=False))
    last_hash: str = Field(max_length=64)


class RateLimitCounter(SQLModel, table=True):
    """How many times one key (an IP address or a person) did one kind of thing in one fixed
    window. Kept in the database so every worker process counts together."""

    __tablename__ = "rate_limit_counter"

    kind: str = Field(max_length=40, primary_key=True)
    subject: str = Field(max_length=80, primary_key=True)
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    hits: int = Field(default=0)


class OutboundEmail(SQLModel, table=True):
    """The outbox: written in the same transaction as the change that causes the mail."""

    __tablename__ = "outbound_email"
    __table_args__ = (sa.Index("ix_outbound_email_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body_text: str = Field(sa_column=Column(sa.Text, nullable=False))
    body_html: str = Field(sa_column=Column(sa.Text, nullable=False))
    request_id: int | None = Field(default=None, foreign_key="access_request.id", index=True)
    status: EmailStatus = Field(default=EmailStatus.QUEUED, sa_column=_enum(EmailStatus))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random id; only its sha256 is stored."""

    __tablename__ = "web_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts(index=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    id_token: str = Field(default="", sa_column=Column(sa.Text, nullable=False))
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)


class SignInTransaction(SQLModel, table=True):
    """The PKCE verifier, state and nonce of one sign-in attempt; never sent to the browser."""

    __tablename__ = "sign_in_transaction"

    id_hash: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=128, unique=True)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    return_to: str = Field(default="/", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class WizardDraft(SQLModel, table=True):
    """A supervisor's unfinished request, saved as they go so a reload or restart loses nothing."""

    __tablename__ = "wizard_draft"

    id: int | None = Field(default=None, primary_key=True)
    supervisor_id: int = Field(foreign_key="person.id", unique=True)
    data: str = Field(default="{}", sa_column=Column(sa.Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class StaffNote(SQLModel, table=True):
    """An internal note on a request: program staff write and read them; nobody else ever does."""

    __tablename__ = "staff_note"
    __table_args__ = (sa.Index("ix_staff_note_request_time", "request_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id")
    author_id: int = Field(foreign_key="person.id")
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
