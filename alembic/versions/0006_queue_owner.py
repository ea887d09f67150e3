"""owned queue and the program's clock: request owners, clock columns, targets, notices

Revision ID: 0006_queue_owner
Revises: 0006_batch
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import immtrax_portal.domain.models

revision: str = "0006_queue_owner"
down_revision: str | None = "0007_words_previous_level"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TYPES = ("new_access", "change_employer", "permissions_change", "access_deletion")


def _start_running_clocks() -> None:
    """Requests already waiting on the program start their clock at their status change (their
    earlier time with the program is not known to this schema)."""
    from immtrax_portal.domain.program_clock import business_seconds_at
    from immtrax_portal.settings import get_settings

    zone = get_settings().business_time_zone
    bind = op.get_bind()
    request = sa.table("access_request", sa.column("id", sa.Integer),
                       sa.column("status", sa.String),
                       sa.column("status_changed_at", immtrax_portal.domain.models.UTCDateTime()),
                       sa.column("clock_origin", sa.BigInteger))
    rows = bind.execute(sa.select(request.c.id, request.c.status_changed_at)
                        .where(request.c.status.in_(("submitted", "in_review")))).all()
    for request_id, since in rows:
        bind.execute(request.update().where(request.c.id == request_id)
                     .values(clock_origin=business_seconds_at(since, zone)))


def upgrade() -> None:
    with op.batch_alter_table("access_request") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("program_seconds", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clock_origin", sa.BigInteger(), nullable=True))
        batch.create_foreign_key("fk_access_request_owner_id_person", "person", ["owner_id"], ["id"])
    op.create_index("ix_access_request_owner_status_waiting", "access_request",
                    ["owner_id", "status", "status_changed_at", "id"])
    op.create_index("ix_access_request_type_clock", "access_request", ["request_type", "clock_origin"])
    op.create_index("ix_person_name_lower", "person", [sa.text("lower(last_name)"), sa.text("lower(first_name)")])
    op.create_table(
        "program_clock_target",
        sa.Column("request_type", sa.Enum(*_TYPES, name="requesttype", native_enum=False, length=32),
                  nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("request_type"),
    )
    op.create_table(
        "clock_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.Column("created_at", immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "level", name="uq_clock_notice_request_level"),
    )
    _start_running_clocks()


def downgrade() -> None:
    op.drop_table("clock_notice")
    op.drop_table("program_clock_target")
    op.drop_index("ix_person_name_lower", table_name="person")
    op.drop_index("ix_access_request_type_clock", table_name="access_request")
    op.drop_index("ix_access_request_owner_status_waiting", table_name="access_request")
    with op.batch_alter_table("access_request") as batch:
        batch.drop_constraint("fk_access_request_owner_id_person", type_="foreignkey")
        batch.drop_column("clock_origin")
        batch.drop_column("program_seconds")
        batch.drop_column("owner_id")
