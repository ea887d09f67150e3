"""Replays over the event websocket: a signed-out or expired session cookie, and an old tab's
client token after sign-out, get neither data nor actions; events from a foreign Origin never run.

Covered elsewhere and not repeated here: the HTTP side of sign-out and cookie replay
(tests/integration/test_oidc_sign_in.py), a different person's cookie under the same state
(tests/integration/test_wizard_handlers.py), and the handshake's Origin check
(tests/e2e/test_websocket_origin.py).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import socketio

from immtrax_portal.auth.sessions import hash_of
from immtrax_portal.ui.state.dashboard import DashboardState
from immtrax_portal.ui.state.session import SessionState
from tests.e2e.security import database
from tests.e2e.security.forged_client import ROOT_STATE, ForgedTab, handler_name
from tests.e2e.security.world import session_cookie

pytestmark = pytest.mark.e2e

DANA = "demo-supervisor-two-orgs"
DANAS_REQUEST_SUBJECT = "Kai Morningstar"     # IMR-2026-000002 at Laurel Pediatrics


def sign_out(portal: str, cookie: str) -> None:
    response = httpx.post(f"{portal}/auth/sign-out", headers={"cookie": cookie, "origin": portal})
    assert response.status_code in (302, 303), response.text[:300]


def raw_session_id(cookie: str) -> str:
    return cookie.split("=", 1)[1]


def age_session(db: str, cookie: str, how: str) -> None:
    """Make the session expired by its absolute limit, or idle beyond the idle limit."""
    when = datetime.now(UTC) - timedelta(days=2)
    # SQLite keeps the app's text form; PostgreSQL takes the timestamp itself.
    long_ago = when if database.is_postgres(db) else when.strftime("%Y-%m-%d %H:%M:%S.%f")
    column = "expires_at" if how == "expired" else "last_seen_at"
    database.execute(db, f"UPDATE web_session SET {column} = ? WHERE id_hash = ?", long_ago,
                     hash_of(raw_session_id(cookie)))


def assert_sees_nothing_and_can_do_nothing(tab: ForgedTab, world, before_id: int) -> None:
    text = str(tab.updates)
    assert DANAS_REQUEST_SUBJECT not in text
    assert [s for s in world.secrets["anonymous"] if s in text] == []
    assert tab.var(SessionState, "signed_in") is False
    assert "sign-in" in text   # sent to sign in again


async def forged_action(tab: ForgedTab, world) -> tuple[database.Snapshot, database.Snapshot, list[dict]]:
    before = database.snapshot(world.db)
    await tab.call(handler_name(DashboardState, "next_org_page"))
    after = database.snapshot(world.db)
    return before, after, database.audit_events_after(world.db, before.last_audit_id)


def assert_refused_and_audited(before, after, audit) -> None:
    assert before.changed_tables(after) == {}
    denied = [e for e in audit if e["outcome"] == "denied"]
    assert denied and all(e["actor_id"] is None for e in denied)


@pytest.mark.parametrize("how", ["signed_out", "expired", "idle"])
def test_a_dead_session_cookie_replayed_on_the_websocket_gives_no_data_and_no_action(how, portal, world):
    cookie = session_cookie(portal, DANA)
    if how == "signed_out":
        sign_out(portal, cookie)
    else:
        age_session(world.db, cookie, how)

    async def replay():
        async with ForgedTab(portal, page="/dashboard", cookie=cookie) as tab:
            assert_sees_nothing_and_can_do_nothing(tab, world, 0)
            assert_refused_and_audited(*await forged_action(tab, world))
    asyncio.run(replay())


@pytest.mark.parametrize("with_cookie", ["signed_out_cookie", "no_cookie"])
def test_an_old_tab_token_replayed_after_sign_out_gives_no_data_and_no_action(with_cookie, portal, world):
    cookie = session_cookie(portal, DANA)

    async def replay():
        async with ForgedTab(portal, page="/dashboard", cookie=cookie) as original:
            assert DANAS_REQUEST_SUBJECT in str(original.updates)   # the tab did hold her data
            token = original.token
        sign_out(portal, cookie)
        replayed_cookie = cookie if with_cookie == "signed_out_cookie" else ""
        # The token is the tab's bearer secret; whoever presents it gets that tab's state, so the
        # state must not outlive the session it was built for.
        async with ForgedTab(portal, page="/dashboard", cookie=replayed_cookie, token=token) as tab:
            assert_sees_nothing_and_can_do_nothing(tab, world, 0)
            assert_refused_and_audited(*await forged_action(tab, world))
    asyncio.run(replay())


def test_a_live_tab_token_presented_without_its_cookie_gives_no_data(portal, world):
    """The same, before any sign-out: the token alone (say, from a shared computer's session
    storage) is not the person's session."""
    cookie = session_cookie(portal, DANA)

    async def replay():
        async with ForgedTab(portal, page="/dashboard", cookie=cookie) as original:
            token = original.token
        async with ForgedTab(portal, page="/", cookie="", token=token) as tab:
            assert DANAS_REQUEST_SUBJECT not in str(tab.updates)
            assert tab.var(SessionState, "signed_in") is False
    asyncio.run(replay())


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_no_event_from_a_foreign_origin_is_ever_processed(origin, portal, world):
    """The handshake is refused (the socket never opens), so a forged event cannot even be sent,
    and nothing reaches the database."""
    before = database.snapshot(world.db)

    async def attempt():
        tab = ForgedTab(portal, page="/dashboard", cookie=world.cookies["admin"], origin=origin)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await tab.open()
        assert tab.updates == []
    asyncio.run(attempt())
    assert database.snapshot(world.db).tables == before.tables


