"""roster reviews (attestation) and the registry's activity report (inactivity)

Revision ID: 0006_reviews
Revises: 0006_live
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import immtrax_portal.domain.models

revision: str = "0006_reviews"
down_revision: str | None = "0006_queue_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = immtrax_portal.domain.models.UTCDateTime
_LEVEL = sa.Enum("read_only_consent", "record_maintenance", "vaccine_management", name="accesslevel",
                 native_enum=False, length=32)


def upgrade() -> None:
    op.create_index("ix_access_grant_username_lower", "access_grant", [sa.text("lower(immtrax_username)")])
    op.create_table(
        "roster_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", _TS(timezone=True), nullable=False),
        sa.Column("ends_at", _TS(timezone=True), nullable=False),
        sa.Column("grace_ends_at", _TS(timezone=True), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("overdue_at", _TS(timezone=True), nullable=True),
        sa.Column("closed_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["started_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_roster_review_organization_id", "roster_review", ["organization_id"])
    op.create_index("ix_roster_review_ends_at", "roster_review", ["ends_at"])
    op.create_index("ix_roster_review_closed_at", "roster_review", ["closed_at"])
    op.create_index("ix_roster_review_started", "roster_review", ["started_at", "id"])
    op.create_index("uq_roster_review_open_org", "roster_review", ["organization_id"], unique=True,
                    sqlite_where=sa.text("closed_at IS NULL"),
                    postgresql_where=sa.text("closed_at IS NULL"))
    op.create_table(
        "roster_review_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("access_level", _LEVEL, nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("answered_at", _TS(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["review_id"], ["roster_review.id"]),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["answered_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "grant_id"),
    )
    op.create_index("ix_roster_review_item_review_outcome", "roster_review_item", ["review_id", "outcome"])
    op.create_index("ix_roster_review_item_grant_answered", "roster_review_item", ["grant_id", "answered_at"])
    op.create_table(
        "registry_activity",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("last_login_at", _TS(timezone=True), nullable=False),
        sa.Column("reported_at", _TS(timezone=True), nullable=False),
        sa.Column("report_digest", sa.String(length=64), nullable=False),
        sa.Column("notified_for", _TS(timezone=True), nullable=True),
        sa.Column("confirmed_for", _TS(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("deletion_for", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_index("ix_registry_activity_last_login_at", "registry_activity", ["last_login_at"])


def downgrade() -> None:
    op.drop_index("ix_registry_activity_last_login_at", table_name="registry_activity")
    op.drop_table("registry_activity")
    op.drop_index("ix_roster_review_item_grant_answered", table_name="roster_review_item")
    op.drop_index("ix_roster_review_item_review_outcome", table_name="roster_review_item")
    op.drop_table("roster_review_item")
    op.drop_index("uq_roster_review_open_org", table_name="roster_review")
    op.drop_index("ix_roster_review_started", table_name="roster_review")
    op.drop_index("ix_roster_review_closed_at", table_name="roster_review")
    op.drop_index("ix_roster_review_ends_at", table_name="roster_review")
    op.drop_index("ix_roster_review_organization_id", table_name="roster_review")
    op.drop_table("roster_review")
    op.drop_index("ix_access_grant_username_lower", table_name="access_grant")
