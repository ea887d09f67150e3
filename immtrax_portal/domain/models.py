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
    DelegationKind,
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


# Likely duplicates in the queue: the people of one name, whatever its case (services/queue.py).
sa.Index("ix_person_name_lower", sa.func.lower(Person.__table__.c.last_name),
         sa.func.lower(Person.__table__.c.first_name))


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
        # The owned queue: "Mine" / "Unassigned" per status tab, in the tab's waiting order.
        sa.Index("ix_access_request_owner_status_waiting", "owner_id", "status", "status_changed_at", "id"),
        # The program's clock: running clocks per type by how early they started (notices).
        sa.Index("ix_access_request_type_clock", "request_type", "clock_origin"),
        # The supervisor's dashboard lists: their organizations' requests, newest change first.
        sa.Index("ix_access_request_org_updated", "organization_id", "updated_at", "id"),
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
    # A Permissions Change: the level the person held when it was submitted ("from" of from → to).
    previous_access_level: AccessLevel | None = Field(
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
    # Time-limited access (students, temporary staff): the last day of the access a New Access or
    # Change Employer asks for; provisioning schedules its end (``AccessEnd``).
    access_ends_on: date | None = None
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
    # The member of program staff who works this request (None: unassigned).
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    # The program's clock (domain/program_clock.py), kept by ``_keep_program_clock`` below.
    program_seconds: int = Field(default=0, sa_column=Column(sa.BigInteger, nullable=False,
                                                             server_default="0"))
    clock_origin: int | None = Field(default=None, sa_column=Column(sa.BigInteger, nullable=True))


def _clock_zone() -> str:
    from immtrax_portal.settings import get_settings

    return get_settings().business_time_zone


def _clock_on_insert(_mapper, _connection, request: AccessRequest) -> None:
    from immtrax_portal.domain.program_clock import after_status_change

    reading = after_status_change(request.program_seconds or 0, None, None, RequestStatus(request.status),
                                  request.status_changed_at or utcnow(), _clock_zone())
    request.program_seconds, request.clock_origin = reading.program_seconds, reading.clock_origin


def _clock_on_update(_mapper, _connection, request: AccessRequest) -> None:
    """Every status change, whichever code path makes it, moves the clock (paused or running)."""
    from immtrax_portal.domain.program_clock import after_status_change

    state = sa.inspect(request)
    status_history = state.attrs.status.history
    if not status_history.has_changes() or not status_history.deleted:
        return
    old_status = RequestStatus(status_history.deleted[0])
    since_history = state.attrs.status_changed_at.history
    old_since = since_history.deleted[0] if since_history.deleted else request.status_changed_at
    reading = after_status_change(request.program_seconds or 0, old_status, old_since,
                                  RequestStatus(request.status), request.status_changed_at, _clock_zone())
    request.program_seconds, request.clock_origin = reading.program_seconds, reading.clock_origin


sa.event.listen(AccessRequest, "before_insert", _clock_on_insert)
sa.event.listen(AccessRequest, "before_update", _clock_on_update)


class ProgramClockTarget(SQLModel, table=True):
    """The program's target for one request type, in business hours (set by staff)."""

    __tablename__ = "program_clock_target"

    request_type: RequestType = Field(sa_column=Column(
        sa.Enum(RequestType, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        primary_key=True))
    business_hours: int
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")


class ClockNotice(SQLModel, table=True):
    """One notice of the program's clock (half, three quarters, breach) per request: the unique
    constraint makes each one happen once, whichever process gets there first."""

    __tablename__ = "clock_notice"
    __table_args__ = (sa.UniqueConstraint("request_id", "level", name="uq_clock_notice_request_level"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id")
    level: str = Field(max_length=20)
    emailed: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


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
    # When staff publish a version that everyone must sign again: the moment by which they must
    # (the end of the chosen day in the program's time zone); None: signed as each one's year ends.
    resign_by: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


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
    # Raised by every save: a tab saves only over the version it last read (compare-and-set), so
    # two tabs on one draft never silently overwrite each other (``services.drafts``).
    version: int = Field(default=1, sa_column=Column(sa.Integer, nullable=False, server_default="1"))


class StaffNote(SQLModel, table=True):
    """An internal note on a request: program staff write and read them; nobody else ever does."""

    __tablename__ = "staff_note"
    __table_args__ = (sa.Index("ix_staff_note_request_time", "request_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="access_request.id")
    author_id: int = Field(foreign_key="person.id")
    body: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Delegation(SQLModel, table=True):
    """One person standing in for another from ``starts_on`` to ``ends_on`` (program days, both
    included): a supervisor's backup at one organization while they are away (kind supervisor), or
    a member of staff covering a colleague's assigned requests (kind staff, no organization).

    The rule of who may act for whom is ``domain.permissions``; this row only records the range."""

    __tablename__ = "delegation"
    __table_args__ = (
        sa.Index("ix_delegation_delegate_ends", "delegate_id", "ends_on"),
        sa.Index("ix_delegation_delegator_ends", "delegator_id", "ends_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DelegationKind = Field(sa_column=_enum(DelegationKind))
    delegator_id: int = Field(foreign_key="person.id")
    delegate_id: int = Field(foreign_key="person.id")
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    starts_on: date
    ends_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- Roster reviews and the registry's activity report (services/reviews.py, inactivity.py) -----

# The imMTrax username as the registry's report spells it is matched case-insensitively.
sa.Index("ix_access_grant_username_lower", sa.func.lower(Grant.__table__.c.immtrax_username))

_REVIEW_OPEN_SQL = "closed_at IS NULL"


class RosterReview(SQLModel, table=True):
    """One organization's supervisors asked to confirm who still needs access, within a window."""

    __tablename__ = "roster_review"
    __table_args__ = (
        # At most one open review per organization, whatever the number of workers starting one.
        sa.Index("uq_roster_review_open_org", "organization_id", unique=True,
                 sqlite_where=sa.text(_REVIEW_OPEN_SQL), postgresql_where=sa.text(_REVIEW_OPEN_SQL)),
        sa.Index("ix_roster_review_started", "started_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    # "scheduled" (the schedule found people due) or "extra" (a member of staff started it).
    kind: str = Field(max_length=20)
    rule: str = Field(default="", max_length=200)
    started_by_id: int | None = Field(default=None, foreign_key="person.id")
    started_at: datetime = Field(sa_column=_ts())
    ends_at: datetime = Field(sa_column=_ts(index=True))
    grace_ends_at: datetime = Field(sa_column=_ts())
    reminders_sent: int = Field(default=0)
    overdue_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))


class RosterReviewItem(SQLModel, table=True):
    """One person with access in one review, and what became of them."""

    __tablename__ = "roster_review_item"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "grant_id"),
        sa.Index("ix_roster_review_item_review_outcome", "review_id", "outcome"),
        sa.Index("ix_roster_review_item_grant_answered", "grant_id", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="roster_review.id")
    grant_id: int = Field(foreign_key="access_grant.id")
    person_id: int = Field(foreign_key="person.id")
    access_level: AccessLevel = Field(sa_column=_enum(AccessLevel))
    # pending, confirmed, change_requested, access_ended, auto_deletion
    outcome: str = Field(default="pending", max_length=24)
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    answered_by_id: int | None = Field(default=None, foreign_key="person.id")
    request_id: int | None = Field(default=None, foreign_key="access_request.id")


class ReviewSchedule(SQLModel, table=True):
    """The roster reviews' schedule as staff set it on /staff/reviews: one row (id 1), absent until
    they first save; without it the settings' defaults apply (services/review_schedule.py)."""

    __tablename__ = "review_schedule"

    id: int | None = Field(default=None, primary_key=True)
    every_months_vaccine_management: int
    every_months_other_levels: int
    window_days: int
    # Reminders, in days before the end of the window; the second is optional.
    first_reminder_days: int
    second_reminder_days: int | None = None
    grace_days: int
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_by_id: int | None = Field(default=None, foreign_key="person.id")


class RegistryActivity(SQLModel, table=True):
    """The last imMTrax login of one username, as the registry's own report said it."""

    __tablename__ = "registry_activity"

    username: str = Field(primary_key=True, max_length=100)  # lower-cased
    last_login_at: datetime = Field(sa_column=_ts(index=True))
    reported_at: datetime = Field(sa_column=_ts())
    report_digest: str = Field(default="", max_length=64)
    # Each marks the last login it was done for, so a newer report starts afresh and a rerun
    # does nothing twice: the supervisors told, a supervisor's "still needed", the deletion opened.
    notified_for: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    confirmed_for: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    confirmed_by_id: int | None = Field(default=None, foreign_key="person.id")
    deletion_for: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


# --- Access over time (issue 16): job leases, yearly re-signing, scheduled ends, succession -----


class JobLease(SQLModel, table=True):
    """One row per housekeeping job: who runs it now and when it may run next.

    A run claims the row with one guarded UPDATE (free lease and due), so however many server
    processes tick at once, each job runs once per interval (``services/job_leases.py``)."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(default="", max_length=100)
    lease_expires_at: datetime = Field(sa_column=_ts())
    next_run_at: datetime = Field(sa_column=_ts())
    last_started_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    last_effects: int = Field(default=0)
    failures_in_a_row: int = Field(default=0)
    last_error: str = Field(default="", max_length=500)


_RENEWAL_OPEN_SQL = "signed_at IS NULL"


class AgreementRenewal(SQLModel, table=True):
    """One re-signing cycle of one person's User Agreement: open until they sign again.

    ``due_at`` is when the agreement lapses; reminders go out before it (``reminders_sent``
    counts them, the guarded UPDATE on it makes each go once); at ``due_at`` the person's grants
    are suspended (``lapsed_at``); signing closes the cycle (``signed_at``) and opens the next."""

    __tablename__ = "agreement_renewal"
    __table_args__ = (
        sa.Index("uq_agreement_renewal_open_person", "person_id", unique=True,
                 sqlite_where=sa.text(_RENEWAL_OPEN_SQL), postgresql_where=sa.text(_RENEWAL_OPEN_SQL)),
        sa.Index("ix_agreement_renewal_open_due", "signed_at", "due_at"),
        sa.Index("ix_agreement_renewal_lapsed", "lapsed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    due_at: datetime = Field(sa_column=_ts())
    cause: str = Field(default="yearly", max_length=20)  # yearly | new_version
    reminders_sent: int = Field(default=0)
    lapsed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    signed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    agreement_version_id: int | None = Field(default=None, foreign_key="agreement_version.id")
    text_hash: str = Field(default="", max_length=64)
    typed_name: str = Field(default="", max_length=200)
    okta_subject: str = Field(default="", max_length=255)
    ip_address: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)
    # The grants the lapse suspended (JSON list of ids): signing again restores exactly these.
    suspended_grants: str = Field(default="[]", sa_column=Column(sa.Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RenewalLink(SQLModel, table=True):
    """A single-use re-signing link, by the rules of the first invitation: random, stored only as
    a hash, bound to the person's email, and revoked when a newer one is sent."""

    __tablename__ = "renewal_link"

    id: int | None = Field(default=None, primary_key=True)
    renewal_id: int = Field(foreign_key="agreement_renewal.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())
    consumed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class AccessEnd(SQLModel, table=True):
    """A grant that ends on a set day: a scheduled Access Deletion or a time-limited access.

    Access ends at ``ends_at`` (the end of the last day in the program's time zone). Open while
    ``done_at`` is empty; moving, extending or cancelling changes this row, never the grant."""

    __tablename__ = "access_end"
    __table_args__ = (
        sa.Index("uq_access_end_open_grant", "grant_id", unique=True,
                 sqlite_where=sa.text("done_at IS NULL AND cancelled_at IS NULL"),
                 postgresql_where=sa.text("done_at IS NULL AND cancelled_at IS NULL")),
        sa.Index("ix_access_end_open_ends", "done_at", "cancelled_at", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(foreign_key="access_grant.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="access_request.id", index=True)
    kind: str = Field(max_length=20)  # scheduled_removal | end_date
    last_day: date
    ends_at: datetime = Field(sa_column=_ts())
    reminders_sent: int = Field(default=0)
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SupervisorNomination(SQLModel, table=True):
    """A supervisor's request that another person become a supervisor of their organization;
    staff approve (which links them) or decline."""

    __tablename__ = "supervisor_nomination"
    __table_args__ = (sa.Index("ix_supervisor_nomination_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    nominated_by_id: int = Field(foreign_key="person.id")
    email: str = Field(max_length=254)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    status: str = Field(default="pending", max_length=20)  # pending | approved | declined
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RequestTabCount(SQLModel, table=True):
    """How many requests there are per owner, type and status, kept by database triggers on
    ``access_request`` (migration ``0008_search_indexes``), so the staff queue's tab counts are a
    read of a few rows instead of a GROUP BY over every request. ``owner_key`` is the owner's
    person id, 0 for unassigned. Never written by the application."""

    __tablename__ = "request_tab_count"

    owner_key: int = Field(primary_key=True)
    request_type: str = Field(primary_key=True, max_length=32)
    status: str = Field(primary_key=True, max_length=32)
    n: int = Field(default=0)


@sa.event.listens_for(SQLModel.metadata, "after_create")
def _build_kept_tables(metadata, connection, tables=(), **_) -> None:
    """``create_all`` (throwaway test databases) builds the triggers and search structures that
    migration 0008_search_indexes builds, once every table they refer to exists."""
    if RequestTabCount.__table__ in tables:
        from immtrax_portal.domain import kept_tables
        kept_tables.build(connection)
