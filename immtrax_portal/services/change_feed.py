"""Telling open pages that something they show has changed, at a cost independent of their number.

Every change the portal makes is an audit event written in the same transaction, so the newest
successful audit events are the portal's change log. One watcher per server process polls it with
a single indexed query (``audit_event.id > last seen``, primary-key range scan, usually empty) a
few times a second, and only while at least one page listens. Each open page holds a
``Subscription`` and sleeps on it; the watcher wakes the subscriptions with the batch of changes,
and each page decides from its ``Scope`` whether the batch touches what it shows before it
re-reads anything. The database therefore sees ``poll rate`` queries per process while idle,
whatever the number of pages, and one re-read per page that displays a change.

Plain Python and asyncio, no Reflex: the pages' side lives in ``ui/state/live.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AccessRequest, AuditEvent

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
BATCH_LIMIT = 500
MAX_PENDING = 200


class Shows(StrEnum):
    """What a page can show, in the terms changes are sorted into (a page declares which in its
    ``Scope``; a change wakes only pages that show its kind)."""

    REQUESTS = "requests"  # requests: their rows, counts, statuses and histories
    ROSTER = "roster"      # who holds access where; organizations and their supervisors


EVERY_KIND = frozenset(Shows)


@dataclass(frozen=True)
class Change:
    """One successful audit event, reduced to what decides who must look again."""

    id: int
    organization_id: int | None = None
    request_id: int | None = None
    subject_person_id: int | None = None
    submitter_id: int | None = None
    action: str = ""
    # A subscription that fell too far behind gets one of these instead of its backlog.
    touches_everything: bool = False

    @property
    def changes_grants(self) -> bool:
        """Whether rosters may show something new: the action's own ``changes_roster`` (grants
        move, or an organization or its supervisors changed). An action this version does not
        know (a row from a newer one) is taken to change everything."""
        known = AuditAction.parse(self.action)
        return self.touches_everything or known is None or known.changes_roster

    @property
    def kinds(self) -> frozenset[Shows]:
        """Which kinds of page content this change may alter (everything, when in doubt)."""
        if self.touches_everything or AuditAction.parse(self.action) is None:
            return EVERY_KIND
        kinds = set()
        if self.request_id is not None:
            kinds.add(Shows.REQUESTS)
        if self.changes_grants:
            kinds.add(Shows.ROSTER)
        return frozenset(kinds)


@dataclass(frozen=True)
class Scope:
    """What one open page shows, in the terms changes are described in: which kinds of content
    (``shows``), and of what (everything, some organizations, some requests, one person's)."""

    everything: bool = False
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    request_ids: frozenset[int] = field(default_factory=frozenset)
    person_id: int | None = None
    shows: frozenset[Shows] = EVERY_KIND

    def touches(self, change: Change) -> bool:
        if change.touches_everything:
            return True
        if not self.shows & change.kinds:
            return False
        if self.everything:
            return True
        if change.organization_id is not None and change.organization_id in self.organization_ids:
            return True
        if change.request_id is not None and change.request_id in self.request_ids:
            return True
        return self.person_id is not None and self.person_id in (change.subject_person_id,
                                                                 change.submitter_id)

    def touched_by_any(self, changes: list[Change]) -> bool:
        return any(self.touches(change) for change in changes)


# --- The one query ------------------------------------------------------------------------------

def newest_change_id() -> int:
    """Where the change log ends now (0 when it is empty)."""
    with session_scope() as session:
        return session.exec(select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0))).one()


