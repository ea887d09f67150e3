"""Database ids as clients send them: text that must be checked before it reaches a query.

``"²".isdigit()`` is true and ``int("²")`` fails, and PostgreSQL refuses an integer beyond 32 bits
with an error instead of "no such row"; so an id from a client is ASCII digits within that range,
or it is no id at all.
"""

from __future__ import annotations

MAX_RECORD_ID = 2**31 - 1  # PostgreSQL's integer


def record_id(raw: object) -> int:
    """The id ``raw`` names, or 0 when it names none."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        return 0
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_RECORD_ID)):
        return 0
    value = int(text)
    return value if 0 < value <= MAX_RECORD_ID else 0
