"""Run-wide rules for the whole suite (no fixtures here: each module keeps its own).

Parallel runs (pytest-xdist, ``make test`` uses ``-n 2 --dist loadgroup``): unit and integration
tests go to whichever worker is free, one by one (each has its own temporary folder, database and
free ports). An end-to-end module runs whole on one worker, in its order, against that worker's own
portal (its own ports, web folder, data folder and database: ``tests/e2e/conftest.py``).

Nothing the tests start may outlive them. The run marks its environment (``tests.support.processes``),
so every process started beneath it carries the mark; when the run ends, any marked process still
alive (after a grace period for ones shutting down) is named, killed, and fails the run.
Under pytest-xdist the controller checks once, after its workers have gone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import databases, processes

E2E = Path(__file__).parent / "e2e"


def pytest_configure(config: pytest.Config) -> None:
    processes.mark_this_run()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, keep each end-to-end module on one worker (its module fixtures, its order)."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(E2E).as_posix()))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    databases.drop_templates()
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller checks for all
        return
    left = processes.wait_until_gone(os.environ[processes.RUN_MARKER], exclude={os.getpid()},
                                     timeout=15)
    if not left:
        return
    listing = processes.describe(left)
    processes.kill_all(left)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (f"{len(left)} process(es) started by the tests outlived them (now killed); the helper "
               f"that started each must stop it with everything it started:\n{listing}")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(f"LEFTOVER PROCESSES: {message}", red=True, bold=True)
    else:
        print(f"LEFTOVER PROCESSES: {message}")
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
