"""Values as a client sends them to event handlers: anything at all, so bounded before use."""

from __future__ import annotations


def form_text(form: object, name: str, limit: int) -> str:
    """Field ``name`` of a submitted form as text of at most ``limit`` characters ("" if absent)."""
    value = form.get(name, "") if isinstance(form, dict) else ""
    return str(value if value is not None else "")[:limit]


def turned_page(page: int, pages: int, delta: object) -> int:
    """The page after "Previous" (-1) or "Next" (1), kept within 1..pages; any other delta stays."""
    step = 1 if delta == 1 else -1 if delta == -1 else 0
    return min(max(1, page + step), pages)
