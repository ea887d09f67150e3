"""The guard: an event handler declares who may call it, and the guard does the rest.

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_SAVE)
    def save(self, actor: Actor, form: dict): ...

The decorated handler belongs to a ``SessionState`` subclass (``ui/state/session.py``), whose
``_admit`` resolves the caller from the session cookie and applies the rule, and whose
``_refused_by_rule`` records and shows a ``NotAllowed`` raised by the handler body. This module
adapts that to the four kinds of handler Reflex runs (plain, generator, coroutine, async
generator), and keeps the database off the event loop: one worker process serves every tab from
one event loop thread, so a handler that waited on the database there would make every other tab
wait with it.

- A plain or generator handler runs whole (the door, the body, a refusal) in a worker thread of
  ``event_threads()``: Reflex calling it gets an async generator that steps the body there, one
  ``yield`` at a time (each update goes out, as before, between steps). Called where no event loop
  runs (a test, or one handler calling another from its worker thread) it runs in place, as written.
- A coroutine or async generator handler's body runs on the loop (it awaits); the door and the
  refusal run in the worker threads, and its own database work is put there by the handler.

The context variables of the event (``_EVENT_LOOP``, ``_CALLER_PERSON``, the log's ids) are seen
by every step of one handler: the steps run in one context, copied from the event's.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import NotAllowed, Rule
from immtrax_portal.operations import log_context

# The event loop of the event being handled, for the parts of a guard that run in a worker thread.
_EVENT_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "immtrax_event_loop", default=None)
# The signed-in person behind the guarded event being handled (``SessionState._caller_person``).
_CALLER_PERSON: contextvars.ContextVar[Person | None] = contextvars.ContextVar(
    "immtrax_caller_person", default=None)

# The caller of the event being handled, looked up once by the tab-owner middleware
# (``ui/tab_owner.py``) and reused by the guard's door: (the Cookie header it was looked up for,
# ``auth.sessions.Caller`` or None). Unset for background events, which look up their own.
_EVENT_CALLER: contextvars.ContextVar[tuple[str, object] | None] = contextvars.ContextVar(
    "immtrax_event_caller", default=None)

_threads: ThreadPoolExecutor | None = None
_threads_lock = threading.Lock()


def event_threads() -> ThreadPoolExecutor:
    """The worker threads that run event handlers' database work: as many as the database pool
    holds connections (``database_pool_size + database_max_overflow``), so a thread never waits
    for a connection that another of these threads holds."""
    global _threads
    with _threads_lock:
        if _threads is None:
            from immtrax_portal.settings import get_settings

            settings = get_settings()
            _threads = ThreadPoolExecutor(
                max_workers=max(2, settings.database_pool_size + settings.database_max_overflow),
                thread_name_prefix="immtrax-event")
        return _threads


def on_event_loop() -> bool:
    """Whether this thread is running an event loop (then nothing here may wait on the database)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def off_loop(fn: Callable, *args):
    """``fn(*args)`` in a worker thread of the events, in a copy of this context; the actor it
    identified (if any) is kept for this event's later log lines."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    try:
        return await loop.run_in_executor(event_threads(), context.run, fn, *args)
    finally:
        _carry_back(context)


def _carry_back(context: contextvars.Context) -> None:
    if (actor_id := context.get(log_context.actor_id)) is not None:
        log_context.actor_id.set(actor_id)


def _step(steps: Iterator):
    """One ``next`` of a generator: (finished, what it yielded or returned)."""
    try:
        return False, next(steps)
    except StopIteration as stop:
        return True, stop.value


async def _stepped_off_loop(steps: Iterator) -> AsyncIterator:
    """Run the generator ``steps`` in worker threads, one step at a time, all in one context (so
    what a step sets, the next sees), yielding what it yields and, last, what it returns."""
    loop = asyncio.get_running_loop()
    _EVENT_LOOP.set(loop)
    context = contextvars.copy_context()
    finished = False
    try:
        while not finished:
            finished, update = await loop.run_in_executor(event_threads(), context.run, _step, steps)
            _carry_back(context)
            if update is not None or not finished:
                yield update
    finally:
        if not finished:   # abandoned (the tab went away): let the handler's own cleanup run
            try:
                await loop.run_in_executor(event_threads(), context.run, steps.close)
            except (RuntimeError, ValueError):  # still running in its thread: it ends by itself
                pass


def _once(call: Callable):
    """A plain call as a generator of no steps that returns the call's result."""
    return call()
    yield  # pragma: no cover - makes this a generator


