"""a Permissions Change keeps the level the person held when it was submitted (staff see from → to)

Revision ID: 0007_words_previous_level
Revises: 0006_live
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_words_previous_level"
down_revision: str | None = "0006_batch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no table rebuild on SQLite).
    op.add_column("access_request", sa.Column(
        "previous_access_level",
        sa.Enum("read_only_consent", "record_maintenance", "vaccine_management", name="accesslevel",
                native_enum=False, length=32),
        nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.drop_column("previous_access_level")
