"""index requests by organization and last change (the supervisor's "In progress" and "Closed"
lists page through their organizations' requests newest change first)

Revision ID: 0006_live
Revises: 0005_agreement_versions
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0006_live"
down_revision: str | None = "0005_agreement_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_access_request_org_updated", "access_request",
                    ["organization_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_request_org_updated", table_name="access_request")
