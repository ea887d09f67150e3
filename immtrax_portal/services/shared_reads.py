"""One read per change per view, shared by every open page that shows the same view.

When a change arrives, every open page that displays it looks again. Pages that show the same
thing (the same supervisor's dashboard open in ten tabs, the staff queue's default page open for
every staff member, an organization's roster on the dashboard of each of its supervisors) would
each send the same statements. Here they share them, per server process:

- ``SharedReads.get(view_key, change_id, read)``: the first page asking for ``(view_key,
  change_id)`` runs ``read`` in a worker thread; every other page asking meanwhile awaits the same
  result, and pages asking later get it from a small LRU (bounded memory). The result is handed out
  as a deep copy, so no page can alter what another receives.
- ``BatchedLookup.get(key, change_id)``: many keys looked up with one statement, e.g. the session
  cookies of every tab woken by one change: the first ask opens a short window, the asks arriving
  within it join it, and one ``read_many(keys)`` answers them all.

What a view key must hold: everything that decides what the view's rows are, including whose view
it is when the rows depend on the person (the caller's ``Actor`` itself, when in doubt). What it
must not replace: the rulebook. A page checks with ``domain.permissions`` that its caller may see
the view *before* asking for it (``read`` runs as the first caller; it must not depend on who that
was beyond what the key holds). A change id in the key means a read is never older than the change
that asked for it: a page woken by change ``c`` gets a read started after ``c`` was seen.

Plain Python and asyncio, no Reflex: the pages' side lives in ``ui/state/live.py``.
"""

from __future__ import annotations

import asyncio
import copy
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

CAPACITY = 512
WINDOW_SECONDS = 0.03


class SharedReads:
    """Results keyed by (view key, change id): one read each, however many pages ask."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._done: OrderedDict[tuple[Hashable, int], Any] = OrderedDict()
        self._running: dict[tuple[Hashable, int], asyncio.Future] = {}
        self.reads = 0    # reads run (for tests and the benchmark)
        self.shared = 0   # asks answered by another page's read

    def __len__(self) -> int:
        return len(self._done)

    def clear(self) -> None:
        self._done.clear()

    async def get(self, view_key: Hashable, change_id: int, read: Callable[[], Any]) -> Any:
        key = (view_key, change_id)
        if key in self._done:
            self._done.move_to_end(key)
            self.shared += 1
            return copy.deepcopy(self._done[key])
        loop = asyncio.get_running_loop()
        running = self._running.get(key)
        if running is not None and running.get_loop() is loop:
            self.shared += 1
            return copy.deepcopy(await asyncio.shield(running))
        future: asyncio.Future = loop.create_future()
        self._running[key] = future
        self.reads += 1
        try:
            value = await asyncio.to_thread(read)
        except BaseException as failure:  # the waiters fail alike; nothing is kept
            future.set_exception(failure)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            if self._running.get(key) is future:
                del self._running[key]
        self._done[key] = value
        while len(self._done) > self.capacity:
            self._done.popitem(last=False)
        future.set_result(value)
        return copy.deepcopy(value)


class _Batch:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: set[Hashable] = set()
        self.future: asyncio.Future = loop.create_future()
        self.started = False


class BatchedLookup:
    """Many keys, one statement: asks for the same change id within ``window`` seconds share one
    ``read_many(keys) -> {key: value}`` (a key it leaves out is answered ``None``)."""

    def __init__(self, read_many: Callable[[frozenset], dict], *, window: float = WINDOW_SECONDS,
                 capacity: int = CAPACITY * 4) -> None:
        self._read_many, self.window, self.capacity = read_many, window, capacity
        self._done: OrderedDict[tuple[Hashable, int], Any] = OrderedDict()
        self._open: dict[int, _Batch] = {}
        self.reads = 0

    def clear(self) -> None:
        self._done.clear()

    async def get(self, key: Hashable, change_id: int) -> Any:
        if (key, change_id) in self._done:
            return copy.deepcopy(self._done[(key, change_id)])
        loop = asyncio.get_running_loop()
        batch = self._open.get(change_id)
        if batch is None or batch.started or batch.future.get_loop() is not loop:
            batch = _Batch(loop)
            self._open[change_id] = batch
            loop.create_task(self._run(change_id, batch))
        batch.keys.add(key)
        found = await asyncio.shield(batch.future)
        return copy.deepcopy(found.get(key))

    async def _run(self, change_id: int, batch: _Batch) -> None:
        await asyncio.sleep(self.window)
        batch.started = True
        if self._open.get(change_id) is batch:
            del self._open[change_id]
        keys = frozenset(batch.keys)
        self.reads += 1
        try:
            found = await asyncio.to_thread(self._read_many, keys)
        except BaseException as failure:
            batch.future.set_exception(failure)
            batch.future.exception()
            return
        for key in keys:
            self._done[(key, change_id)] = found.get(key)
        while len(self._done) > self.capacity:
            self._done.popitem(last=False)
        batch.future.set_result(found)

