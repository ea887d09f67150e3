"""Processes the tests start, and proof that none of them outlives the run.

Every process a test starts inherits the environment, so the run marks its environment once
(``RUN_MARKER``, a fresh value per run) and every server, browser and helper started beneath it
carries the mark, even one that lost its parent and was adopted by init (the way an orphaned
``node`` escapes a "children of this process" check). ``processes_marked`` finds them by that mark;
the session-end check in ``tests/conftest.py`` fails the run when any are left, naming them.

``stop_process_tree`` is how a helper ends what it started: the process's whole group (started with
``start_new_session=True``) and every descendant, politely first, then by SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

import psutil

RUN_MARKER = "IMMTRAX_TEST_RUN"


def mark_this_run() -> str:
    """Give this process (and so everything it starts) the run's mark; keeps one already set by
    the process that started this one (pytest-xdist's controller for its workers)."""
    return os.environ.setdefault(RUN_MARKER, uuid.uuid4().hex)


def processes_marked(value: str, *, key: str = RUN_MARKER, exclude: set[int] | None = None
                     ) -> list[psutil.Process]:
    """Every running process whose environment has ``key=value`` (other users' processes, whose
    environment cannot be read, are not ours)."""
    found = []
    skip = exclude or set()
    for process in psutil.process_iter():
        if process.pid in skip:
            continue
        try:
            if process.environ().get(key) == value and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(processes: list[psutil.Process]) -> str:
    lines = []
    for process in processes:
        try:
            lines.append(f"  pid {process.pid}: {' '.join(process.cmdline())[:200]}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            lines.append(f"  pid {process.pid}: (gone)")
    return "\n".join(lines)


def wait_until_gone(value: str, *, key: str = RUN_MARKER, exclude: set[int] | None = None,
                    timeout: float = 10) -> list[psutil.Process]:
    """The marked processes still running after up to ``timeout`` seconds (ones shutting down get
    the time to finish)."""
    deadline = time.monotonic() + timeout
    while True:
        left = processes_marked(value, key=key, exclude=exclude)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def kill_all(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def stop_process_tree(process: subprocess.Popen, timeout: float = 5) -> None:
    """SIGTERM to ``process``'s group and every descendant's group, then SIGKILL to whatever is
    still there after ``timeout`` seconds. Descendants are listed first: once the leader is gone,
    its children are no longer found through it."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    groups = {process.pid}
    for child in descendants:
        try:
            groups.add(os.getpgid(child.pid))
        except ProcessLookupError:
            pass
    groups.discard(os.getpgid(0))  # never our own group
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            try:
                os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        for child in descendants:
            try:
                child.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            continue
        _, alive = psutil.wait_procs(descendants, timeout=timeout)
        if not alive:
            return
        descendants = alive
