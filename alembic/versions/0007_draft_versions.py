"""a version number on wizard drafts (compare-and-set between two tabs on one draft)

Revision ID: 0007_draft_versions
Revises: 0006_live
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_draft_versions"
down_revision: str | None = "0006_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wizard_draft") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("wizard_draft") as batch:
        batch.drop_column("version")
