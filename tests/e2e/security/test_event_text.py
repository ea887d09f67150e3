"""NUL characters sent by a forged client are dropped before any handler runs, so the handler
answers as it would for the same text without them, on SQLite and on PostgreSQL alike (where a
NUL in a query would otherwise end in the generic error)."""

from __future__ import annotations

import asyncio

import pytest

from immtrax_portal.ui import routes
from immtrax_portal.ui.state.organizations import OrganizationsState
from tests.e2e.security.forged_client import ForgedTab, handler_name, text_of
from tests.e2e.security.harness import GENERIC_ERROR

pytestmark = pytest.mark.e2e


def test_a_search_with_nul_characters_searches_for_the_text_without_them(portal, world):
    async def search():
        async with ForgedTab(portal, page=routes.STAFF_ORGANIZATIONS, cookie=world.cookies["staff"]) as tab:
            updates = await tab.call(handler_name(OrganizationsState, "search"),
                                     {"form": {"q": "Boz\x00e\x00"}})
            return (text_of(updates), tab.var(OrganizationsState, "search_term"),
                    tab.var(OrganizationsState, "total"))

    answer, term, total = asyncio.run(search())
    assert GENERIC_ERROR not in answer
    assert term == "Boze"
    assert total == 1, "Bozeman Health, found by the text without NULs"
