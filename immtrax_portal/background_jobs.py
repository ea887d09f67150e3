"""The work the app does on its own while it runs: sending the outbox, and invitation housekeeping
(reminders after 3 and 7 days, expiry). Both run in daemon threads beside the web server because
their calls block (SMTP, database) and must never hold up the event loop that serves pages.

Several worker processes may each run these: the outbox claims every email exactly once and the
housekeeping steps are guarded updates, so running twice sends nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from immtrax_portal.services.delivery import run_delivery_loop
from immtrax_portal.services.reminders import run_invitation_housekeeping
from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)
STOP_WAIT_SECONDS = 5


def repeat_until_stopped(stop: threading.Event, interval_s: float, job: Callable[[], object],
                         name: str) -> None:
    """Run ``job`` now and every ``interval_s`` until ``stop``; a failing run is logged, not fatal."""
    from immtrax_portal.operations.metrics import HOUSEKEEPING_RUNS

    job_label = name.lower().replace(" ", "_")
    while not stop.is_set():
        try:
            job()
            HOUSEKEEPING_RUNS.labels(job=job_label, outcome="ok").inc()
        except Exception:  # a database restart must not end housekeeping for the life of the process
            HOUSEKEEPING_RUNS.labels(job=job_label, outcome="failed").inc()
            log.exception("%s failed; trying again in %ss", name, interval_s)
        stop.wait(interval_s)


@contextlib.contextmanager
def running_background_jobs() -> Iterator[list[threading.Thread]]:
    """Start the delivery and housekeeping threads; stop and join them (bounded) on exit."""
    settings = get_settings()
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_delivery_loop, args=(stop, settings.mail_delivery_interval_seconds),
                         name="mail-delivery", daemon=True),
        threading.Thread(target=repeat_until_stopped,
                         args=(stop, settings.housekeeping_interval_seconds, run_invitation_housekeeping,
                               "Invitation housekeeping"),
                         name="invitation-housekeeping", daemon=True),
    ]
    if settings.background_jobs:
        for thread in threads:
            thread.start()
    try:
        yield [t for t in threads if t.is_alive()]
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(STOP_WAIT_SECONDS)


@contextlib.asynccontextmanager
async def background_jobs_lifespan():
    """The Reflex lifespan task: the jobs live exactly as long as the server."""
    with running_background_jobs():
        yield
