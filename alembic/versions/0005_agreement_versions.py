"""index signatures by agreement version (the versions page counts signatures per version)

Revision ID: 0005_agreement_versions
Revises: 0004_queue
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0005_agreement_versions"
down_revision: str | None = "0004_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_agreement_signature_agreement_version_id", "agreement_signature",
                    ["agreement_version_id"])


def downgrade() -> None:
    op.drop_index("ix_agreement_signature_agreement_version_id", table_name="agreement_signature")
