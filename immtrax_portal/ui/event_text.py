"""NUL characters never reach a handler.

No keyboard types one and no field means one, but a forged client can send them, and PostgreSQL
refuses any text that holds one (the caller would see the generic error instead of the field's
own message). Removing them from every event's arguments before any handler runs keeps the
answer the same on SQLite and PostgreSQL; every other character is left for the handlers'
own validation to judge.
"""

from __future__ import annotations

from reflex.middleware import Middleware


def without_nul(value):
    """``value`` with NUL removed from every string in it, keys included."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


class NulStrippingMiddleware(Middleware):
    async def preprocess(self, app, state, event):
        if isinstance(event.payload, dict):
            cleaned = without_nul(event.payload)
            event.payload.clear()
            event.payload.update(cleaned)
        return None
