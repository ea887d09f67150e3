"""Run-wide rules for the whole suite (no fixtures here: each module keeps its own).

Parallel runs (pytest-xdist; ``make test`` uses ``-n 2 --dist loadfile --no-loadscope-reorder``):
each test module runs whole on one worker, in its order, so module fixtures are built once; the
modules go out in collection order (the long end-to-end ones first, the many short unit modules
last, to even out the end). End-to-end modules run against their worker's own portal (its own
ports, web folder, data folder and database: ``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import os

import pytest

from tests.support import databases, processes


def pytest_configure(config: pytest.Config) -> None:
    processes.mark_this_run()


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
