"""Discovering the app's handlers, making one forged call, and judging what came back."""

from __future__ import annotations

import inspect
import re
import types
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import reflex as rx

from tests.e2e.security import database
from tests.e2e.security.forged_client import ForgedTab, handler_name, text_of
from tests.e2e.security.world import World

GENERIC_ERROR = "Something went wrong"
# What Python exception text looks like; none of it may reach a browser.
EXCEPTION_TEXT = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception)\b|invalid literal|object has no attribute|"
    r"not subscriptable|unexpected keyword|positional argument|NoneType|<class '|is not iterable|"
    r"object is not callable|[Ss]qlalchemy|sqlite3|psycopg|Exceeds the limit")


def _all_states(cls=rx.State):
    yield cls
    for sub in sorted(cls.get_substates(), key=lambda c: c.get_full_name()):
        yield from _all_states(sub)


def app_states() -> list[type[rx.State]]:
    """Every state class of the portal app, as Reflex registers them when it loads the app."""
    import immtrax_portal.immtrax_portal  # noqa: F401  (importing the app registers its pages' states)

    return list(_all_states())


def discovered_handlers() -> dict[str, tuple[type[rx.State], str]]:
    """``"StateClass.handler"`` -> (class, handler) for every callable event handler but ``setvar``."""
    return {f"{cls.__name__}.{name}": (cls, name)
            for cls in app_states() for name in cls.event_handlers if name != "setvar"}


def starts_background_work(cls, handler: str) -> bool:
    """Whether a call may leave work running after the tab's answer: a background handler, or one
    that chains one (a live page's load returns its ``watch_live``). Only then does the harness
    wait for a quiet line after the sentinel rounds (``ForgedTab.settle``)."""
    event = cls.event_handlers[handler]
    return event.is_background or _chains_background_work(event.fn)


@cache
def _background_handler_names() -> frozenset[str]:
    return frozenset(name for cls in app_states() for name, event in cls.event_handlers.items()
                     if event.is_background)


def _chains_background_work(fn) -> bool:
    """Whether the handler's code names a background handler (``return X.watch_live``), in its
    own body or one nested in it."""
    return bool(_names_in(inspect.unwrap(fn).__code__) & _background_handler_names())


def _names_in(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_in(constant)
    return names


@cache
def _page_loads() -> list[tuple[re.Pattern, list]]:
    import immtrax_portal.immtrax_portal as portal_app

    return [(re.compile(re.sub(r"\\\[[^/]+\\\]", "[^/]+", re.escape(route))), list(events))
            for route, events in portal_app.app._load_events.items()]


def page_starts_background_work(page: str) -> bool:
    """Whether opening ``page`` may leave its load's background work running (a page the app does
    not know counts as one that may)."""
    path = urlsplit(page).path.strip("/") or "index"
    for route, events in _page_loads():
        if route.fullmatch(path):
            return any(_chains_background_work(getattr(event, "fn", None) or event.handler.fn)
                       for event in events)
    return True


def is_app_handler(cls) -> bool:
    return cls.__module__.startswith("immtrax_portal")


def resolve(value: Any, world: World) -> Any:
    """Payload builders may be functions of the World, at any depth."""
    if callable(value):
        return resolve(value(world), world)
    if isinstance(value, dict):
        return {k: resolve(v, world) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, world) for v in value]
    return value


@dataclass
class Forged:
    """What one forged call did: rows before/after, the audit events it added, what was sent."""

    before: database.Snapshot
    after: database.Snapshot
    audit: list[dict]
    updates: list[dict]
    sent: str = ""   # the page address and payloads the caller chose: echoing them back leaks nothing

    @property
    def text(self) -> str:
        return text_of(self.updates)

    @property
    def changed(self) -> dict[str, str]:
        return self.before.changed_tables(self.after)

    def denials(self) -> list[dict]:
        return [e for e in self.audit if e["outcome"] == "denied"]

    def exception_text(self) -> list[str]:
        return sorted({m.group(0) for m in EXCEPTION_TEXT.finditer(self.text)})

    def leaked(self, secrets: frozenset[str]) -> list[str]:
        text = self.text
        return sorted(s for s in secrets if s in text and s not in self.sent)


async def forge(portal: str, world: World, *, caller: str, page: str, handler: tuple[type[rx.State], str],
                payload: Any, prelude: list[tuple[str, Any]] = (), handlers=None) -> Forged:
    """Open a tab as ``caller`` on ``page``, run the prelude, then make the one call under test:
    ``handler`` (state class, handler name)."""
    sent = [page, payload]
    async with ForgedTab(portal, page=page, cookie=world.cookies.get(caller, ""),
                         quiet_on_open=page_starts_background_work(page)) as tab:
        for key, step_payload in prelude:
            sent.append(resolve(step_payload, world))
            await _call(tab, handlers[key], sent[-1])
        before = database.snapshot(world.db)
        updates = await _call(tab, handler, payload)
        after = database.snapshot(world.db)
    return Forged(before, after, database.audit_events_after(world.db, before.last_audit_id), updates,
                  sent=text_of(sent))


async def _call(tab: ForgedTab, handler: tuple[type[rx.State], str], payload: Any) -> list[dict]:
    """One forged call, waiting for a quiet line only after one that may start background work."""
    return await tab.call(handler_name(*handler), payload, quiet=starts_background_work(*handler))
