"""Live updates for any page state: one line to add, one background event per open tab.

A page state mixes in ``LiveUpdates`` and already has ``_refresh(actor)`` (re-read its visible
page and set its display vars). Its on_load handler chains ``watch_live`` once the page is shown.
``watch_live`` subscribes to the process's change feed (``services.change_feed.FEED``) and
sleeps; it touches the database only when the feed reports a change that the page's ``Scope``
displays, and then re-derives the caller from the session cookie before re-reading. It ends when
the tab goes away, when the same tab starts another one (a reload or a second call), when the
session has ended, or after the session idle time: live updates never keep a session alive.

    class QueueState(LiveUpdates, SessionState):
        ...
        def load(self):
            ...
            return QueueState.watch_live
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from immtrax_portal.auth.sessions import person_from_cookie_header
from immtrax_portal.db import session_scope
from immtrax_portal.domain.permissions import Actor
from immtrax_portal.operations import metrics
from immtrax_portal.program_time import program_clock
from immtrax_portal.services.actors import actor_for
from immtrax_portal.services.change_feed import FEED, Change, Scope
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state_loss import notice_and_reload, tab_state_lost

logger = logging.getLogger(__name__)

# How often a quiet page checks that its tab is still there.
HEARTBEAT_SECONDS = 10.0


def scope_for(actor: Actor, request_ids: frozenset[int] = frozenset()) -> Scope:
    """What a dashboard shows: staff see everything; others their organizations and themselves."""
    return Scope(everything=actor.is_program_staff, organization_ids=actor.supervised_org_ids,
                 request_ids=request_ids, person_id=actor.person_id)


async def _tab_is_open(token: str) -> bool:
    """Whether the tab's websocket is still connected (assume yes if Reflex cannot say)."""
    try:
        from reflex_base.registry import RegistrationContext

        namespace = RegistrationContext.get().app.event_namespace
        if namespace is None:
            return True
        return await namespace._token_manager.is_token_connected(token)
    except Exception:  # an internal of Reflex moved: fall back on the maximum lifetime
        return True


def _clock() -> str:
    return program_clock()


class LiveUpdates(rx.State, mixin=True):
    """Mix into a SessionState subclass that defines ``_refresh(actor)``."""

    live: bool = False
    live_updated_at: str = ""
    live_note: str = ""

    def _live_scope(self, actor: Actor) -> Scope:
        """What this page displays; pages showing one request narrow it to that request."""
        return scope_for(actor)

    def _live_actor(self) -> Actor | None:
        """The caller from the cookie, without counting as activity on the session."""
        person = person_from_cookie_header(self.router.headers.cookie, touch=False)
        if person is None:
            return None
        with session_scope() as session:
            return actor_for(session, person)

    def _refresh(self, actor: Actor) -> None:  # pragma: no cover - every page defines its own
        raise NotImplementedError

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read after ``changes``; a page with several parts may re-read only those touched."""
        self._refresh(actor)

    @rx.event(background=True)
    async def watch_live(self):
        """Keep this tab's page current until the tab goes away (bounded; see the module)."""
        async with self:
            actor = self._live_actor()
            if actor is None:
                self.live = False
                return
            scope = self._live_scope(actor)
            token = self.router.session.client_token
            self.live, self.live_note, self.live_updated_at = True, "", _clock()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + get_settings().session_idle_minutes * 60
        subscription = FEED.subscribe((token, self.get_full_name()))
        metrics.LIVE_PAGES.inc()
        ended = "Live updates paused. Reload the page to resume them."
        try:
            while loop.time() < deadline:
                changes = await subscription.next_changes(timeout=HEARTBEAT_SECONDS)
                if changes is None:  # this tab started a newer watcher
                    ended = ""
                    return
                if not await _tab_is_open(token):
                    return
                if changes and not scope.touched_by_any(changes):
                    continue
                if await tab_state_lost(token):
                    # Redis lost this tab's state: the page would never update again.
                    ended = ""
                    yield notice_and_reload()
                    return
                if not changes:
                    continue
                async with self:
                    # The reads run in a worker thread so that the event loop keeps serving every
                    # other tab (and the watcher) while this one re-reads; the tab's lock is held.
                    actor = await asyncio.to_thread(self._live_actor)
                    if actor is None:
                        ended = "Your session has ended. Sign in again to see the latest."
                        return
                    await asyncio.to_thread(self._refresh_live, actor, changes)
                    scope = self._live_scope(actor)
                    self.live_updated_at = _clock()
        finally:
            subscription.close()
            metrics.LIVE_PAGES.dec()
            if ended:
                try:
                    async with self:
                        self.live, self.live_note = False, ended
                except Exception:  # the tab's state may be gone with the tab
                    logger.debug("could not mark live updates paused", exc_info=True)
