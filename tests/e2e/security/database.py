"""Reading the running portal's SQLite file directly: row snapshots and new audit events.

The harness never trusts the app to say what it did: it reads the database file the portal
writes (``portal_env["IMMTRAX_DATABASE_URL"]``) before and after every forged call.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

# Columns that honest reads touch, which are not an action: the session's idle clock is written by
# any authenticated event at most once a minute (auth/sessions.LAST_SEEN_WRITE_INTERVAL).
VOLATILE_COLUMNS = {"web_session": {"last_seen_at"}}
# The audit log is expected to grow (denials); it is checked row by row instead.
AUDIT_TABLE = "audit_event"
# Not compared either: the audit chain's head moves with every audit event (it is the log's running
# hash), and rate-limit counters count attempts, refused ones included (that is what stops guessing
# invitation links). A refused call may write both; the refusal itself is checked in the audit log.
NOT_COMPARED = {"audit_chain_head", "rate_limit_counter"}


def sqlite_path(database_url: str) -> str:
    if not database_url.startswith("sqlite:///"):
        raise ValueError(f"the forged-event harness reads an SQLite file, not {database_url}")
    return database_url.removeprefix("sqlite:///")


@contextmanager
def connect(path: str) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        yield conn


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


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _table_state(conn: sqlite3.Connection, table: str) -> TableState:
    columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
               if r[1] not in VOLATILE_COLUMNS.get(table, set())]
    digest = hashlib.sha256()
    rows = 0
    select = ", ".join(f'"{c}"' for c in columns)
    for row in conn.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid'):
        digest.update(repr(tuple(row)).encode())
        rows += 1
    return TableState(rows, digest.hexdigest())


def snapshot(path: str) -> Snapshot:
    """Row count and checksum of every table except the audit log (with its chain head) and
    the rate-limit counters, and
    the audit log's last id."""
    with connect(path) as conn:
        tables = {t: _table_state(conn, t) for t in _tables(conn)
                  if t != AUDIT_TABLE and t not in NOT_COMPARED}
        last = conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {AUDIT_TABLE}").fetchone()[0]
    return Snapshot(tables, last)


def audit_events_after(path: str, audit_id: int) -> list[dict]:
    with connect(path) as conn:
        return [dict(r) for r in conn.execute(
            f"SELECT * FROM {AUDIT_TABLE} WHERE id > ? ORDER BY id", (audit_id,))]


def query(path: str, sql: str, *params) -> list[dict]:
    with connect(path) as conn:
        return [dict(r) for r in conn.execute(sql, params)]


def execute(path: str, sql: str, *params) -> None:
    with connect(path) as conn:
        conn.execute(sql, params)
        conn.commit()
