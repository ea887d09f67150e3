"""The forged-event harness's world: the running portal (``tests/e2e/conftest.py``), its database
file, the harness's fixture rows, and a real session cookie for every caller."""

from __future__ import annotations

import time

import pytest

from immtrax_portal.services.housekeeping import run_due_jobs
from tests.e2e.security import database
from tests.e2e.security.harness import discovered_handlers
from tests.e2e.security.world import (
    CALLERS,
    STAFF_SUPERVISOR,
    add_fixtures,
    compute_secrets,
    load_world,
    session_cookie,
)
from tests.support.databases import use_database


@pytest.fixture(scope="session")
def world(portal, portal_env):
    url = portal_env["IMMTRAX_DATABASE_URL"]
    world = load_world(portal, url)
    add_fixtures(url, world)
    settle_housekeeping(url)
    compute_secrets(world)
    cookies = {subject: session_cookie(portal, subject) for subject in set(CALLERS.values()) if subject}
    world.cookies = {caller: cookies[subject] if subject else "" for caller, subject in CALLERS.items()}
    cookie_name = world.cookies["staff"].split("=", 1)[0]
    world.cookies[STAFF_SUPERVISOR] = f"{cookie_name}={world.kim_session}"
    supervisors = [world.id_of(s) for s in ("demo-supervisor-two-orgs", "demo-supervisor-one-org")]
    marks = ",".join("?" * len(supervisors))
    drafts = database.query(world.db, f"SELECT * FROM wizard_draft WHERE supervisor_id IN ({marks})",
                            *supervisors)
    yield world
    # The demo supervisors' wizard drafts go back to what other end-to-end tests expect.
    database.execute(world.db, f"DELETE FROM wizard_draft WHERE supervisor_id IN ({marks})", *supervisors)
    for row in drafts:
        columns = ", ".join(row)
        database.execute(world.db, f"INSERT INTO wizard_draft ({columns}) VALUES "
                                   f"({', '.join('?' * len(row))})", *row.values())


def settle_housekeeping(url: str, timeout_s: float = 150) -> None:
    """Let every housekeeping job run once over the harness's rows before the first case. A job
    that finds them due (an access-end reminder, an idle notice) would otherwise act in the middle
    of some forged call, whose snapshot would count the job's rows as that call's effect; once run,
    the jobs find nothing more to do (each effect is idempotent) until the day changes.

    The harness runs the due jobs itself, under the same leases as the portal's own loop (which
    ticks once a minute): a job the loop holds at that moment is waited for."""
    before = {row["name"]: row["last_finished_at"]
              for row in database.query(url, "SELECT name, last_finished_at FROM job_lease")}
    database.execute(url, "UPDATE job_lease SET next_run_at = lease_expires_at")  # due now
    with use_database(url):
        run_due_jobs()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = {row["name"]: row["last_finished_at"]
               for row in database.query(url, "SELECT name, last_finished_at FROM job_lease")}
        if all(now.get(name) != finished for name, finished in before.items()):
            return
        time.sleep(0.5)
    raise RuntimeError(f"the portal's housekeeping did not run within {timeout_s:.0f} s")


@pytest.fixture(scope="session")
def handlers():
    return discovered_handlers()
