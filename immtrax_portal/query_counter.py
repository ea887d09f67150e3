"""Counting the SQL statements this process sends, for the live-updates benchmark.

Off unless ``IMMTRAX_DEBUG_QUERY_COUNTER=1`` (refused in production). Then every engine counts
its statements and ``GET /debug/query-count`` reports the count, with whatever other counts the
app wiring passes in (the change feed's polls and listeners), so ``benchmarks/live_benchmark.py``
can compute queries per second. Nothing here imports the rest of the portal: ``db`` installs the
counter, so the counter must not import anything that imports ``db``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PATH = "/debug/query-count"
_lock = threading.Lock()
_statements = 0


def _count(*_args) -> None:
    global _statements
    with _lock:
        _statements += 1


def install(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _count)


def statements() -> int:
    return _statements


def route(other_counts: Callable[[], dict[str, int]] = dict) -> Route:
    """``GET /debug/query-count``: the statement count and ``other_counts()`` beside it."""

    async def report(_request: Request) -> JSONResponse:
        return JSONResponse({"statements": statements(), **other_counts()})

    return Route(PATH, report, methods=["GET"])
