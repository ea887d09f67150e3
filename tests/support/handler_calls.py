"""Calling Reflex event handlers directly, as a client would over the websocket, without a browser.

A state gets a router whose Cookie header carries a real server-side session, so handlers re-derive
the caller exactly as they do behind the websocket. Swapping the cookie under the same state is what
a replayed tab token presented by another person looks like.
"""

from __future__ import annotations

from datetime import timedelta

import reflex as rx
from reflex.istate.data import RouterData

from immtrax_portal.auth.sessions import hash_of, new_random_id, session_cookie_name
from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import WebSession, utcnow

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")
SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Safari/605.1.15")


def cookie_for(person_id: int) -> str:
    """The Cookie header of a freshly signed-in browser of ``person_id``."""
    raw = new_random_id()
    now = utcnow()
    with session_scope() as session:
        session.add(WebSession(id_hash=hash_of(raw), person_id=person_id, created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(hours=8)))
    return f"{session_cookie_name()}={raw}"


def use_cookie(state: rx.State, cookie: str, user_agent: str = CHROME, path: str = "/") -> None:
    router_data = {"headers": {"cookie": cookie, "user-agent": user_agent},
                   "pathname": path, "asPath": path, "ip": "203.0.113.5",
                   "token": "tab-token", "sid": "sid"}
    root = state._get_root_state()
    root.router_data = router_data
    root.router = RouterData.from_router_data(router_data)


def state_as(state_cls: type[rx.State], person_id: int | None, *, path: str = "/",
             user_agent: str = CHROME):
    """A fresh ``state_cls`` in a fresh tab whose browser is signed in as ``person_id`` (or nobody)."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(state_cls.get_full_name().split(".")[1:])
    use_cookie(state, cookie_for(person_id) if person_id else "", user_agent, path)
    return state


def run(result):
    """Drain a generator handler the way Reflex would; the events it yielded or returned."""
    if hasattr(result, "__next__"):
        return [event for event in result if event is not None]
    return [result] if result is not None else []
