"""The guard: an event handler declares who may call it, and the guard does the rest.

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_SAVE)
    def save(self, actor: Actor, form: dict): ...

The decorated handler belongs to a ``SessionState`` subclass (``ui/state/session.py``), whose
``_admit`` resolves the caller from the session cookie and applies the rule, and whose
``_refused_by_rule`` records and shows a ``NotAllowed`` raised by the handler body. This module
only adapts that to the four kinds of handler Reflex runs (plain, generator, coroutine, async
generator); the async kinds do the cookie lookup and the audit write in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import NotAllowed, Rule

# The event loop of the event being handled, for the parts of a guard that run in a worker thread
# (``asyncio.to_thread`` copies context variables into the thread).
_EVENT_LOOP: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "immtrax_event_loop", default=None)
# The signed-in person behind the guarded event being handled (``SessionState._caller_person``).
_CALLER_PERSON: contextvars.ContextVar[Person | None] = contextvars.ContextVar(
    "immtrax_caller_person", default=None)


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
                actor, person, refused = await asyncio.to_thread(self._admit, rule, action, page, show)
                if actor is None:
                    yield refused
                    return
                held = _CALLER_PERSON.set(person)
                try:
                    async for update in fn(self, actor, *args, **kwargs):
                        yield update
                except NotAllowed as refusal:
                    yield await asyncio.to_thread(self._refused_by_rule, actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)
        elif inspect.iscoroutinefunction(fn):
            async def wrapper(self, *args, **kwargs):
                kwargs.pop("actor", None)
                _EVENT_LOOP.set(asyncio.get_running_loop())
                actor, person, refused = await asyncio.to_thread(self._admit, rule, action, page, show)
                if actor is None:
                    return refused
                held = _CALLER_PERSON.set(person)
                try:
                    return await fn(self, actor, *args, **kwargs)
                except NotAllowed as refusal:
                    return await asyncio.to_thread(self._refused_by_rule, actor, action, refusal, page, show)
                finally:
                    _CALLER_PERSON.reset(held)
        elif inspect.isgeneratorfunction(fn):
            def wrapper(self, *args, **kwargs):
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
        else:
            def wrapper(self, *args, **kwargs):
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

        functools.update_wrapper(wrapper, fn)
        wrapper.__signature__ = public
        wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "actor"}
        wrapper.guard_rule, wrapper.guard_action = rule, action
        return wrapper

    return decorate
