"""Run-wide rules for the whole suite (no fixtures here: each module keeps its own).

Parallel runs (pytest-xdist; ``make test`` uses ``-n 2 --dist loadfile --no-loadscope-reorder``):
each test module runs whole on one worker, in its order, so module fixtures are built once; the
modules go out in collection order (the long end-to-end ones first, the many short unit modules
last, to even out the end). End-to-end modules run against their worker's own portal (its own
ports, web folder, data folder and database: ``tests/e2e/conftest.py``).

``make test`` runs one pass per database. A module whose outcome no database can change (pure
rules, the browser gate, response headers, the harness's port checks) runs in the first pass only:
the PostgreSQL pass leaves it out and says how many it left out (``DATABASE_INDEPENDENT``). So do
the browser journeys (``ONE_DATABASE_FOR_JOURNEYS``): what they add to the service and integration
tests, which run on both databases, is the page itself (its words, layout, keyboard and flow); the
journeys about the database or several processes sharing it run on both (``JOURNEYS_ON_EVERY_DATABASE``).
"""

from __future__ import annotations

import os

import pytest

from tests.support import databases, processes

# Modules (or folders) that never open a database, or whose outcome cannot depend on which one.
DATABASE_INDEPENDENT = (
    "tests/unit/",
    "tests/e2e/test_browser_gate_chromium.py",
    "tests/e2e/test_wizard_browser_gate.py",
    "tests/e2e/test_landing_page.py",
    "tests/e2e/test_security_headers.py",
    "tests/e2e/test_websocket_origin.py",
    "tests/e2e/test_harness_refuses_foreign_servers.py",
    # axe and the WCAG 2.2 checks read the rendered pages, which are the same on either database.
    "tests/e2e/test_accessibility.py",
    "tests/e2e/test_wcag22.py",
)


# The browser journeys run on one database (see the module docstring), except these: several
# portals on one database behind nginx, the database and Redis failing under an open tab, the jobs
# shared by workers, the live feed read from the audit chain, and the forged-event harness, whose
# verdicts are audit rows.
ONE_DATABASE_FOR_JOURNEYS = "tests/e2e/"
JOURNEYS_ON_EVERY_DATABASE = (
    "tests/e2e/security/",
    "tests/e2e/test_production_shape.py",
    "tests/e2e/test_faults.py",
    "tests/e2e/test_operations.py",
    "tests/e2e/test_live_dashboards.py",
    "tests/e2e/test_live_everywhere.py",
    "tests/e2e/test_demo_play_through.py",
)


def pytest_configure(config: pytest.Config) -> None:
    processes.mark_this_run()


def _listed(path: str, entries: tuple[str, ...]) -> bool:
    return any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in entries)


def runs_on_one_database(item: pytest.Item) -> bool:
    path = item.path.relative_to(item.config.rootpath).as_posix()
    if _listed(path, DATABASE_INDEPENDENT):
        return True
    return path.startswith(ONE_DATABASE_FOR_JOURNEYS) and not _listed(path, JOURNEYS_ON_EVERY_DATABASE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, leave out what the SQLite pass has already run unchanged."""
    if databases.selected_backend() != "postgresql":
        return
    left_out = [item for item in items if runs_on_one_database(item)]
    if not left_out:
        return
    items[:] = [item for item in items if not runs_on_one_database(item)]
    config.hook.pytest_deselected(items=left_out)
    config.stash[_LEFT_OUT] = len(left_out)


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if count := config.stash.get(_LEFT_OUT, 0):
        terminalreporter.write_line(f"{count} tests ran in the SQLite pass only: those no database can "
                                    f"change and the browser journeys of the pages (tests/conftest.py)")


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
