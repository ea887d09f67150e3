"""access over time: job leases, agreement re-signing, scheduled ends of access, supervisor nominations

Revision ID: 0006_lifecycle
Revises: 0006_live
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import immtrax_portal.domain.models

revision: str = "0006_lifecycle"
down_revision: str | None = "0006_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = immtrax_portal.domain.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("lease_expires_at", _TS(timezone=True), nullable=False),
        sa.Column("next_run_at", _TS(timezone=True), nullable=False),
        sa.Column("last_started_at", _TS(timezone=True), nullable=True),
        sa.Column("last_finished_at", _TS(timezone=True), nullable=True),
        sa.Column("last_effects", sa.Integer(), nullable=False),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "agreement_renewal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("due_at", _TS(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("lapsed_at", _TS(timezone=True), nullable=True),
        sa.Column("signed_at", _TS(timezone=True), nullable=True),
        sa.Column("agreement_version_id", sa.Integer(), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("typed_name", sa.String(length=200), nullable=False),
        sa.Column("okta_subject", sa.String(length=255), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=False),
        sa.Column("suspended_grants", sa.Text(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agreement_version_id"], ["agreement_version.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agreement_renewal_person_id", "agreement_renewal", ["person_id"])
    op.create_index("ix_agreement_renewal_open_due", "agreement_renewal", ["signed_at", "due_at"])
    op.create_index("ix_agreement_renewal_lapsed", "agreement_renewal", ["lapsed_at"])
    op.create_index("uq_agreement_renewal_open_person", "agreement_renewal", ["person_id"], unique=True,
                    sqlite_where=sa.text("signed_at IS NULL"), postgresql_where=sa.text("signed_at IS NULL"))
    op.create_table(
        "renewal_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("renewal_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("expires_at", _TS(timezone=True), nullable=False),
        sa.Column("consumed_at", _TS(timezone=True), nullable=True),
        sa.Column("revoked_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["renewal_id"], ["agreement_renewal.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_renewal_link_renewal_id", "renewal_link", ["renewal_id"])
    op.create_table(
        "access_end",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("ends_at", _TS(timezone=True), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("done_at", _TS(timezone=True), nullable=True),
        sa.Column("cancelled_at", _TS(timezone=True), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["access_grant.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_end_grant_id", "access_end", ["grant_id"])
    op.create_index("ix_access_end_organization_id", "access_end", ["organization_id"])
    op.create_index("ix_access_end_request_id", "access_end", ["request_id"])
    op.create_index("ix_access_end_open_ends", "access_end", ["done_at", "cancelled_at", "ends_at"])
    op.create_index("uq_access_end_open_grant", "access_end", ["grant_id"], unique=True,
                    sqlite_where=sa.text("done_at IS NULL AND cancelled_at IS NULL"),
                    postgresql_where=sa.text("done_at IS NULL AND cancelled_at IS NULL"))
    op.create_table(
        "supervisor_nomination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("nominated_by_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", _TS(timezone=True), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["nominated_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supervisor_nomination_organization_id", "supervisor_nomination",
                    ["organization_id"])
    op.create_index("ix_supervisor_nomination_status_created", "supervisor_nomination",
                    ["status", "created_at"])
    op.add_column("access_request", sa.Column("access_ends_on", sa.Date(), nullable=True))
    op.add_column("agreement_version", sa.Column("resign_by", _TS(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("agreement_version", "resign_by")
    op.drop_column("access_request", "access_ends_on")
    op.drop_table("supervisor_nomination")
    op.drop_table("access_end")
    op.drop_table("renewal_link")
    op.drop_table("agreement_renewal")
    op.drop_table("job_lease")
