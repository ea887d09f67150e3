"""Housekeeping jobs run once, whatever the number of server processes.

Each job takes a database lease (``job_lease``) for its run; two real processes ticking at the
same moment against one database do each effect exactly once. A job that dies half-way is
finished by the next run without doubling anything, and a job that keeps failing is logged once
with a count, not once per tick.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.models import AuditEvent, OutboundEmail, utcnow
from immtrax_portal.services import emails, housekeeping, job_leases
from immtrax_portal.services.housekeeping import Job, run_due_jobs
from immtrax_portal.services.requests import submit_request
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield url


def _three_invitations_waiting(world) -> list[int]:
    return [submit_request(world.sam, new_access(world.alpha, email=f"nurse{n}@alpha.example"),
                           f"housekeeping-test-key-{n:04d}").id for n in range(3)]


def _count(action: AuditAction) -> Counter:
    with session_scope() as session:
        return Counter(e.request_id for e in session.exec(
            select(AuditEvent).where(AuditEvent.action == action.value)))


def _emails(kind: str) -> Counter:
    with session_scope() as session:
        return Counter(m.request_id for m in session.exec(
            select(OutboundEmail).where(OutboundEmail.kind == kind)))


# --- The lease ------------------------------------------------------------------------------------


def test_a_lease_is_won_by_one_claim_and_the_job_is_not_due_again_until_its_interval(database):
    now = utcnow()
    lease = timedelta(minutes=10)
    assert job_leases.claim("demo_job", "first", now, lease=lease)
    assert not job_leases.claim("demo_job", "second", now, lease=lease)  # held
    assert job_leases.release("demo_job", "first", now, next_run_at=now + timedelta(minutes=5))
    assert not job_leases.claim("demo_job", "second", now + timedelta(minutes=4), lease=lease)  # not due
    assert job_leases.claim("demo_job", "second", now + timedelta(minutes=5), lease=lease)


def test_a_lease_left_by_a_process_that_died_runs_out_and_another_process_takes_the_job(database):
    now = utcnow()
    assert job_leases.claim("demo_job", "died", now, lease=timedelta(minutes=10))
    assert not job_leases.claim("demo_job", "other", now + timedelta(minutes=9), lease=timedelta(minutes=10))
    assert job_leases.claim("demo_job", "other", now + timedelta(minutes=10), lease=timedelta(minutes=10))
    # The dead holder coming back late cannot free the new holder's lease.
    assert not job_leases.release("demo_job", "died", now, next_run_at=now)
    assert job_leases.lease_row("demo_job").holder == "other"


# --- Two real processes ---------------------------------------------------------------------------


def _tick_in_two_processes(url: str, now, tmp_path: Path) -> list[dict]:
    go = tmp_path / "go"
    environment = {**os.environ, "IMMTRAX_DATABASE_URL": url, "IMMTRAX_BACKGROUND_JOBS": "false"}
    processes = [subprocess.Popen([sys.executable, "-m", "tests.support.housekeeping_process",
                                   now.isoformat(), str(go)], cwd=REPO, env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    try:
        time.sleep(2.5)  # both have imported the portal and wait for the signal
        go.touch()
        outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
    return [json.loads(text.strip().splitlines()[-1]) for text, _ in outputs]


def test_two_server_processes_ticking_at_once_do_each_reminder_exactly_once(database, tmp_path):
    world = build_world()
    requests = _three_invitations_waiting(world)
    results = _tick_in_two_processes(database, utcnow() + timedelta(days=3, minutes=1), tmp_path)
    ran = [result["invitations"] for result in results if result["invitations"] is not None]
    assert ran == [3], results  # one process ran the job, for three reminders; the other skipped it
    assert _count(AuditAction.INVITATION_REMINDER) == Counter({r: 1 for r in requests})
    assert _emails("invitation_reminder") == Counter({r: 1 for r in requests})


def test_the_next_interval_runs_the_job_again_in_whichever_process_ticks(database, tmp_path):
    world = build_world()
    requests = _three_invitations_waiting(world)
    start = utcnow()
    first = run_due_jobs(start + timedelta(days=3, minutes=1))
    assert first["invitations"] == 3
    results = _tick_in_two_processes(database, start + timedelta(days=7, minutes=1), tmp_path)
    assert sorted((r["invitations"] for r in results), key=lambda v: v is None) == [3, None]
    assert _count(AuditAction.INVITATION_REMINDER) == Counter({r: 2 for r in requests})


# --- Dying half-way, failing repeatedly --------------------------------------------------------------


def test_a_job_that_dies_half_way_is_finished_by_the_next_run_without_doubling(database, monkeypatch):
    world = build_world()
    requests = _three_invitations_waiting(world)
    real = emails.invitation_reminder
    calls = {"n": 0}

    def dies_at_the_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("the process died here")
        return real(*args, **kwargs)

    monkeypatch.setattr(emails, "invitation_reminder", dies_at_the_second)
    when = utcnow() + timedelta(days=3, minutes=1)
    assert run_due_jobs(when)["invitations"] is None  # the run failed after one reminder
    assert sum(_count(AuditAction.INVITATION_REMINDER).values()) == 1
    assert job_leases.lease_row("invitations").failures_in_a_row == 1
    interval = timedelta(seconds=housekeeping.JOBS[0].interval().total_seconds())
    assert run_due_jobs(when + interval)["invitations"] == 2  # the rest, nothing twice
    assert _count(AuditAction.INVITATION_REMINDER) == Counter({r: 1 for r in requests})
    assert _emails("invitation_reminder") == Counter({r: 1 for r in requests})
    assert job_leases.lease_row("invitations").failures_in_a_row == 0


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_job_failing_on_every_tick_is_logged_once_with_a_count_and_again_when_it_recovers(database):
    broken = {"yes": True}

    def flaky(now):
        if broken["yes"]:
            raise RuntimeError("registry down")
        return 1

    jobs = (Job("flaky", flaky, every_seconds=1),)
    start = utcnow()
    collected, logger = Collected(), logging.getLogger("immtrax_portal.services.housekeeping")
    logger.addHandler(collected)
    try:
        for tick in range(12):
            run_due_jobs(start + timedelta(seconds=tick), jobs)
        broken["yes"] = False
        run_due_jobs(start + timedelta(seconds=12), jobs)
    finally:
        logger.removeHandler(collected)
    lines = [r.getMessage() for r in collected.records]
    assert len(lines) == 3, lines  # the first failure, the tenth, the recovery
    first = collected.records[0]   # with its traceback (already rendered when logs are redacted)
    assert "flaky failed" in lines[0] and (first.exc_info or "RuntimeError" in (first.exc_text or ""))
    assert "10 runs in a row" in lines[1]
    assert "ran again after 12 failed runs" in lines[2]
    assert job_leases.lease_row("flaky").failures_in_a_row == 0
