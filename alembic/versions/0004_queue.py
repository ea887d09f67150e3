"""staff queue indexes and internal staff notes

Revision ID: 0004_queue
Revises: 0003_orgs
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import immtrax_portal.domain.models

revision: str = "0004_queue"
down_revision: str | None = "0003_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_note_request_time", "staff_note", ["request_id", "created_at"])
    op.create_index("ix_access_request_status_waiting", "access_request",
                    ["status", "status_changed_at", "id"])
    op.create_index("ix_access_request_created", "access_request", ["created_at", "id"])
    op.create_index("ix_access_request_completed", "access_request", ["completed_at"])


def downgrade() -> None:
    op.drop_index("ix_access_request_completed", table_name="access_request")
    op.drop_index("ix_access_request_created", table_name="access_request")
    op.drop_index("ix_access_request_status_waiting", table_name="access_request")
    op.drop_index("ix_staff_note_request_time", table_name="staff_note")
    op.drop_table("staff_note")
