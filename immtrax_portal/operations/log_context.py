"""Which request, event and actor a log line belongs to, carried in context variables.

Set where the work starts (the HTTP middleware, the event middleware, the place the caller is
resolved from the session cookie) and read by the log formatter, so no log call has to pass them.
Only identifiers: a request or event id the portal made up, and the actor's numeric person id,
never a name or an email address.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("immtrax_request_id", default="")
event_id: ContextVar[str] = ContextVar("immtrax_event_id", default="")
actor_id: ContextVar[int | None] = ContextVar("immtrax_actor_id", default=None)

# A request id a proxy in front of us made up may be reused, if it looks like an id and nothing more.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def new_id() -> str:
    return secrets.token_hex(8)


def request_id_from_header(value: str | None) -> str:
    """The proxy's ``X-Request-ID`` when it is a plain id (so logs of both can be joined), else new."""
    if value and _ACCEPTABLE_REQUEST_ID.fullmatch(value):
        return value
    return new_id()


def start_event() -> None:
    """A new event begins: a fresh event id, and no actor until the caller is resolved again."""
    event_id.set(new_id())
    request_id.set("")
    actor_id.set(None)


def current() -> dict[str, object]:
    """The ids set for the work in progress (empty ones left out)."""
    found: dict[str, object] = {}
    if value := request_id.get():
        found["request_id"] = value
    if value := event_id.get():
        found["event_id"] = value
    if (actor := actor_id.get()) is not None:
        found["actor_id"] = actor
    return found
