"""Socket.io clients that behave like browser tabs of a Reflex 0.10 app, for ``floor_benchmark.py``.

The wire format is the one ``tests/e2e/security/forged_client.py`` documents: websocket at
``/_event`` (namespace ``/_event``), the tab's token in the query string, the cookie and Origin in
the handshake, the boot event ``hydrate_and_load`` in the CONNECT auth payload, then
``emit("event", {"name", "payload", "router_data"})`` per call. The server answers with ``event``
messages ``{"delta": ..., "events": [...]}``.

Reflex 0.10 no longer marks the last update of an event (``StateUpdate.final`` is deprecated), so
a tab learns once, per kind of call, how many updates the call causes (``calibrate``: call, then
wait until the line is quiet) and afterwards times a call up to that many updates. A call whose
answer asks the browser to navigate (``_redirect``) is followed as the front end does: the page's
``on_load_internal`` event with the new address.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import socketio

ROOT_STATE = "reflex___state____state"
ON_LOAD_INTERNAL = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"
NAMESPACE = "/_event"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")
QUIET_S = 0.3
TIMEOUT_S = 120


def router_data_for(page: str) -> dict[str, Any]:
    parts = urlsplit(page)
    data: dict[str, Any] = {"pathname": parts.path or "/", "asPath": page}
    if parts.query:
        data["query"] = dict(parse_qsl(parts.query))
    return data


def redirect_target(update: dict) -> str | None:
    """The address of a ``_redirect`` the server asked for in this update, if any."""
    for event in update.get("events") or []:
        if event.get("name") == "_redirect":
            return (event.get("payload") or {}).get("path")
    return None


@dataclass
class Tab:
    """One connected tab; ``updates`` is every message the server sent, with its arrival time."""

    base: str
    page: str = "/"
    cookie: str = ""
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    updates: list[tuple[float, dict]] = field(default_factory=list)
    _client: socketio.AsyncClient | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self) -> Tab:
        client = socketio.AsyncClient(reconnection=False)
        client.on("event", self._on_update, namespace=NAMESPACE)
        headers = {"User-Agent": CHROME, "Origin": self.base}
        if self.cookie:
            headers["Cookie"] = self.cookie
        boot = {"name": f"{ROOT_STATE}.hydrate_and_load", "payload": {},
                "router_data": router_data_for(self.page)}
        await client.connect(f"{self.base}?token={self.token}", headers=headers,
                             transports=["websocket"], namespaces=[NAMESPACE],
                             socketio_path="/_event", auth={"event": boot}, wait_timeout=60)
        self._client = client
        deadline = time.monotonic() + TIMEOUT_S
        while not any((u.get("delta") or {}).get(ROOT_STATE, {}).get("is_hydrated_rx_state_")
                      for _, u in self.updates):
            await self._wait(deadline - time.monotonic())
        await self.quiet()
        return self

    async def close(self) -> None:
        if self._client is not None:
            await self._client.disconnect()
            self._client = None

    async def _on_update(self, update: dict) -> None:
        self.updates.append((time.perf_counter(), update))
        self._arrived.set()

    async def _wait(self, timeout: float) -> None:
        if timeout <= 0:
            raise TimeoutError(f"no answer from {self.base}")
        self._arrived.clear()
        await asyncio.wait_for(self._arrived.wait(), timeout)

    async def quiet(self, seconds: float = QUIET_S) -> None:
        while True:
            try:
                await self._wait(seconds)
            except TimeoutError:
                return

    def state_keys(self) -> set[str]:
        return {path for _, u in self.updates for path in (u.get("delta") or {})}

    async def send(self, name: str, payload: dict | None = None) -> None:
        assert self._client is not None
        await self._client.emit("event", {"name": name, "payload": payload or {},
                                          "router_data": router_data_for(self.page)},
                                namespace=NAMESPACE)

    async def calibrate(self, name: str, payload: dict | None = None) -> list[int]:
        """Call once, untimed, until quiet; returns the update count of each step (call, then each
        followed redirect's on_load)."""
        counts = []
        step: tuple[str, dict | None] | None = (name, payload)
        while step is not None:
            first = len(self.updates)
            await self.send(*step)
            deadline = time.monotonic() + TIMEOUT_S
            while len(self.updates) == first:
                await self._wait(deadline - time.monotonic())
            await self.quiet()
            new = [u for _, u in self.updates[first:]]
            counts.append(len(new))
            target = next((t for u in new if (t := redirect_target(u))), None)
            step = None
            if target:
                self.page = target
                step = (ON_LOAD_INTERNAL, None)
        return counts

    async def timed(self, name: str, payload: dict | None, counts: list[int]) -> float:
        """Seconds from sending the call to its last expected update (redirects followed)."""
        started = time.perf_counter()
        step: tuple[str, dict | None] = (name, payload)
        for index, count in enumerate(counts):
            first = len(self.updates)
            await self.send(*step)
            deadline = time.monotonic() + TIMEOUT_S
            while len(self.updates) - first < count:
                await self._wait(deadline - time.monotonic())
            if index + 1 < len(counts):
                target = next((t for _, u in self.updates[first:] if (t := redirect_target(u))), None)
                if target:
                    self.page = target
                step = (ON_LOAD_INTERNAL, None)
        return self.updates[-1][0] - started

    def text_after(self, index: int) -> str:
        return json.dumps([u for _, u in self.updates[index:]], default=str)


async def open_tabs(base: str, page: str, count: int, cookie: str = "", batch: int = 10) -> list[Tab]:
    """``count`` hydrated tabs, opened ``batch`` at a time (as a crowd of browsers would)."""
    tabs: list[Tab] = []
    while len(tabs) < count:
        group = [Tab(base, page=page, cookie=cookie) for _ in range(min(batch, count - len(tabs)))]
        tabs.extend(await asyncio.gather(*(tab.open() for tab in group)))
    return tabs


async def close_tabs(tabs: list[Tab]) -> None:
    await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)