def router_vars(tab: ForgedTab) -> dict:
    """The root state's router vars as the browser holds them (session, headers, page, URL)."""
    root = tab.state().get(ROOT_STATE, {})
    return {name: value for name, value in root.items() if name.startswith("rx_router")}


@pytest.mark.parametrize(("with_cookie", "page", "boot_router_data"), [
    ("signed_out_cookie", "/", None), ("no_cookie", "/", None),
    # Another link of the same route: the route and query are the same, only the address differs.
    ("no_cookie", "/agreement/other-link", None), ("signed_out_cookie", "/agreement/other-link", None),
    # A forged boot event that names no address at all: nothing of the old one may fill the gap.
    ("no_cookie", "/", {}), ("signed_out_cookie", "/", {"pathname": "/"}),
])
def test_a_replayed_tab_token_learns_nothing_from_the_router_vars(with_cookie, page, boot_router_data,
                                                                   portal, world):
    """The old tab was on an invitation link (the token in its address); the replayed tab's router
    vars hold only its own address."""
    cookie = session_cookie(portal, DANA)
    secret_path = "/agreement/replay-secret-invitation-token-000000000000"

    async def replay():
        async with ForgedTab(portal, page=secret_path, cookie=cookie) as original:
            token = original.token
            assert secret_path in json.dumps(router_vars(original))
        sign_out(portal, cookie)
        replayed_cookie = cookie if with_cookie == "signed_out_cookie" else ""
        async with ForgedTab(portal, page=page, cookie=replayed_cookie, token=token,
                             boot_router_data=boot_router_data) as tab:
            seen = json.dumps(router_vars(tab))
            assert "replay-secret-invitation-token" not in seen
            assert "replay-secret" not in seen
    asyncio.run(replay())


def test_a_replayed_tab_token_without_a_boot_event_learns_nothing_from_the_router_vars(portal, world):
    """A forged client connects with the old token and no boot event, then asks for the state with
    no router data at all: the old address must not fill the gap."""
    cookie = session_cookie(portal, DANA)
    secret_path = "/agreement/replay-secret-invitation-token-111111111111"

    async def replay():
        async with ForgedTab(portal, page=secret_path, cookie=cookie) as original:
            token = original.token
        sign_out(portal, cookie)
        received: list[dict] = []
        client = socketio.AsyncClient(reconnection=False)

        async def on_update(update):
            received.append(update)
        client.on("event", on_update, namespace="/_event")
        await client.connect(f"{portal}?token={token}", headers={"Origin": portal}, transports=["websocket"],
                             namespaces=["/_event"], socketio_path="/_event", wait_timeout=10)
        try:
            for router_data in ({}, {"pathname": "/agreement/other-link"}):
                await client.emit("event", {"name": f"{ROOT_STATE}.hydrate", "payload": {},
                                            "router_data": router_data}, namespace="/_event")
                for _ in range(100):
                    if len(received) >= (1 if not router_data else 2):
                        break
                    await asyncio.sleep(0.1)
        finally:
            await client.disconnect()
        return received

    received = asyncio.run(replay())
    assert len(received) >= 2
    roots = [u.get("delta", {}).get(ROOT_STATE, {}) for u in received]
    assert any("rx_router_url_rx_state_" in root for root in roots)
    assert "replay-secret" not in json.dumps(received)
