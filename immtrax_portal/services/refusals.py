"""Counting refusals, so that a client repeating a refused call cannot flood the audit log.

Every refused call is audited, but one connection (or one address) repeating the same refusal
many times in a minute says nothing new after the first few. ``RefusalLedger.note`` tells the
audit writer, per refusal, whether to write its own row, whether to write a summary row that
counts the refusals not written one by one, and whether the connection has been refused so often
that it should be dropped. A refusal is "the same" when its action, actor, reason and target are.

In-process memory, bounded: each process counts what it sees (a client moving between workers
gets a few more rows, never an unbounded number). Plain Python, no Reflex, no database.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# Identical refusals written one by one per window, per connection and per address. An address
# may be a clinic behind one NAT: its limit leaves room for many people.
ROWS_PER_CONNECTION = 10
ROWS_PER_ADDRESS = 50
# Suppressed refusals are summed up in one row each time this many more have gone unwritten.
SUMMARY_EVERY = 25
# Refusals of any kind in one window after which a connection is closed.
DROP_CONNECTION_AFTER = 100
MAX_TRACKED = 10_000


@dataclass(frozen=True)
class Summary:
    """``count`` refusals like this one that were not written one by one."""

    scope: str          # "connection" or "address"
    count: int


@dataclass(frozen=True)
class Verdict:
    write_row: bool
    summaries: tuple[Summary, ...] = ()
    drop_connection: bool = False     # drop it now (the first time it is over the limit)
    closing: bool = False             # already being dropped: ignore


@dataclass
class _Tally:
    window_start: float
    seen: int = 0
    unwritten: int = 0


class RefusalLedger:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_SECONDS,
                 rows_per_connection: int = ROWS_PER_CONNECTION, rows_per_address: int = ROWS_PER_ADDRESS,
                 summary_every: int = SUMMARY_EVERY, drop_after: int = DROP_CONNECTION_AFTER) -> None:
        self._clock, self._window = clock, window
        self._limits = {"connection": rows_per_connection, "address": rows_per_address}
        self._summary_every, self._drop_after = summary_every, drop_after
        self._tallies: OrderedDict[tuple, _Tally] = OrderedDict()
        self._dropped: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def _tally(self, key: tuple, now: float) -> tuple[_Tally, int]:
        """The tally for ``key`` in the current window, and how many refusals of the window that
        ended went unwritten (to be summed up now)."""
        tally = self._tallies.get(key)
        left_over = 0
        if tally is None or now - tally.window_start >= self._window:
            left_over = tally.unwritten if tally else 0
            tally = _Tally(window_start=now)
            self._tallies[key] = tally
        self._tallies.move_to_end(key)
        while len(self._tallies) > MAX_TRACKED:
            self._tallies.popitem(last=False)
        return tally, left_over

    def note(self, *, connection: str, address: str, same: tuple) -> Verdict:
        """Count one refusal of the kind ``same`` from ``connection`` at ``address``."""
        now = self._clock()
        with self._lock:
            if connection and connection in self._dropped:
                # Closing: what it still sent before the socket went is neither written nor counted.
                return Verdict(write_row=False, closing=True)
            summaries: list[Summary] = []
            over: list[_Tally] = []
            for scope, who in (("connection", connection), ("address", address)):
                if not who:
                    continue
                tally, left_over = self._tally((scope, who, same), now)
                if left_over:
                    summaries.append(Summary(scope, left_over))
                tally.seen += 1
                if tally.seen > self._limits[scope]:
                    over.append(tally)
                    if len(over) == 1:  # counted once, by the narrowest scope that holds it back
                        tally.unwritten += 1
                        if tally.unwritten % self._summary_every == 0:
                            summaries.append(Summary(scope, self._summary_every))
            drop = False
            if connection:
                overall, _ = self._tally(("any", connection), now)
                overall.seen += 1
                drop = overall.seen > self._drop_after
            return Verdict(not over, tuple(summaries), drop)

    def reset(self) -> None:
        with self._lock:
            self._tallies.clear()
            self._dropped.clear()

    def drop(self, connection: str) -> int:
        """Mark a connection as being closed (its later refusals are ignored) and forget its
        tallies; return how many of its refusals were not yet written or summed up."""
        with self._lock:
            self._dropped[connection] = None
            while len(self._dropped) > MAX_TRACKED:
                self._dropped.popitem(last=False)
            unwritten = 0
            for key in [k for k in self._tallies if k[1] == connection and k[0] in ("connection", "any")]:
                tally = self._tallies.pop(key)
                if key[0] == "connection":
                    unwritten += tally.unwritten % self._summary_every
            return unwritten


LEDGER = RefusalLedger()
