"""maintained queue tab counts, and indexed name / email search (pg_trgm; SQLite FTS5 trigram)

- ``request_tab_count``: requests per (owner, type, status), kept by triggers on access_request,
  so the staff queue's tab counts read a few rows instead of grouping every request.
- PostgreSQL: the ``pg_trgm`` extension and GIN trigram indexes on the person's e-mail and
  lower-cased full name, which serve the queue's ``LIKE '%fragment%'`` search. A role that may
  not create the extension gets a warning and no trigram indexes; the search still works (by a
  scan), and a superuser can run ``CREATE EXTENSION pg_trgm`` and this migration's indexes later.
- SQLite: ``person_search``, an FTS5 table with the trigram tokenizer holding each person's full
  name and e-mail (rowid = person id), kept by triggers on person.

Revision ID: 0008_search_indexes
Revises: 0007_draft_versions
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from immtrax_portal.domain import kept_tables

revision: str = "0008_search_indexes"
down_revision: str | None = "0007_draft_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_tab_count",
        sa.Column("owner_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("request_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner_key", "request_type", "status"),
    )
    bind = op.get_bind()
    op.execute("INSERT INTO request_tab_count (owner_key, request_type, status, n) "
               "SELECT coalesce(owner_id, 0), request_type, status, count(*) FROM access_request "
               "GROUP BY coalesce(owner_id, 0), request_type, status")
    kept_tables.build(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_person_full_name_trgm")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_person_email_trgm")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS trg_request_tab_count_update ON access_request")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS trg_request_tab_count_insert_delete ON access_request")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS request_tab_count_keep()")
        # The extension stays: other objects of the database may use it.
    else:
        for name in ("trg_person_search_insert", "trg_person_search_update", "trg_person_search_delete",
                     "trg_request_tab_count_insert", "trg_request_tab_count_delete",
                     "trg_request_tab_count_update"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        bind.exec_driver_sql("DROP TABLE IF EXISTS person_search")
    op.drop_table("request_tab_count")
