"""organization search: an index on lower(name) for case-insensitive prefix search

Revision ID: 0003_orgs
Revises: 0002_audit_chain
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003_orgs"
down_revision: str | None = "0002_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_organization_name_lower", "organization", [sa.text("lower(name)")])


def downgrade() -> None:
    op.drop_index("ix_organization_name_lower", table_name="organization")
