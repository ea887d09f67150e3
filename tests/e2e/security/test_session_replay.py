"""Replays over the event websocket: a signed-out or expired session cookie, and an old tab's
client token after sign-out, get neither data nor actions; events from a foreign Origin never run.

Covered elsewhere and not repeated here: the HTTP side of sign-out and cookie replay
(tests/integration/test_oidc_sign_in.py), a different person's cookie under the same state
(tests/integration/test_wizard_handlers.py), and the handshake's Origin check
(tests/e2e/test_websocket_origin.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import socketio

from immtrax_portal.auth.sessions import hash_of
from immtrax_portal.ui.state.dashboard import DashboardState
from immtrax_portal.ui.state.session import SessionState
from tests.e2e.security import database
from tests.e2e.security.forged_client import ForgedTab, handler_name
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
