"""The housekeeping jobs: a registry of named jobs, each run once per interval under a lease.

A job is a plain, idempotent function ``run_X(now) -> int`` (how many effects it had). Register
one with one line in ``JOBS``. ``run_due_jobs(now)`` is what the background loop calls every tick
in every server process: each due job whose lease it wins runs once; the others are skipped.

Each effect of a job commits in its own transaction together with its audit event and its outbox
emails, guarded so that doing it twice changes nothing: a run that dies half-way leaves the rest
for the next run, which does it without doubling what was done.

A job that keeps failing (a database restart, a bug) is logged once when it starts failing, then
counted, and logged again when it runs again (with how many runs failed), not once per tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from immtrax_portal.domain.models import utcnow
from immtrax_portal.services import access_ends, inactivity, job_leases, program_clock, renewals, reviews
from immtrax_portal.services.reminders import run_invitation_jobs
from immtrax_portal.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime], int]
    every_seconds: float | None = None  # None: the housekeeping interval (a setting)

    def interval(self) -> timedelta:
        return timedelta(seconds=self.every_seconds or get_settings().housekeeping_interval_seconds)


JOBS: tuple[Job, ...] = (
    Job("invitations", run_invitation_jobs),
    Job("agreement_renewals", renewals.run_agreement_renewals),
    Job("access_end_reminders", access_ends.run_access_end_reminders),
    Job("scheduled_access_ends", access_ends.run_scheduled_access_ends),
    Job("roster_reviews", reviews.run_roster_reviews),
    Job("inactivity", inactivity.run_inactivity),
    Job("clock_notices", program_clock.run_clock_notices),
)


class FailureStreaks:
    """Per process: how many runs of each job failed in a row, so a failure is logged once."""

    MILESTONES = (10, 100, 1000, 10_000)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def failed(self, name: str, exc: BaseException) -> int:
        with self._lock:
            count = self._counts[name] = self._counts.get(name, 0) + 1
        if count == 1:
            log.error("Housekeeping job %s failed; it is tried again each interval and further "
                      "failures are counted, not logged", name, exc_info=exc)
        elif count in self.MILESTONES:
            log.error("Housekeeping job %s is still failing: %d runs in a row (last: %s)", name, count,
                      type(exc).__name__)
        return count

    def succeeded(self, name: str) -> None:
        with self._lock:
            count = self._counts.pop(name, 0)
        if count:
            log.warning("Housekeeping job %s ran again after %d failed runs", name, count)

    def count(self, name: str) -> int:
        return self._counts.get(name, 0)


STREAKS = FailureStreaks()


def _count_run(name: str, outcome: str) -> None:
    from immtrax_portal.operations.metrics import HOUSEKEEPING_RUNS

    HOUSEKEEPING_RUNS.labels(job=name, outcome=outcome).inc()


def run_job(job: Job, now: datetime) -> int | None:
    """Run ``job`` if this process wins its lease; its effect count, or None when skipped.
    Raises what the job raised (after freeing the lease and counting the failure)."""
    holder = job_leases.new_holder()
    lease = timedelta(seconds=get_settings().job_lease_seconds)
    if not job_leases.claim(job.name, holder, now, lease=lease):
        return None
    try:
        effects = int(job.run(now) or 0)
    except Exception as exc:
        job_leases.release(job.name, holder, now, next_run_at=now + job.interval(),
                           error=f"{type(exc).__name__}: {exc}")
        raise
    job_leases.release(job.name, holder, now, next_run_at=now + job.interval(), effects=effects)
    return effects


def run_due_jobs(now: datetime | None = None, jobs: tuple[Job, ...] | None = None
                 ) -> dict[str, int | None]:
    """One tick: every due job once (when this process wins it). Never raises: a failing job is
    counted in ``STREAKS`` and the others still run. Returns effects per job (None: not run)."""
    now = now or utcnow()
    results: dict[str, int | None] = {}
    for job in jobs if jobs is not None else JOBS:
        try:
            results[job.name] = run_job(job, now)
        except Exception as exc:  # a database restart must not end housekeeping
            results[job.name] = None
            STREAKS.failed(job.name, exc)
            _count_run(job.name, "failed")
            continue
        STREAKS.succeeded(job.name)
        _count_run(job.name, "skipped" if results[job.name] is None else "ok")
    return results
