"""Where a request or an event starts, it gets an id for the log and is counted for the metrics.

``ObservedRequestsMiddleware`` wraps the whole port (the sign-in routes and Reflex beneath them):
each HTTP request and websocket handshake gets a request id (the proxy's ``X-Request-ID`` when it
looks like one, echoed back in the response) and is counted by kind and status. ``ObservedEvents``
is a Reflex middleware: each event gets an event id and no actor until its handler resolves the
caller; it is counted, and timed until its task ends.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar

from reflex.middleware import Middleware

from immtrax_portal.operations import log_context, metrics
from immtrax_portal.operations.logs import PROBE_PATHS

# Kinds, not paths: a label per path would be unbounded (ids and tokens are in paths).
_DOWNLOAD_PREFIXES = ("/staff/queue.csv", "/signed-agreement/")


def request_kind(scope_type: str, path: str) -> str:
    if path in PROBE_PATHS or path in ("/ping", "/_health"):
        return "probe"
    if scope_type == "websocket" or path.startswith("/_event"):
        return "websocket"
    if path.startswith("/auth/"):
        return "sign_in"
    if path.startswith("/_upload"):
        return "upload"
    if path.startswith(_DOWNLOAD_PREFIXES):
        return "download"
    if "." in path.rsplit("/", 1)[-1] or path.startswith(("/_next/", "/assets/")):
        return "asset"
    return "page"


class ObservedRequestsMiddleware:
    """Pure ASGI (no response buffering; websockets pass through)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        request_id = log_context.request_id_from_header(
            headers.get(b"x-request-id", b"").decode("latin-1"))
        log_context.request_id.set(request_id)
        log_context.event_id.set("")
        log_context.actor_id.set(None)
        kind = request_kind(scope["type"], scope.get("path", ""))
        counted = False

        async def observed_send(message) -> None:
            nonlocal counted
            kind_of_message = message["type"]
            if kind_of_message == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                metrics.HTTP_REQUESTS.labels(kind=kind, status=str(message["status"])).inc()
                counted = True
            elif not counted and kind_of_message in ("websocket.accept", "websocket.close",
                                                     "websocket.http.response.start"):
                status = "101" if kind_of_message == "websocket.accept" else str(message.get("status", 403))
                metrics.HTTP_REQUESTS.labels(kind=kind, status=status).inc()
                counted = True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            if not counted:
                metrics.HTTP_REQUESTS.labels(kind=kind, status="500").inc()
            raise


class ObservedEvents(Middleware):
    """Before each event: a fresh event id for its log lines; counted and timed when done."""

    async def preprocess(self, app, state, event):
        log_context.start_event()
        handler = metrics.short_handler_name(event.name)
        outcome = {"failed": False}
        _event_outcome.set(outcome)
        task = asyncio.current_task()
        if task is None:
            metrics.EVENTS.labels(handler=handler, outcome="ok").inc()
            return None
        timed = not _is_background(event.name)  # a background event lasts as long as its page
        started = time.perf_counter()

        def observe(_task) -> None:
            metrics.EVENTS.labels(handler=handler, outcome="error" if outcome["failed"] else "ok").inc()
            if timed:
                metrics.EVENT_SECONDS.labels(handler=handler).observe(time.perf_counter() - started)

        task.add_done_callback(observe)
        return None


def _is_background(event_name: str) -> bool:
    try:
        from reflex_base.registry import RegistrationContext

        return RegistrationContext.get().event_handlers[event_name].handler.is_background
    except Exception:  # noqa: BLE001 - unknown to the registry: time it like any other
        return False


# Set per event task by ObservedEvents; the backend exception handler marks it failed.
_event_outcome: ContextVar[dict | None] = ContextVar("immtrax_event_outcome", default=None)


def count_event_failure(exception: BaseException) -> None:
    """Called by the backend exception handler: the event failed (and Redis, if it was Redis)."""
    if (outcome := _event_outcome.get()) is not None:
        outcome["failed"] = True
    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        if type(exception).__module__.startswith("redis"):
            metrics.REDIS_ERRORS.labels(where="event").inc()
            return
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
