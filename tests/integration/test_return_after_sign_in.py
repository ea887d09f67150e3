"""Signing in returns to the page one was on, and only ever to a same-site relative path.

The header's "Sign in" carries the page's own address (an invitation link included); a page that
sends a signed-out visitor to sign in keeps its query (a request number, the wizard's step); the
timeout warning's "time is up" comes back to the wizard with ``resumed=1``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from immtrax_portal.ui.state.session import SessionState
from immtrax_portal.ui.state.session_timeout import SessionTimeoutState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.handler_calls import state_as


@pytest.fixture
def database(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield


def return_to_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["return_to"][0]


@pytest.mark.parametrize(("address", "back_to"), [
    ("/agreement/" + "A" * 43, "/agreement/" + "A" * 43),
    ("/request?number=IMR-2026-000004", "/request?number=IMR-2026-000004"),
    ("/requests/new?step=3", "/requests/new?step=3"),
    ("/sign-in?return_to=/agreement/" + "B" * 43, "/agreement/" + "B" * 43),
    ("/sign-in?return_to=//evil.example/x", "/"),
    ("/sign-in?return_to=https://evil.example/", "/"),
    ("/sign-in?return_to=/auth/sign-out", "/"),
])
def test_the_header_sign_in_returns_to_this_page_and_nowhere_else(database, address, back_to):
    state = state_as(SessionState, None, path=address)
    state.load_identity()
    assert state.sign_in_here.startswith("/sign-in?return_to=")
    assert return_to_of(state.sign_in_here) == back_to


def test_a_signed_out_visitor_of_a_request_page_comes_back_to_that_request(database):
    from immtrax_portal.ui.state.request_detail import RequestDetailState

    state = state_as(RequestDetailState, None, path="/request?number=IMR-2026-000002")
    answer = state.load()
    assert "return_to=/request%3Fnumber%3DIMR-2026-000002" in str(answer)


def test_time_up_on_the_wizard_comes_back_to_the_same_step_saying_so(database):
    state = state_as(SessionTimeoutState, None, path="/requests/new?step=3")
    assert state._timeout_return_address() == "/requests/new?step=3&resumed=1"
    other = state_as(SessionTimeoutState, None, path="/staff/queue?status=needs_info")
    assert other._timeout_return_address() == "/staff/queue?status=needs_info"
