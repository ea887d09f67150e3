"""backups while away: one delegation per person standing in for another over a range of days

Revision ID: 0006_batch
Revises: 0005_agreement_versions
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import immtrax_portal.domain.models

revision: str = "0006_batch"
down_revision: str | None = "0006_live"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("supervisor", "staff", name="delegationkind", native_enum=False,
                                  length=32), nullable=False),
        sa.Column("delegator_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["delegator_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["delegate_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegation_delegate_ends", "delegation", ["delegate_id", "ends_on"])
    op.create_index("ix_delegation_delegator_ends", "delegation", ["delegator_id", "ends_on"])


def downgrade() -> None:
    op.drop_index("ix_delegation_delegator_ends", table_name="delegation")
    op.drop_index("ix_delegation_delegate_ends", table_name="delegation")
    op.drop_table("delegation")
