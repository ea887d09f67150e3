"""The work the app does on its own while it runs: sending the outbox, and the housekeeping jobs
(``services/housekeeping.py``: invitation reminders and expiry, agreement re-signing, scheduled
ends of access, supervisor succession, roster reviews, inactivity, the clock's notices). Both run
in daemon threads beside the web server because their calls block (SMTP, database) and must
never hold up the event loop that serves pages.

Several worker processes may each run these: the outbox claims every email exactly once, and each
housekeeping job runs under a database lease, once per interval whatever the number of processes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from immtrax_portal.services.delivery import run_delivery_loop
from immtrax_portal.services.housekeeping import run_due_jobs
from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)
STOP_WAIT_SECONDS = 5
# Each process looks for due jobs at least this often, so a job runs close to when it is due.
HOUSEKEEPING_TICK_MAX_S = 60.0


def run_housekeeping_until_stopped(stop: threading.Event, tick_s: float) -> None:
    """Every ``tick_s``: run the due housekeeping jobs (each once across all processes, by lease).
    ``run_due_jobs`` never raises: a failing job is logged once and counted (housekeeping.STREAKS)."""
    while not stop.is_set():
        run_due_jobs()
        stop.wait(tick_s)


@contextlib.contextmanager
def running_background_jobs() -> Iterator[list[threading.Thread]]:
    """Start the delivery and housekeeping threads; stop and join them (bounded) on exit."""
    settings = get_settings()
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_delivery_loop, args=(stop, settings.mail_delivery_interval_seconds),
                         name="mail-delivery", daemon=True),
        threading.Thread(target=run_housekeeping_until_stopped,
                         args=(stop, min(settings.housekeeping_interval_seconds, HOUSEKEEPING_TICK_MAX_S)),
                         name="housekeeping", daemon=True),
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
