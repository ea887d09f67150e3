"""Counting the SQL statements this process sends, for the live-updates benchmark.

Off unless ``IMMTRAX_DEBUG_QUERY_COUNTER=1`` (refused in production). Then every engine counts
its statements and ``GET /debug/query-count`` reports the count, with the change feed's own
polls and listeners, so ``benchmarks/live_benchmark.py`` can compute queries per second.
"""

from __future__ import annotations

import threading

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


async def _report(_request: Request) -> JSONResponse:
    from immtrax_portal.services.change_feed import FEED

    return JSONResponse({"statements": statements(), "feed_polls": FEED.polls,
                         "feed_listeners": FEED.listeners})


def route() -> Route:
    return Route(PATH, _report, methods=["GET"])
