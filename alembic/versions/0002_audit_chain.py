"""audit log: hash chain, append-only triggers; rate limit counters

The chain columns are added, existing events are linked in id order (before the triggers exist),
then the columns become NOT NULL and the triggers refuse UPDATE and DELETE on audit_event
(PostgreSQL: also TRUNCATE).

Revision ID: 0002_audit_chain
Revises: 0001
Create Date: 2026-11-25 08:10:24.760671
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import immtrax_portal.domain.models
from alembic import op
from immtrax_portal.services.audit_chain import GENESIS_HASH, HEAD_ID, entry_hash

revision: str = '0002_audit_chain'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "audit_event is append-only: UPDATE and DELETE are refused"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP USING ERRCODE = 'integrity_constraint_violation';
        END
        $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""",
]


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rate_limit_counter',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('window_start', immtrax_portal.domain.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'subject', 'window_start')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))

    head_seq, head_hash = _link_existing_events(op.get_bind())
    op.get_bind().execute(sa.text("INSERT INTO audit_chain_head (id, last_seq, last_hash) "
                                  "VALUES (:id, :seq, :hash)"),
                          {"id": HEAD_ID, "seq": head_seq, "hash": head_hash})

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ux_audit_event_chain_seq', ['chain_seq'], unique=True)

    for statement in _triggers():
        op.execute(statement)


def _link_existing_events(bind) -> tuple[int, str]:
    """Chain the events already written, oldest first; returns the head (position, hash)."""
    events = sa.table('audit_event', *(sa.column(name) for name in (
        'id', 'occurred_at', 'actor_id', 'actor_role', 'organization_id', 'request_id', 'action',
        'target_type', 'target_id', 'from_status', 'to_status', 'outcome', 'reason', 'source_ip',
        'details', 'chain_seq', 'prev_hash', 'entry_hash')))
    events.c.occurred_at.type = immtrax_portal.domain.models.UTCDateTime()
    seq, prev_hash, after_id = 0, GENESIS_HASH, 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.id > after_id)
                            .order_by(events.c.id).limit(500)).mappings().all()
        if not rows:
            return seq, prev_hash
        for row in rows:
            seq += 1
            content = {**row, 'chain_seq': seq}
            link = entry_hash(content, prev_hash)
            bind.execute(events.update().where(events.c.id == row['id'])
                         .values(chain_seq=seq, prev_hash=prev_hash, entry_hash=link))
            prev_hash, after_id = link, row['id']


def _triggers() -> list[str]:
    return SQLITE_TRIGGERS if op.get_bind().dialect.name == 'sqlite' else POSTGRES_TRIGGERS


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refuse_change()")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ux_audit_event_chain_seq')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')

    op.drop_table('rate_limit_counter')
    op.drop_table('audit_chain_head')
