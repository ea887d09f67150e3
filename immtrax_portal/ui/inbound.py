"""No message a client sends can stall the portal: every inbound event is size-bounded before any
work is done, and Reflex's built-in frontend-error handler (callable by anyone) is bounded and
rate-limited.

Reflex runs every event of a worker on one event loop, so one slow event holds every tab of that
worker. What a client controls is the size and the text of its messages:

- **Size.** The largest legitimate event is the staff form for a new User Agreement version: at
  most 50,000 characters of body, 200 of title, 40 of label and 12 statements of 500 (the
  service's limits), about 56,000 characters, and under 120,000 as sent even if every character
  needs a JSON escape: under a quarter of the limits below, decoded and as sent
  (tests/unit/test_inbound.py). The organization import is an HTTP upload (``/_upload``), not an
  event. So an event whose text adds up to more than ``MAX_EVENT_CHARS`` (256 K characters) is
  refused before it is queued: the tab gets a
  plain message, nothing runs, and the refusal is logged once per connection with a count.
  Engine.IO's own limit (``ENGINE_IO_MAX_CHARS``, twice that) closes the connection of anyone
  sending a frame larger still, before it is even decoded.
- **The frontend-error handler.** ``FrontendEventExceptionState.handle_frontend_exception`` logs
  whatever ``info`` it is given, after regexes with quadratic backtracking (its auto-reload
  patterns, rich's markup escape). Its text is cut to ``MAX_FRONTEND_ERROR_CHARS`` before
  Reflex sees it, its auto-reload patterns are replaced by linear ones with the same meaning,
  and each connection may report ``FRONTEND_ERRORS_PER_TAB`` errors a minute (the whole worker
  ``FRONTEND_ERRORS_PER_WORKER``); past that, reports are dropped and counted, not logged.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from typing import Any

from reflex.middleware import Middleware
from reflex.state import FrontendEventExceptionState, StateUpdate
from reflex_base.constants import SocketEvent
from reflex_base.event import Event
from reflex_components_sonner.toast import toast

from immtrax_portal.log_redaction import one_line

_log = logging.getLogger("immtrax_portal.inbound")

MAX_EVENT_CHARS = 256 * 1024
ENGINE_IO_MAX_CHARS = 2 * MAX_EVENT_CHARS
# Counted per value besides its text, so that a frame of a million empty strings is large too.
_PER_VALUE = 8

MAX_FRONTEND_ERROR_CHARS = 1_000
FRONTEND_ERRORS_PER_TAB = 5
FRONTEND_ERRORS_PER_WORKER = 30
FRONTEND_ERROR_WINDOW_S = 60.0
FRONTEND_EXCEPTION_EVENT = f"{FrontendEventExceptionState.get_full_name()}.handle_frontend_exception"

TOO_LARGE_TITLE = "That was too much to send at once."
TOO_LARGE_ADVICE = ("Nothing was saved or changed. Shorten what you entered (a User Agreement text "
                    "can be up to 50,000 characters) and try again.")


def exceeds(value: Any, limit: int = MAX_EVENT_CHARS) -> bool:
    """Whether decoded JSON ``value`` holds more than ``limit`` characters (keys, strings, and a
    few for every other value). Stops as soon as the limit is passed, and walks without recursion,
    so the check itself costs no more than the limit allows."""
    total, pending = 0, [value]
    while pending:
        item = pending.pop()
        total += _PER_VALUE
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                total += len(key) if isinstance(key, str) else _PER_VALUE
                pending.append(inner)
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        if total > limit:
            return True
    return False


def too_large_notice() -> StateUpdate:
    """What the tab is told when its event was refused for its size."""
    return StateUpdate(events=Event.from_event_type(toast(
        TOO_LARGE_TITLE, level="error", description=TOO_LARGE_ADVICE, position="top-center",
        fallback_to_alert=True, close_button=True, id="event_too_large")))


class _RefusalCounter:
    """Refusals per connection, logged the first time and then at 10, 100, 1000 … (one line with
    the count, not one per refusal)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)

    def count(self, key: str) -> int | None:
        self.counts[key] += 1
        n = self.counts[key]
        return n if n == 1 or (n >= 10 and str(n).rstrip("0") == "1") else None

    def forget(self, key: str) -> None:
        self.counts.pop(key, None)


