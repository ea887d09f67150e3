"""The audit log's hash chain: linking each new event to the one before, and checking the chain.

Each event stores its place in the chain (``chain_seq``), the hash of the event before it
(``prev_hash``) and ``entry_hash`` = SHA-256 over that previous hash and the event's own content.
Changing, removing or reordering any stored event therefore breaks the chain from that event on,
and ``verify_chain`` names the first event where it breaks.

Appends are serialized by the one ``audit_chain_head`` row: every insert first updates that row
(PostgreSQL holds the row lock until the transaction ends, so a second writer waits and then reads
the head the first one committed; SQLite has a single writer anyway). The head also lets the
check notice events missing from the end of the log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from immtrax_portal.domain.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
HEAD_ID = 1
_VERIFY_BATCH = 500

_events = AuditEvent.__table__  # type: ignore[attr-defined]
_head = AuditChainHead.__table__  # type: ignore[attr-defined]

# The content a hash covers, in a fixed order. Adding a column to audit_event means adding it
# here too (with a new format marker) if it should be tamper-evident.
_CONTENT = ("chain_seq", "occurred_at", "actor_id", "actor_role", "organization_id", "request_id",
            "action", "target_type", "target_id", "from_status", "to_status", "outcome", "reason",
            "source_ip", "details")
_FORMAT = "immtrax-audit-v1"


def _canonical(name: str, value):
    if value is None:
        return None
    if name == "occurred_at":
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(timespec="microseconds")
    if name == "outcome":
        return getattr(value, "value", value)
    if name in ("chain_seq", "actor_id", "organization_id", "request_id"):
        return int(value)
    return str(value)


def entry_hash(content: dict, prev_hash: str) -> str:
    """The hash of one event: its content (by ``_CONTENT`` names) chained to the previous hash."""
    fields = [_canonical(name, content.get(name)) for name in _CONTENT]
    payload = json.dumps([_FORMAT, prev_hash, fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _claim_next_link(connection: Connection) -> tuple[int, str]:
    """Advance the head by one and return (new position, previous hash), waiting for any other
    writer's transaction to finish first."""
    advance = (_head.update().where(_head.c.id == HEAD_ID)
               .values(last_seq=_head.c.last_seq + 1)
               .returning(_head.c.last_seq, _head.c.last_hash))
    row = connection.execute(advance).first()
    if row is None:  # a database built without the migration (create_all): start the chain
        _start_chain(connection)
        row = connection.execute(advance).first()
    return int(row.last_seq), row.last_hash


def _start_chain(connection: Connection) -> None:
    """Insert the genesis head unless a concurrent first writer already did (it then waits for
    that writer's commit and inserts nothing, instead of failing on the primary key)."""
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(dialect_insert(_head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH)
                       .on_conflict_do_nothing(index_elements=["id"]))


def link_event(connection: Connection, event: AuditEvent) -> None:
    """Fill ``event``'s chain columns as it is inserted (a ``before_insert`` hook)."""
    seq, prev_hash = _claim_next_link(connection)
    event.chain_seq = seq
    event.prev_hash = prev_hash
    event.entry_hash = entry_hash({name: getattr(event, name) for name in _CONTENT}, prev_hash)
    connection.execute(_head.update().where(_head.c.id == HEAD_ID).values(last_hash=event.entry_hash))


# --- Checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events_checked: int
    head_hash: str
    broken_event_id: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.intact:
            return (f"Audit chain intact: {self.events_checked} events checked. "
                    f"Head hash {self.head_hash} (keep a copy elsewhere to anchor the chain).")
        where = f"event id {self.broken_event_id}" if self.broken_event_id is not None else "the end"
        return (f"Audit chain BROKEN at {where}: {self.problem} "
                f"({self.events_checked} events before it check out).")


def _broken(checked: int, head: str, event_id: int | None, problem: str) -> ChainVerdict:
    return ChainVerdict(False, checked, head, event_id, problem)


def verify_chain(engine: Engine) -> ChainVerdict:
    """Walk the chain in order, a batch at a time, and stop at the first broken link.

    The head is read first: events appended while the check runs lie beyond it and are left for
    the next check."""
    with engine.connect() as connection:
        head = connection.execute(sa.select(_head.c.last_seq, _head.c.last_hash)
                                  .where(_head.c.id == HEAD_ID)).first()
    last_seq, head_hash = (int(head.last_seq), head.last_hash) if head else (0, GENESIS_HASH)
    expected_seq, prev_hash, checked, last_id = 1, GENESIS_HASH, 0, None
    while expected_seq <= last_seq:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(_events).where(_events.c.chain_seq >= expected_seq,
                                         _events.c.chain_seq <= last_seq)
                .order_by(_events.c.chain_seq).limit(_VERIFY_BATCH)
            ).mappings().all()
        if not rows:
            break
        for row in rows:
            if row["chain_seq"] != expected_seq:
                return _broken(checked, head_hash, row["id"],
                               f"chain position {expected_seq} is missing (an event was removed "
                               f"before this one, which is at position {row['chain_seq']}).")
            if row["prev_hash"] != prev_hash:
                return _broken(checked, head_hash, row["id"],
                               "it does not link to the event before it (that event was changed "
                               "and re-hashed, or replaced).")
            if entry_hash(dict(row), prev_hash) != row["entry_hash"]:
                return _broken(checked, head_hash, row["id"],
                               "its content does not match its hash (it was changed after it "
                               "was written).")
            prev_hash, last_id = row["entry_hash"], row["id"]
            expected_seq, checked = expected_seq + 1, checked + 1
    if checked != last_seq or prev_hash != head_hash:
        return _broken(checked, head_hash, None,
                       f"the chain head records {last_seq} events but the log holds {checked} in "
                       f"order (the newest events after event id {last_id} were removed).")
    return ChainVerdict(True, checked, head_hash)
