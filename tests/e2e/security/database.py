"""Reading the running portal's database directly (SQLite or PostgreSQL): row snapshots and new
audit events.

The harness never trusts the app to say what it did: it reads the database the portal writes
(``portal_env["IMMTRAX_DATABASE_URL"]``) before and after every forged call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

# Columns that honest reads touch, which are not an action: the session's idle clock is written by
# any authenticated event at most once a minute (auth/sessions.LAST_SEEN_WRITE_INTERVAL).
# The portal's mail worker sends queued mail at any moment: an email's delivery columns move on their
# own, and its bodies lose their invitation links once it is delivered (a new or changed email still
# shows in its other columns and the row count).
VOLATILE_COLUMNS = {"web_session": {"last_seen_at"},
                    "outbound_email": {"status", "attempts", "next_attempt_at", "last_error", "sent_at",
                                       "body_text", "body_html"}}
# The audit log is expected to grow (denials); it is checked row by row instead.
AUDIT_TABLE = "audit_event"
# What recording a refusal itself writes: the audit chain's head moves with every event, and a
# rate-limited call counts the attempt. Neither is an effect of the refused action. Nor is the
# housekeeping loop taking and freeing its jobs' leases (job_lease), which it does on its own clock.
BOOKKEEPING_TABLES = {AUDIT_TABLE, "audit_chain_head", "rate_limit_counter", "job_lease"}
# Kept by the database's own triggers from tables the snapshot compares (the queue's tab counts from
# access_request, SQLite's trigram search index from person): a change there is that table's change.
DERIVED_TABLES = {"request_tab_count"}
DERIVED_PREFIXES = ("person_search",)


def _engine(url: str) -> sa.Engine:
    if url not in _ENGINES:
        _ENGINES[url] = sa.create_engine(url, poolclass=sa.pool.NullPool)
    return _ENGINES[url]


_ENGINES: dict[str, sa.Engine] = {}


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _named(sql: str, params: tuple) -> tuple[sa.TextClause, dict]:
    """Callers write "?" placeholders; SQLAlchemy's text() wants names, on either database."""
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(params)} parameters for {len(parts) - 1} placeholders")
    named = parts[0] + "".join(f":p{i}{part}" for i, part in enumerate(parts[1:]))
    return sa.text(named), {f"p{i}": value for i, value in enumerate(params)}


@dataclass(frozen=True)
class TableState:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, TableState]
    last_audit_id: int

    def changed_tables(self, later: Snapshot) -> dict[str, str]:
        """Each table whose rows differ between ``self`` and ``later``, with how."""
        changed = {}
        for name in sorted(set(self.tables) | set(later.tables)):
            before, after = self.tables.get(name), later.tables.get(name)
            if before != after:
                changed[name] = (f"{before.rows if before else '-'} -> {after.rows if after else '-'} rows"
                                 + ("" if before and after and before.rows != after.rows else ", content"))
        return changed


def _layout(url: str, conn: sa.Connection) -> dict[str, tuple[list[str], list[str]]]:
    """Each snapshotted table's compared columns and its order: read once per database, since
    migrations do not run while the portal does (the inspector's catalogue queries were most of a
    snapshot's cost)."""
    if url not in _LAYOUTS:
        inspector = sa.inspect(conn)
        layout = {}
        for table in sorted(inspector.get_table_names()):
            if table in BOOKKEEPING_TABLES or table in DERIVED_TABLES or table.startswith(DERIVED_PREFIXES):
                continue
            columns = [c["name"] for c in inspector.get_columns(table)
                       if c["name"] not in VOLATILE_COLUMNS.get(table, set())]
            layout[table] = (columns, inspector.get_pk_constraint(table)["constrained_columns"] or columns)
        _LAYOUTS[url] = layout
    return _LAYOUTS[url]


_LAYOUTS: dict[str, dict[str, tuple[list[str], list[str]]]] = {}


def _table_state(conn: sa.Connection, table: str, columns: list[str], order: list[str]) -> TableState:
    digest = hashlib.sha256()
    rows = 0
    select = ", ".join(f'"{c}"' for c in columns)
    for row in conn.execute(sa.text(f'SELECT {select} FROM "{table}" ORDER BY '
                                    + ", ".join(f'"{c}"' for c in order))):
        digest.update(repr(tuple(row)).encode())
        rows += 1
    return TableState(rows, digest.hexdigest())


def snapshot(url: str) -> Snapshot:
    """Row count and checksum of every table except the audit log's bookkeeping, and the audit
    log's last id."""
    with _engine(url).connect() as conn:
        tables = {table: _table_state(conn, table, columns, order)
                  for table, (columns, order) in _layout(url, conn).items()}
        last = conn.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {AUDIT_TABLE}")).scalar_one()
    return Snapshot(tables, last)


def audit_events_after(url: str, audit_id: int) -> list[dict]:
    return query(url, f"SELECT * FROM {AUDIT_TABLE} WHERE id > ? ORDER BY id", audit_id)


def query(url: str, sql: str, *params) -> list[dict]:
    with _engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(*_named(sql, params))]


def execute(url: str, sql: str, *params) -> None:
    with _engine(url).begin() as conn:
        conn.execute(*_named(sql, params))
