"""Metrics in the Prometheus text format at ``/metrics``, for the operators' scraper.

Refused without a configured token: with ``IMMTRAX_METRICS_TOKEN`` unset the route answers 404
(it does not exist); with it set, a scrape must send ``Authorization: Bearer <token>``, else 401.
The numbers say how the service is doing, never who did what: no label carries a person, a path
with an id in it, or anything a client chose (handler names are those of registered handlers).

Correct across Granian workers: ``cli serve`` empties a folder (``IMMTRAX_METRICS_DIR``, default
``<data dir>/metrics``) and names it in ``PROMETHEUS_MULTIPROC_DIR`` before the server starts, so
every worker process writes its counters there (``prometheus_client``'s multiprocess mode) and a
scrape answered by any worker sums them all. Live pages are a "live sum": the files of a worker
that died are dropped at the next scrape. The outbox is counted from the database at scrape time,
so it is the same whichever worker answers. Without the variable (one process, tests) the
numbers are this process's own.

What is measured:
  immtrax_http_requests_total{kind,status}        HTTP requests and websocket handshakes
  immtrax_events_total{handler,outcome}           events handled (outcome ok | error)
  immtrax_event_duration_seconds{handler}         how long a (foreground) event took
  immtrax_live_pages_open                         pages receiving live updates now
  immtrax_outbox_emails{status}                   outbox rows by status (queued, sending, failed)
  immtrax_housekeeping_runs_total{job,outcome}    background job runs
  immtrax_database_errors_total{where}            database errors (queries, readiness probes)
  immtrax_redis_errors_total{where}               Redis errors (event handling, readiness probes)
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import shutil
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PATH = "/metrics"

HTTP_REQUESTS = Counter("immtrax_http_requests", "HTTP requests and websocket handshakes, by kind and status",
                        ["kind", "status"])
EVENTS = Counter("immtrax_events", "Events handled, by handler and outcome", ["handler", "outcome"])
EVENT_SECONDS = Histogram("immtrax_event_duration_seconds", "Time to handle a foreground event",
                          ["handler"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LIVE_PAGES = Gauge("immtrax_live_pages_open", "Pages receiving live updates", multiprocess_mode="livesum")
HOUSEKEEPING_RUNS = Counter("immtrax_housekeeping_runs", "Background job runs, by job and outcome",
                            ["job", "outcome"])
DATABASE_ERRORS = Counter("immtrax_database_errors", "Database errors, by where they happened", ["where"])
REDIS_ERRORS = Counter("immtrax_redis_errors", "Redis errors, by where they happened", ["where"])


def prepare_metrics_directory(path: Path) -> Path:
    """An empty folder for the worker processes' metric files (files of an earlier run would be
    added to this run's counts)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def _multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


_LIVE_FILE = re.compile(r"gauge_live\w*_(\d+)\.db")


def _forget_dead_workers(directory: str) -> None:
    """Drop the live gauges of worker processes that are gone (killed, respawned)."""
    for name in os.listdir(directory):
        if (match := _LIVE_FILE.fullmatch(name)) and not _process_alive(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), directory)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutboxCollector:
    """The outbox by status, read from the database when scraped (the same from every worker)."""

    def collect(self):
        from sqlmodel import func, select

        from immtrax_portal.db import session_scope
        from immtrax_portal.domain.enums import EmailStatus
        from immtrax_portal.domain.models import OutboundEmail

        family = GaugeMetricFamily("immtrax_outbox_emails", "Outbox emails by status", labels=["status"])
        try:
            with session_scope() as session:
                counts = dict(session.exec(select(OutboundEmail.status, func.count())
                                           .where(OutboundEmail.status != EmailStatus.SENT)
                                           .group_by(OutboundEmail.status)).all())
        except Exception as error:  # noqa: BLE001 - the other numbers are still worth serving
            DATABASE_ERRORS.labels(where="metrics").inc()
            log.warning("metrics: outbox not counted (%s)", type(error).__name__)
            return
        for status in (EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.FAILED):
            family.add_metric([status.value], counts.get(status, 0))
        yield family


def exposition() -> bytes:
    """Every metric in the Prometheus text format: all workers' when in multiprocess mode."""
    outbox = CollectorRegistry(auto_describe=False)
    outbox.register(OutboxCollector())
    directory = _multiprocess_dir()
    if directory:
        _forget_dead_workers(directory)
        workers = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(workers, path=directory)
        return generate_latest(workers) + generate_latest(outbox)
    return generate_latest(REGISTRY) + generate_latest(outbox)


def _authorized(request: Request, token: str) -> bool:
    presented = request.headers.get("authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


def metrics_endpoint(request: Request) -> Response:
    """404 without a configured token, 401 without the right bearer token, else the metrics.
    A plain function: Starlette runs it in its thread pool (the outbox count reads the database)."""
    token = get_settings().metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    if not _authorized(request, token):
        return PlainTextResponse("Unauthorized", status_code=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def metrics_routes() -> list[Route]:
    return [Route(PATH, metrics_endpoint, methods=["GET"])]


def short_handler_name(event_name: str) -> str:
    """``wizard_state.next_step`` from Reflex's full event name, ``<state path>.<handler>`` where
    each state is ``<module path>____<class name in snake case>``."""
    state_path, _, handler = event_name.rpartition(".")
    state = state_path.rpartition(".")[2].rpartition("____")[2]
    return f"{state}.{handler}"[:80] if state else handler[:80]


def _count_database_error(_context) -> None:
    DATABASE_ERRORS.labels(where="query").inc()


# Every engine's driver errors (connects included) are counted, whoever built the engine: listening
# on the Engine class keeps db.py free of this module.
event.listen(Engine, "handle_error", _count_database_error)
