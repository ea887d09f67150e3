"""A tab whose server state was lost says so and reloads itself.

With several workers, each tab's state lives in Redis. When Redis restarts empty (or a tab's keys
expire after an idle hour) the tab keeps its websocket, but the server answers its next event from
a fresh, default state: the wizard would jump to step 1, a dashboard's live updates would stop,
and nothing would say why. Reflex notices only that router data is missing and re-sends that
empty state.

So every tab's state carries a backend-only marker, set when the tab hydrates (every page load
and every websocket reconnect starts with ``hydrate_and_load``). An event that arrives for a
state without the marker comes from a tab whose state was lost: instead of running the handler
on empty state, the server tells the tab to show a notice and reload the same address. The page's
on_load then rebuilds everything from the database (the wizard's draft included). The live-update
watcher checks the marker on its heartbeat, so a dashboard nobody touches reloads too.
"""

from __future__ import annotations

import functools
import json
import logging
import time

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import StateUpdate
from reflex_base.event import Event
from reflex_base.utils.format import format_event_handler

log = logging.getLogger(__name__)

NOTICE = ("This page lost its place on the server (the server restarted, or the page sat unused too "
          "long). It reloads now; your saved work comes back.")
RELOAD_DELAY_MS = 2500
_HYDRATE_HANDLERS = ("hydrate", "hydrate_and_load")


# Redis writes back only the states an event changed, each with a one-hour expiry; the marker is
# rewritten at least this often while the tab is used, so it never expires before the rest.
MARKER_REFRESH_SECONDS = 300


class ServerStateMarker(rx.State):
    """One small backend-only flag per tab: its server state went through a hydrate."""

    _hydrated: bool = False
    _written_at: float = 0.0


def notice_and_reload() -> rx.event.EventSpec:
    """Show the notice (announced to screen readers) and reload the same address."""
    return rx.call_script(
        "(() => {"
        "if (document.getElementById('state-lost-notice')) return;"
        "const note = document.createElement('div');"
        "note.id = 'state-lost-notice'; note.setAttribute('role', 'alert');"
        "note.className = 'state-lost-notice';"
        f"note.textContent = {json.dumps(NOTICE)};"
        "document.body.prepend(note);"
        f"setTimeout(() => window.location.reload(), {RELOAD_DELAY_MS});"
        "})()"
    )


@functools.lru_cache(maxsize=1)
def _hydrate_event_names() -> frozenset[str]:
    from reflex.state import State

    return frozenset(format_event_handler(State.event_handlers[name]) for name in _HYDRATE_HANDLERS)


async def tab_state_lost(token: str) -> bool:
    """For the live watcher: whether the tab's state in Redis lost its marker. A read only: no
    lock, nothing written back (``async with self`` would save the fresh state and send the page
    its empty defaults before the notice). Without Redis a state is never lost while its process
    lives; when Redis cannot be asked, the answer is "not lost"."""
    try:
        from reflex.istate.manager.redis import StateManagerRedis
        from reflex.istate.manager.token import BaseStateToken
        from reflex_base.registry import RegistrationContext

        manager = RegistrationContext.get().app.state_manager
        if not isinstance(manager, StateManagerRedis):
            return False
        marker = await manager.get_state(BaseStateToken(ident=token, cls=ServerStateMarker), top_level=False)
    except Exception:  # noqa: BLE001 - Redis down, or an internal of Reflex moved: nothing to report
        log.debug("could not look at a tab's state marker", exc_info=True)
        return False
    return not marker._hydrated


class StateLossMiddleware(Middleware):
    """Sets the marker on hydrate; answers any other event on a state without it with the reload."""

    async def preprocess(self, app, state, event):
        marker = await state._get_root_state().get_state(ServerStateMarker)
        now = time.time()
        if event.name in _hydrate_event_names():
            marker._hydrated, marker._written_at = True, now
            return None
        if marker._hydrated:
            if now - marker._written_at > MARKER_REFRESH_SECONDS:
                marker._written_at = now  # changed, so written back with a fresh expiry
            return None
        log.warning("a tab's server state was lost (Redis emptied or the state expired): "
                    "told the tab to reload")
        return StateUpdate(events=Event.from_event_type(notice_and_reload()))
