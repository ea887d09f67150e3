"""The browser receives none of its connection's request headers through the router state, while
the server still decides with them (the Safari gate reads the User-Agent on the server)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from immtrax_portal.ui import routes
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from tests.e2e.security.forged_client import ROOT_STATE, ForgedTab, text_of

pytestmark = pytest.mark.e2e

SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Safari/605.1.15")


def test_no_request_header_reaches_the_browser_but_the_server_still_reads_them(portal, world):
    mark = uuid.uuid4().hex
    headers = {"X-Internal-Proxy-Token": f"proxy-{mark}", "Accept-Language": f"en-{mark[:8]}",
               "X-Request-Id": f"trace-{mark}"}

    async def open_wizard():
        async with ForgedTab(portal, page=routes.WIZARD, cookie=world.cookies["supervisor"],
                             user_agent=f"{SAFARI} marker-{mark}", extra_headers=headers) as tab:
            return tab.updates, tab.state().get(ROOT_STATE, {}), tab.var(BrowserGateState, "gate_blocked")

    updates, root, blocked = asyncio.run(open_wizard())
    sent = text_of(updates)
    assert mark not in sent, "a request header reached the browser"
    assert "Safari" not in json.dumps(root.get("rx_router_headers", {}))
    assert root.get("rx_router_headers", {}).get("raw_headers") == {}
    # The server read the User-Agent all the same: Safari gets the gate.
    assert blocked is True