def changes_after(last_id: int, limit: int = BATCH_LIMIT) -> list[Change]:
    """Successful audit events after ``last_id`` that concern a request or an organization
    (sign-ins, sign-outs and refusals change no dashboard), oldest first."""
    with session_scope() as session:
        rows = session.exec(
            select(AuditEvent.id, AuditEvent.organization_id, AuditEvent.request_id,
                   AccessRequest.subject_person_id, AccessRequest.submitter_id, AuditEvent.action)
            .join(AccessRequest, AccessRequest.id == AuditEvent.request_id, isouter=True)
            .where(AuditEvent.id > last_id, AuditEvent.outcome == AuditOutcome.SUCCESS,
                   sa.or_(AuditEvent.request_id.is_not(None),  # type: ignore[union-attr]
                          AuditEvent.organization_id.is_not(None)))  # type: ignore[union-attr]
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
        return [Change(*row) for row in rows]


# --- Subscriptions ------------------------------------------------------------------------------

class Subscription:
    """One listening page. ``next_changes`` returns the changes since the last call, ``[]`` when
    the timeout passed quietly, or ``None`` once the subscription is closed."""

    def __init__(self, feed: ChangeFeed, key: object) -> None:
        self._feed, self.key = feed, key
        self._pending: list[Change] = []
        self._wake = asyncio.Event()
        self.closed = False

    def _deliver(self, changes: list[Change]) -> None:
        self._pending.extend(changes)
        if len(self._pending) > MAX_PENDING:
            # Bounded memory: a page that fell behind simply looks again.
            self._pending = [Change(id=self._pending[-1].id, touches_everything=True)]
        self._wake.set()

    async def next_changes(self, timeout: float) -> list[Change] | None:
        if not self.closed and not self._pending:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
        self._wake.clear()
        if self.closed:
            return None
        changes, self._pending = self._pending, []
        return changes

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._wake.set()
            self._feed._forget(self)


class ChangeFeed:
    """The per-process watcher. It runs only while somebody listens, on the loop they listen on."""

    def __init__(self, *, poll_seconds: float = POLL_SECONDS,
                 read_newest: Callable[[], int] = newest_change_id,
                 read_after: Callable[[int], list[Change]] = changes_after) -> None:
        self.poll_seconds = poll_seconds
        self._read_newest, self._read_after = read_newest, read_after
        self._subscriptions: dict[object, Subscription] = {}
        self._task: asyncio.Task | None = None
        self._last_id: int | None = None
        self.polls = 0  # how many times the change log was read (for tests and the benchmark)

    @property
    def listeners(self) -> int:
        return len(self._subscriptions)

    @property
    def watching(self) -> bool:
        """Whether the watcher task is still alive (it ends after its last poll, once nobody listens)."""
        return self._task is not None and not self._task.done()

    def subscribe(self, key: object = None) -> Subscription:
        """A new subscription; one with the same ``key`` (a tab's page) is closed, so one tab
        can never hold more than one, however often it asks."""
        key = object() if key is None else key
        if (earlier := self._subscriptions.get(key)) is not None:
            earlier.close()
        subscription = Subscription(self, key)
        self._subscriptions[key] = subscription
        self._ensure_running()
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        if self._subscriptions.get(subscription.key) is subscription:
            del self._subscriptions[subscription.key]

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._last_id = None
            # A context of its own: the watcher serves every page, not the event that started it
            # (its log lines must not carry that event's id or actor).
            self._task = loop.create_task(self._watch(), name="immtrax-change-feed",
                                          context=contextvars.Context())

    async def _watch(self) -> None:
        while self._subscriptions:
            try:
                await self._poll_once()
            except Exception:  # a database hiccup must not end live updates for good
                logger.exception("change feed poll failed; retrying")
            await asyncio.sleep(self.poll_seconds)
        self._task = None

    async def _poll_once(self) -> None:
        if self._last_id is None:
            self._last_id = await asyncio.to_thread(self._read_newest)
            self.polls += 1
            return
        changes = await asyncio.to_thread(self._read_after, self._last_id)
        self.polls += 1
        if not changes:
            return
        self._last_id = changes[-1].id
        for subscription in list(self._subscriptions.values()):
            subscription._deliver(changes)


FEED = ChangeFeed()
