"""The event websocket accepts only the portal's own public origin."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

pytestmark = pytest.mark.e2e


async def _handshake(portal: str, origin: str) -> tuple[int, str]:
    """Open the event socket as a browser tab would; return (HTTP status, first frame or '')."""
    url = portal.replace("http", "ws", 1) + "/_event/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers={"Origin": origin}, timeout=10) as socket:
                first = await socket.receive(timeout=10)
                return 101, str(first.data)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status, ""


def test_event_socket_handshake_from_the_portal_origin_is_accepted(portal):
    status, first_frame = asyncio.run(_handshake(portal, portal))
    assert status == 101
    assert '"sid"' in first_frame


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost:9999", "null"])
def test_event_socket_handshake_from_another_origin_is_refused(portal, origin):
    status, first_frame = asyncio.run(_handshake(portal, origin))
    assert status in (400, 403)
    assert first_frame == ""
