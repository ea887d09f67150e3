"""A forged browser tab: a socket.io client that speaks Reflex 0.10's event protocol to the RUNNING
portal, with whatever cookie, Origin, client token and payload an attacker chooses.

The wire format, as the built front end (``.web/utils/state.js``) and ``reflex/app.py`` use it:

- Socket.IO (Engine.IO 4) over the websocket at path ``/_event``, namespace ``/_event``. The query
  string carries the tab's client token (``?token=<uuid>``); the HTTP handshake carries the
  browser's Cookie and Origin headers, which Reflex keeps per connection as ``router.headers``.
- The CONNECT packet's auth payload carries the boot event ``{"event": <hydrate_and_load>,
  "state_schema": ...}``: the server sends the whole tab state as a delta, then runs the page's
  ``on_load`` handlers (``on_load_internal``), chosen by the event's ``router_data.pathname``.
- Every later call is ``emit("event", {"name": "<full state path>.<handler>", "payload": {kwarg:
  value}, "router_data": {"pathname", "asPath", "query"}})``. The payload's keys are the handler's
  keyword arguments, passed through as decoded JSON whatever the type hints say.
- The server answers with ``event`` messages ``{"delta": {state path: {var_rx_state_: value}},
  "events": [...]}``; a handler that raises reaches ``backend_exception_handler``, whose answer
  (the portal's generic toast with a reference) arrives as ``events``.

Events of one tab are processed in order, so after a call the harness sends ``State.hydrate`` as a
sentinel: its reply is a full snapshot of the tab. An event the call chains is queued when the call
ends, behind the sentinel already waiting, so the harness sends sentinels in rounds until a round
brings nothing but its snapshot (two rounds at least): then everything the call and its chain
caused has been sent, except what a background handler (``watch_live`` chained by a live page's
load, for one) sends on its own time: after a call that may start one, the harness also waits
until the line is quiet.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import socketio

from immtrax_portal.ui.state.session import SessionState

ROOT_STATE = SessionState.get_parent_state().get_full_name()
NAMESPACE = "/_event"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")
# The root state's router vars are sent only in a full snapshot (hydrate), never in a call's delta
# once the tab's route is fixed: that is how the sentinel's reply is recognised.
SNAPSHOT_MARK = "rx_router_session_rx_state_"
QUIET_S = 0.15
REPLY_TIMEOUT_S = 20
# A chain longer than this (or a watcher answering every round) ends the rounds; the quiet line
# (when asked for) still follows.
MOST_SENTINEL_ROUNDS = 8


def handler_name(state_cls, handler: str) -> str:
    """The name a browser sends for ``state_cls.handler``."""
    return f"{state_cls.get_full_name()}.{handler}"


def router_data_for(page: str) -> dict[str, Any]:
    """What the front end puts in ``router_data`` for a tab showing ``page`` (path and query)."""
    parts = urlsplit(page)
    data: dict[str, Any] = {"pathname": parts.path or "/", "asPath": page}
    if parts.query:
        data["query"] = dict(parse_qsl(parts.query))
    return data


@dataclass
class ForgedTab:
    """One connected tab. ``updates`` holds every ``event`` message the server sent, in order."""

    portal: str
    page: str = "/"
    cookie: str = ""
    origin: str | None = None
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_agent: str = CHROME
    # The boot event's router data, when a forged client sends other than a browser would.
    boot_router_data: dict | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    disconnected: bool = False
    # Whether the page's load may leave a background handler running (see the module).
    quiet_on_open: bool = True
    _client: socketio.AsyncClient | None = None
    _snapshots: int = 0
    _last_snapshot_at: int = -1   # index in ``updates`` of the newest snapshot
    _arrived: asyncio.Event | None = None

    async def open(self) -> ForgedTab:
        """Connect and hydrate on ``page`` (its on_load handlers run), as a browser tab does."""
        self._arrived = asyncio.Event()
        client = socketio.AsyncClient(reconnection=False)
        client.on("event", self._on_update, namespace=NAMESPACE)
        client.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        headers = {"User-Agent": self.user_agent, "Origin": self.origin or self.portal, **self.extra_headers}
        if self.cookie:
            headers["Cookie"] = self.cookie
        boot = {"name": f"{ROOT_STATE}.hydrate_and_load", "payload": {},
                "router_data": router_data_for(self.page) if self.boot_router_data is None
                else self.boot_router_data}
        await client.connect(f"{self.portal}?token={self.token}", headers=headers,
                             transports=["websocket"], namespaces=[NAMESPACE],
                             socketio_path="/_event", auth={"event": boot}, wait_timeout=10)
        self._client = client
        await self._until_hydrated()
        await self.settle(quiet=self.quiet_on_open)
        return self

    async def _until_hydrated(self) -> None:
        """The boot event's on_load chain ends by setting ``is_hydrated``; wait for that."""
        deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT_S
        while not any((u.get("delta") or {}).get(ROOT_STATE, {}).get("is_hydrated_rx_state_")
                      for u in self.updates):
            await self._wait_for_update(deadline - asyncio.get_running_loop().time())

    async def close(self) -> None:
        if self._client is not None:
            if not self.disconnected:
                await self._client.disconnect()
            self._client = None

    async def __aenter__(self) -> ForgedTab:
        return await self.open()

    async def __aexit__(self, *_exc) -> None:
        await self.close()

    async def _on_update(self, update: dict) -> None:
        self.updates.append(update)
        if SNAPSHOT_MARK in (update.get("delta") or {}).get(ROOT_STATE, {}):
            self._snapshots += 1
            self._last_snapshot_at = len(self.updates) - 1
        assert self._arrived is not None
        self._arrived.set()

    async def _on_disconnect(self, *_reason) -> None:
        self.disconnected = True
        if self._arrived is not None:
            self._arrived.set()

    async def send(self, name: str, payload: Any = None, *, raw: Any = None) -> None:
        """Emit one event by its full handler name; ``raw`` sends an arbitrary frame instead."""
        assert self._client is not None, "open() first"
        if self.disconnected:
            raise ConnectionError("the portal closed this tab's connection")
        frame = raw if raw is not None else {"name": name, "payload": {} if payload is None else payload,
                                             "router_data": router_data_for(self.page)}
        await self._client.emit("event", frame, namespace=NAMESPACE)

    async def call(self, name: str, payload: Any = None, *, quiet: bool = True) -> list[dict]:
        """Call a handler and return every update it caused (up to and including the snapshot).
        ``quiet=False`` when the handler cannot start background work: the snapshot is enough."""
        first = len(self.updates)
        await self.send(name, payload)
        await self.settle(quiet=quiet)
        return self.updates[first:]

    async def settle(self, *, quiet: bool = True) -> None:
        """Wait until everything sent so far was processed: sentinel rounds until one brings
        nothing but its snapshot, then (for background work) a quiet line."""
        for round_number in range(1, MOST_SENTINEL_ROUNDS + 1):
            previous = self._last_snapshot_at
            await self._sentinel_round()
            if round_number >= 2 and self._last_snapshot_at == previous + 1:
                break
        while quiet:
            try:
                await self._wait_for_update(QUIET_S)
            except TimeoutError:
                return

    async def _sentinel_round(self) -> None:
        wanted = self._snapshots + 1
        await self.send(f"{ROOT_STATE}.hydrate")
        deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT_S
        while self._snapshots < wanted:
            await self._wait_for_update(deadline - asyncio.get_running_loop().time())

    async def _wait_for_update(self, timeout: float) -> None:
        assert self._arrived is not None
        if self.disconnected:
            raise ConnectionError("the portal closed this tab's connection")
        if timeout <= 0:
            raise TimeoutError("the portal did not answer")
        self._arrived.clear()
        await asyncio.wait_for(self._arrived.wait(), timeout)
        if self.disconnected:
            raise ConnectionError("the portal closed this tab's connection")

    def state(self) -> dict[str, dict]:
        """The tab's state as the browser would hold it: every delta merged, names unmangled."""
        merged: dict[str, dict] = {}
        for update in self.updates:
            for path, changes in (update.get("delta") or {}).items():
                target = merged.setdefault(path, {})
                for key, value in changes.items():
                    target[key.removesuffix("_rx_state_")] = value
        return merged

    def var(self, state_cls, name: str) -> Any:
        return self.state().get(state_cls.get_full_name(), {}).get(name)


def text_of(updates: list[dict]) -> str:
    """Everything the client received, as one string to search."""
    return json.dumps(updates, ensure_ascii=False, default=str)


async def is_alive(portal: str) -> bool:
    """The portal still answers events: a fresh tab hydrates."""
    async with ForgedTab(portal) as tab:
        return any(SNAPSHOT_MARK in (u.get("delta") or {}).get(ROOT_STATE, {}) for u in tab.updates)
