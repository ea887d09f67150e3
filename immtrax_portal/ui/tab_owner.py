"""A tab's state belongs to the session it was built for, not to whoever presents its token.

Reflex keeps each tab's state under the tab's client token, and a client that presents the token
gets that state back on connect (the hydrate snapshot is sent before any on_load guard runs). The
token sits in the browser's session storage and outlives sign-out. So before any event is
processed, this middleware compares the live session of the connection the event came in on with
the one the tab's state was built under; if they differ (signed out or expired since, another
person, no cookie at all), every app state of the tab is reset to its defaults first. Nothing
built for the old session can then be sent, and the page's on_load re-derives what the new caller
may see.

Reflex's reset keeps the router data (the tab's last address, headers and connection), and merges
each event's router data over what the state held: an event that names no address would leave
the old session's last address (an ``/agreement/<token>`` link) in the router vars it sends. So
the reset also rebuilds the router vars from the current event's own router data alone.
"""

from __future__ import annotations

import functools

from reflex.middleware import Middleware
from reflex_base import constants
from reflex_base.event.context import EventContext

from immtrax_portal.auth.sessions import (
    caller_from_cookie_header,
    cookie_value,
    hash_of,
    person_from_cookie_header,
    session_cookie_name,
)
from immtrax_portal.ui.state.guard import _EVENT_CALLER, off_loop
from immtrax_portal.ui.state.session import SessionState


def session_fingerprint(cookie_header: str | None) -> str:
    """Which live session a connection presents: the hash of its session cookie, or "" for none,
    and "" too once that session was signed out or expired (the same cookie then stands for
    nobody, so the state built while it was live must not be sent)."""
    raw = cookie_value(cookie_header, session_cookie_name())
    if not raw or person_from_cookie_header(cookie_header, touch=False) is None:
        return ""
    return hash_of(raw)


def _app_state_classes(cls=SessionState):
    yield cls
    for sub in cls.get_substates():
        yield from _app_state_classes(sub)


def _current_router_data(event) -> dict:
    """The router data the event is processed with: its own, or (a chained event carries none)
    the one its context inherited from the event that produced it."""
    if event.router_data:
        return dict(event.router_data)
    try:
        return dict(EventContext.get().router_data)
    except LookupError:
        return {}


def forget_router_data(root, event) -> None:
    """The root state's router vars and data as if the tab had only ever sent ``event``."""
    fields = root.get_fields()
    for name in constants.ROUTER_VARS:
        setattr(root, name, fields[name].default_value())
    root.router_data = root._update_router_vars(_current_router_data(event), {})


def _is_background(event_name: str) -> bool:
    try:
        from reflex_base.registry import RegistrationContext

        return RegistrationContext.get().event_handlers[event_name].handler.is_background
    except Exception:  # noqa: BLE001 - unknown to the registry (a hydrate): an ordinary event
        return False


class TabOwnerMiddleware(Middleware):
    """Looks the caller up once per event (in a worker thread) for the session check below, and
    leaves it for the guard's door (``SessionState._resolve_caller``) to reuse. A background
    event (a page's watcher) lives on long after this: it neither counts as activity on the
    session nor leaves its caller behind; its door looks up afresh."""

    async def preprocess(self, app, state, event):
        root = state._get_root_state()
        session_state = await root.get_state(SessionState)
        cookie = root.router.headers.cookie
        background = _is_background(event.name)
        caller = await off_loop(functools.partial(caller_from_cookie_header, cookie, touch=not background))
        _EVENT_CALLER.set(None if background else (cookie, caller))
        presented = caller.session_hash if caller is not None else ""
        if session_state._session_fingerprint != presented:
            # Load every app state first: a state manager that loads lazily (Redis) would
            # otherwise bring back a substate's old values later.
            for cls in _app_state_classes():
                await root.get_state(cls)
            session_state.reset()
            forget_router_data(root, event)
            session_state._session_fingerprint = presented
        return None