def runs_off_loop(fn):
    """For a plain or generator handler that is not guarded but reads the database (a page's
    on_load that shows something to anyone): run it in a worker thread, as ``guarded`` does."""
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"{fn.__qualname__}: an async handler puts its own database work off the loop")
    if inspect.isgeneratorfunction(fn):
        def wrapper(self, *args, **kwargs):
            steps = fn(self, *args, **kwargs)
            return _stepped_off_loop(steps) if on_event_loop() else steps
    else:
        def wrapper(self, *args, **kwargs):
            if on_event_loop():
                return _stepped_off_loop(_once(functools.partial(fn, self, *args, **kwargs)))
            return fn(self, *args, **kwargs)
    functools.update_wrapper(wrapper, fn)
    return wrapper


def guarded(rule: Rule, action: AuditAction, *, page: bool = False, show: str = ""):
    """Declare who may call an event handler (see the module docstring). The decorated function
    takes the caller as its first argument after ``self``; the browser never supplies it.

    ``show`` names the var that displays this handler's refusals (default: the state's
    ``_on_refused`` decides)."""

    def decorate(fn):
        signature = inspect.signature(fn)
        params = list(signature.parameters.values())
        if len(params) < 2 or params[1].name != "actor":
            raise TypeError(f"{fn.__qualname__}: a guarded handler takes (self, actor, ...)")
        public = signature.replace(parameters=[params[0], *params[2:]])

        if inspect.isasyncgenfunction(fn):
            async def wrapper(self, *args, **kwargs):
                kwargs.pop("actor", None)
                _EVENT_LOOP.set(asyncio.get_running_loop())
                actor, person, refused = await off_loop(self._admit, rule, action, page, show)
                if actor is None:
                    yield refused
                    return
                held = _CALLER_PERSON.set(person)
                try:
                    async for update in fn(self, actor, *args, **kwargs):
                        yield update
                except NotAllowed as refusal:
                    yield await off_loop(self._refused_by_rule, actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)
        elif inspect.iscoroutinefunction(fn):
            async def wrapper(self, *args, **kwargs):
                kwargs.pop("actor", None)
                _EVENT_LOOP.set(asyncio.get_running_loop())
                actor, person, refused = await off_loop(self._admit, rule, action, page, show)
                if actor is None:
                    return refused
                held = _CALLER_PERSON.set(person)
                try:
                    return await fn(self, actor, *args, **kwargs)
                except NotAllowed as refusal:
                    return await off_loop(self._refused_by_rule, actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)
        elif inspect.isgeneratorfunction(fn):
            def steps(self, *args, **kwargs):
                kwargs.pop("actor", None)
                actor, person, refused = self._admit(rule, action, page, show)
                if actor is None:
                    yield refused
                    return
                held = _CALLER_PERSON.set(person)
                try:
                    yield from fn(self, actor, *args, **kwargs)
                except NotAllowed as refusal:
                    yield self._refused_by_rule(actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)

            def wrapper(self, *args, **kwargs):
                body = steps(self, *args, **kwargs)
                return _stepped_off_loop(body) if on_event_loop() else body
        else:
            def call(self, *args, **kwargs):
                kwargs.pop("actor", None)
                actor, person, refused = self._admit(rule, action, page, show)
                if actor is None:
                    return refused
                held = _CALLER_PERSON.set(person)
                try:
                    return fn(self, actor, *args, **kwargs)
                except NotAllowed as refusal:
                    return self._refused_by_rule(actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)

            def wrapper(self, *args, **kwargs):
                if on_event_loop():
                    return _stepped_off_loop(_once(functools.partial(call, self, *args, **kwargs)))
                return call(self, *args, **kwargs)

        functools.update_wrapper(wrapper, fn)
        wrapper.__signature__ = public
        wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "actor"}
        wrapper.guard_rule, wrapper.guard_action = rule, action
        return wrapper

    return decorate
