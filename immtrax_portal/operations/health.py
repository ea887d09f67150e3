"""Health probes for load balancers and supervisors: ``/healthz`` (alive) and ``/readyz`` (ready).

``/healthz`` touches nothing: it answers as long as the process serves HTTP, so a supervisor
restarts only a process that is really stuck, never one whose database is down (restarting would
not bring the database back). ``/readyz`` says whether this instance can do its work now: one
``SELECT 1`` on the database and, when ``IMMTRAX_REDIS_URL`` is set, one ``PING`` to Redis, each
bounded by ``IMMTRAX_READINESS_TIMEOUT_SECONDS``; 503 when either fails, so the balancer sends
people to an instance that can serve them.

Cheap enough to poll every few seconds: one round trip each, no session, no audit event, no log
line per call (the access loggers skip these paths too; see ``operations.logs``). A change of
readiness is logged once. Probes that arrive while one is still waiting on a hung database share
its answer instead of piling up threads.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from immtrax_portal.db import get_engine
from immtrax_portal.operations import metrics
from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Readiness:
    database: str  # "ok" or what failed, in a few words
    redis: str     # "ok", "not configured", or what failed

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.redis in ("ok", "not configured")


def _database_answers() -> None:
    with get_engine().connect() as connection:
        connection.execute(sa.text("SELECT 1")).scalar_one()


def _failure(kind: str, error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"{kind} did not answer in time"
    return f"{kind} unreachable ({type(error).__name__})"


class ReadinessProbe:
    """Checks the database and Redis of this process; one check in flight at a time."""

    def __init__(self) -> None:
        self._in_flight: asyncio.Task[Readiness] | None = None
        self._database_call: asyncio.Future | None = None
        self._redis = None
        self._redis_key: tuple | None = None
        self._last_ready: bool | None = None

    async def check(self) -> Readiness:
        if self._in_flight is None or self._in_flight.done():
            self._in_flight = asyncio.ensure_future(self._check_now())
        return await asyncio.shield(self._in_flight)

    async def _check_now(self) -> Readiness:
        timeout = get_settings().readiness_timeout_seconds
        database, redis = await asyncio.gather(self._check_database(timeout), self._check_redis(timeout))
        readiness = Readiness(database=database, redis=redis)
        self._log_change(readiness)
        return readiness

    async def _check_database(self, timeout: float) -> str:
        try:
            # A thread: the driver blocks. A hung connect keeps its thread, not the probe; while it
            # hangs, later probes wait on the same call instead of starting another thread.
            if self._database_call is None or self._database_call.done():
                self._database_call = asyncio.get_running_loop().run_in_executor(None, _database_answers)
                # Its failure is reported through the probe that awaited it, or by none (timed out).
                self._database_call.add_done_callback(lambda call: call.cancelled() or call.exception())
            await asyncio.wait_for(asyncio.shield(self._database_call), timeout)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", in a few words
            metrics.DATABASE_ERRORS.labels(where="readiness").inc()
            return _failure("database", error)
        return "ok"

    def _redis_client(self, url: str):
        """One client per process and event loop (its connections belong to the loop)."""
        key = (url, id(asyncio.get_running_loop()))
        if self._redis is None or self._redis_key != key:
            import redis.asyncio as redis

            timeout = get_settings().readiness_timeout_seconds
            self._redis = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                               retry_on_timeout=False)
            self._redis_key = key
        return self._redis

    async def _check_redis(self, timeout: float) -> str:
        url = get_settings().redis_url
        if not url:
            return "not configured"
        try:
            await asyncio.wait_for(self._redis_client(url).ping(), timeout)
        except Exception as error:  # noqa: BLE001 - as above
            metrics.REDIS_ERRORS.labels(where="readiness").inc()
            self._redis = None  # a fresh connection next time, not a half-closed one
            return _failure("Redis", error)
        return "ok"

    def _log_change(self, readiness: Readiness) -> None:
        if readiness.ready == self._last_ready:
            return
        if readiness.ready:
            if self._last_ready is not None:
                log.warning("ready again: database and Redis answer")
        else:
            log.warning("not ready: database %s, Redis %s", readiness.database, readiness.redis)
        self._last_ready = readiness.ready


PROBE = ReadinessProbe()


async def healthz(_request: Request) -> Response:
    """Alive: the process answers HTTP. Touches nothing else."""
    return PlainTextResponse("ok\n", headers=NO_STORE)


async def readyz(_request: Request) -> Response:
    """Ready: 200 when the database (and Redis, when configured) answer, else 503."""
    readiness = await PROBE.check()
    body = {"ready": readiness.ready, "database": readiness.database, "redis": readiness.redis}
    return JSONResponse(body, status_code=200 if readiness.ready else 503, headers=NO_STORE)


def health_routes() -> list[Route]:
    return [Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"])]
