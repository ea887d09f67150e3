"""No tab waits on another: one slow tab leaves the other tabs of its worker their round trip.

A worker process serves every tab from one event loop. The portal runs here on its own, with one
worker, and with the test-only slow database (``immtrax_portal/slow_database.py``): every SQL
statement sent while handling one of Marcus's events waits ``SLOW_STATEMENT_S``. Two tabs talk to
it over socket.io exactly as browsers do (``tests/e2e/security/forged_client.py``): Marcus's
dashboard reads itself again (its on_load, about twenty statements), which takes seconds;
meanwhile Dana turns pages of hers, and each of her round trips must stay short. Were the
handlers' database work done on the event loop, Dana's events would wait until Marcus's was done
(seen: with the guard running handlers on the loop, Dana's one page turn took 3.05 s, beside
Marcus's 3.48 s).
"""

from __future__ import annotations

import asyncio
import statistics

import pytest
import sqlalchemy as sa

from immtrax_portal.ui.state.dashboard import DashboardState
from tests.e2e.conftest import ROOT, PortalProcess, own_portal_ports, portal_environment
from tests.e2e.security.forged_client import REPLY_TIMEOUT_S, ROOT_STATE, ForgedTab, handler_name
from tests.e2e.security.world import session_cookie
from tests.support.databases import SINGLE_BACKEND, empty_database_url

pytestmark = pytest.mark.e2e

MARCUS, MARCUS_EMAIL = "demo-supervisor-one-org", "marcus.reyes@bozemanhealth.example"
DANA = "demo-supervisor-two-orgs"
SLOW_STATEMENT_S = 0.2


@pytest.fixture(scope="module")
def slow_portal(tmp_path_factory):
    # Slot 4 of the own-portal ports (0: faults, 1: operations, 3: session timeout).
    app_port, oidc_port = own_portal_ports(4)
    with empty_database_url(SINGLE_BACKEND, tmp_path_factory.mktemp("slow-tab-db")) as url:
        env = portal_environment(tmp_path_factory.mktemp("slow-tab-portal"), url, port=app_port,
                                 oidc_port=oidc_port, web_dir=str(ROOT / ".web-e2e-slow-tab"))
        env["IMMTRAX_WORKERS"] = "1"
        process = PortalProcess(env)
        process.prepare()   # migrates and loads the demo world: Marcus has his id now
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                marcus = connection.execute(sa.text("SELECT id FROM person WHERE email = :email"),
                                            {"email": MARCUS_EMAIL}).scalar_one()
        finally:
            engine.dispose()
        env.update({"IMMTRAX_DEBUG_SLOW_DATABASE_PERSON_ID": str(marcus),
                    "IMMTRAX_DEBUG_SLOW_DATABASE_SECONDS": str(SLOW_STATEMENT_S)})
        try:
            process.start()
            yield process.url
        finally:
            process.stop()


async def round_trip(tab: ForgedTab, handler: str) -> tuple[float, float]:
    """Send one event and the sentinel after it; (when it was sent, seconds until the sentinel's
    snapshot came back, which is after everything the event caused: a tab's events run in order)."""
    loop = asyncio.get_running_loop()
    wanted = tab._snapshots + 1
    sent = loop.time()
    await tab.send(handler_name(DashboardState, handler))
    await tab.send(f"{ROOT_STATE}.hydrate")
    while tab._snapshots < wanted:
        await tab._wait_for_update(sent + REPLY_TIMEOUT_S - loop.time())
    return sent, loop.time() - sent


def test_a_tab_whose_database_is_slow_holds_up_no_other_tab_of_its_worker(slow_portal):
    cookies = {who: session_cookie(slow_portal, who) for who in (MARCUS, DANA)}

    async def scenario():
        async with ForgedTab(slow_portal, page="/dashboard", cookie=cookies[MARCUS]) as slow, \
                ForgedTab(slow_portal, page="/dashboard", cookie=cookies[DANA]) as quick:
            alone = [(await round_trip(quick, "next_my_page"))[1] for _ in range(3)]
            slow_turn = asyncio.create_task(round_trip(slow, "load"))
            await asyncio.sleep(SLOW_STATEMENT_S * 2)   # Marcus's handler is in its database work now
            beside = []
            while not slow_turn.done() and len(beside) < 6:
                beside.append(await round_trip(quick, "next_my_page"))
            slow_sent, slow_took = await slow_turn
            return alone, beside, slow_sent + slow_took, slow_took

    alone, beside, slow_done, slow_took = asyncio.run(scenario())
    assert slow_took >= SLOW_STATEMENT_S * 8, f"Marcus's dashboard was not slowed ({slow_took:.2f} s)"
    finished_meanwhile = [took for sent, took in beside if sent + took < slow_done]
    assert len(finished_meanwhile) >= 2, (
        f"Dana's page turns waited for Marcus's dashboard ({slow_took:.2f} s): "
        f"{[round(t, 2) for _, t in beside]}")
    worst = max(took for _, took in beside)
    assert worst < max(1.0, 5 * statistics.median(alone)) and worst < slow_took / 2, (
        f"Dana's round trips beside Marcus's slow one: {[round(t, 2) for _, t in beside]} s "
        f"(alone: {[round(t, 2) for t in alone]} s; Marcus's: {slow_took:.2f} s)")