def bound_event_size(namespace) -> None:
    """Wrap the namespace's ``on_event`` (which the boot event of a connection also goes through)
    so that an oversized event is answered with a notice and never queued."""
    receive = namespace.on_event
    disconnect = namespace.on_disconnect
    refusals = _RefusalCounter()

    async def on_event(sid: str, data: Any):
        if exceeds(data):
            if (count := refusals.count(sid)) is not None:
                _log.warning("refused an event over %d characters from connection %s (%d so far)",
                             MAX_EVENT_CHARS, one_line(str(sid), 64), count)
            await namespace.emit(str(SocketEvent.EVENT), too_large_notice(), to=sid)
            return None
        return await receive(sid, data)

    def on_disconnect(sid: str, *_reason):
        refusals.forget(sid)
        return disconnect(sid)

    namespace.on_event = on_event
    namespace.on_disconnect = on_disconnect


def install_inbound_limits(app) -> None:
    """Bound every event of ``app`` by size and make its frontend-error handler safe."""
    app.sio.eio.max_http_buffer_size = ENGINE_IO_MAX_CHARS
    bound_event_size(app.event_namespace)
    FrontendEventExceptionState.auto_reload_on_errors = LINEAR_AUTO_RELOAD_PATTERNS
    app.add_middleware(FrontendErrorMiddleware(), index=0)


# The same errors Reflex reloads the page for (Chrome/Edge, Safari, two Firefox forms), written so
# that each search is linear: the quoted names are bounded and cannot run past a quote or a line.
LINEAR_AUTO_RELOAD_PATTERNS = [
    re.compile(re.escape("TypeError: Cannot read properties of null")),
    re.compile(re.escape("TypeError: null is not an object")),
    re.compile(r"TypeError: can't access property \"[^\"\n]{0,200}+\" of null"),
    re.compile(r"TypeError: can't access property \"[^\"\n]{0,200}+\", [^\n]{0,200}? is null"),
]


def log_frontend_error(exception: Exception) -> None:
    """The app's frontend exception handler: one bounded line (Reflex's default is unbounded)."""
    _log.error("frontend error reported by a browser: %s", one_line(str(exception), MAX_FRONTEND_ERROR_CHARS))


class FrontendErrorMiddleware(Middleware):
    """Cuts a frontend-error report to a bounded size and drops reports past the per-tab and
    per-worker budgets, before Reflex's handler runs its regexes on the text."""

    def __init__(self) -> None:
        self._window_start = 0.0
        self._per_tab: dict[str, int] = defaultdict(int)
        self._in_window = 0
        self._dropped = 0

    def _allowed(self, tab: str) -> bool:
        now = time.monotonic()
        if now - self._window_start > FRONTEND_ERROR_WINDOW_S:
            if self._dropped:
                _log.warning("dropped %d frontend error reports over the budget in the last minute",
                             self._dropped)
            self._window_start, self._in_window, self._dropped = now, 0, 0
            self._per_tab.clear()
        if self._per_tab[tab] >= FRONTEND_ERRORS_PER_TAB or self._in_window >= FRONTEND_ERRORS_PER_WORKER:
            self._dropped += 1
            return False
        self._per_tab[tab] += 1
        self._in_window += 1
        return True

    async def preprocess(self, app, state, event):
        if event.name != FRONTEND_EXCEPTION_EVENT:
            return None
        if not isinstance(event.payload, dict) or not self._allowed(state.router.session.client_token):
            return StateUpdate()
        bounded = {name: _text_start(event.payload.get(name, "")) for name in ("info", "component_stack")}
        event.payload.clear()
        event.payload.update(bounded)
        return None


def _text_start(value: Any) -> str:
    """The start of a report field as text (a forged client may send anything there)."""
    return (value if isinstance(value, str) else "")[:MAX_FRONTEND_ERROR_CHARS]
