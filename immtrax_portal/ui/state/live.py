"""Live updates for any page state: three declarations, one background event per open tab.

A page state mixes in ``LiveUpdates`` and declares three things:

- ``_live_rule()``: who may watch it, a ``Rule`` of the rulebook (default: signed in). The watcher
  opens through the guard's own door (``SessionState._admit``): the caller from the session
  cookie, the rule applied, a refusal recorded once and shown, nothing read.
- ``_live_scope(actor)``: what the page shows (``services.change_feed.Scope``: which kinds of
  content, ``Shows.REQUESTS`` and/or ``Shows.ROSTER``, of everything, some organizations, some
  requests or one person's). Default: a dashboard's (``scope_for``).
- ``_refresh_live(actor, changes)``: re-read only the parts the changes touch (default: the whole
  ``_refresh(actor)``). A page with a form must not redraw the form here: only its data.
- or, to share one read per change among every tab showing the same view,
  ``_refresh_live_shared(actor, changes)`` (async): ask ``self._shared_view(view_key, changes,
  read)`` for each part and apply what comes back (``services.shared_reads``; the view key holds
  everything that decides the part's rows, and the page checks with the rulebook that ``actor`` may
  see the part before asking for it).

Tabs woken by the same change also share the caller's re-derivation: their session cookies are
checked with one statement (``BatchedLookup``), and the roles of each person are read once per
change (the page's rule is still applied to each tab's own caller).

Its on_load handler chains ``watch_live`` once the page is shown. ``watch_live`` subscribes to
the process's change feed (``services.change_feed.FEED``) and sleeps; it touches the database only
when the feed reports a change that the page's ``Scope`` displays, and then re-derives the caller
from the session cookie before re-reading. It ends when the tab goes away, when the same tab starts
another one (a reload or a second call), when the session has ended, when the caller may no longer
see the page, or after the session idle time: live updates never keep a session alive.

    class QueueState(LiveUpdates, SessionState):
        def _live_rule(self) -> Rule:
            return Rule.STAFF

        def _live_scope(self, actor) -> Scope:
            return Scope(everything=True, shows=frozenset({Shows.REQUESTS}))

        def load(self):
            ...
            return QueueState.watch_live
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from immtrax_portal.auth.sessions import (
    people_for_session_hashes,
    session_hash_from_cookie_header,
)
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule, rule_refusal
from immtrax_portal.operations import metrics
from immtrax_portal.program_time import program_clock
from immtrax_portal.services.actors import actor_for
from immtrax_portal.services.change_feed import FEED, Change, Scope
from immtrax_portal.services.shared_reads import BatchedLookup, SharedReads
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.guard import _EVENT_LOOP
from immtrax_portal.ui.state_loss import notice_and_reload, tab_state_lost

logger = logging.getLogger(__name__)

# How often a quiet page checks that its tab is still there.
HEARTBEAT_SECONDS = 10.0


# Per process: the views read once per change (shared by the tabs showing them), and the session
# cookies of the tabs woken by one change, checked together.
VIEWS = SharedReads()
SESSIONS = BatchedLookup(people_for_session_hashes)


def _actor_of(person) -> Actor:
    with session_scope() as session:
        return actor_for(session, person)


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

    def _live_rule(self) -> Rule:
        """Who may watch this page (the rule its on_load handler is guarded by)."""
        return Rule.SIGNED_IN

    def _live_scope(self, actor: Actor) -> Scope:
        """What this page displays; pages showing one request narrow it to that request."""
        return scope_for(actor)

    def _refresh(self, actor: Actor) -> None:  # pragma: no cover - every page defines its own
        raise NotImplementedError

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read after ``changes``; a page with several parts may re-read only those touched."""
        self._refresh(actor)

    async def _refresh_live_shared(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read after ``changes``, sharing reads with other tabs (default: this tab's own)."""
        await asyncio.to_thread(self._refresh_live, actor, changes)

    async def _shared_view(self, view_key, changes: list[Change], read):
        """The rows of one view after ``changes``: read once per change for every tab asking with
        the same key (a deep copy each). The caller must already be allowed to see the view."""
        return await VIEWS.get(view_key, changes[-1].id, read)

    async def _shared_live_actor(self, change_id: int) -> Actor | None:
        """``_live_actor`` shared among the tabs woken by one change: the session cookie checked in
        one statement with theirs, the person's roles read once; the page's rule applied here."""
        id_hash = session_hash_from_cookie_header(self.router.headers.cookie)
        if id_hash is None:
            return None
        person = await SESSIONS.get(id_hash, change_id)
        if person is None:
            return None
        actor = await VIEWS.get(("caller", person.id), change_id, lambda: _actor_of(person))
        return actor if rule_refusal(self._live_rule(), actor) is None else None

    @rx.event(background=True)
    async def watch_live(self):
        """Keep this tab's page current until the tab goes away (bounded; see the module)."""
        _EVENT_LOOP.set(asyncio.get_running_loop())
        async with self:
            # The guard's door: the caller from the cookie, the page's rule, one recorded refusal.
            actor, _person, refused = await asyncio.to_thread(
                self._admit, self._live_rule(), AuditAction.LIVE_WATCH, False)
            if actor is None:
                self.live = False
        if actor is None:
            if refused is not None:
                yield refused
            return
        async with self:
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
                    # Tabs woken by the same change share the reads of the same view.
                    actor = await self._shared_live_actor(changes[-1].id)
                    if actor is None:
                        ended = "Your session has ended. Sign in again to see the latest."
                        return
                    try:
                        await self._refresh_live_shared(actor, changes)
                    except NotAllowed:   # no longer theirs to see: stop, show nothing new
                        ended = "Live updates stopped: this page is no longer yours to see."
                        return
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
