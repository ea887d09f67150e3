"""the roster reviews' schedule, set by staff: ``review_schedule`` (one row; none means the settings)

Revision ID: 0009_review_schedule
Revises: 0008_search_indexes
"""
from collections.abc import Sequence

import sqlalchemy as sa

import immtrax_portal.domain.models
from alembic import op

revision: str = "0009_review_schedule"
down_revision: str | None = "0008_search_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("every_months_vaccine_management", sa.Integer(), nullable=False),
        sa.Column("every_months_other_levels", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("first_reminder_days", sa.Integer(), nullable=False),
        sa.Column("second_reminder_days", sa.Integer(), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("review_schedule")
