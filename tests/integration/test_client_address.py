"""Source IPs in the audit log: X-Forwarded-For counts only as far as trusted proxies reach.

Unit cases for the rule, then the websocket side (a state handler's denial, with the router data
Reflex builds for a connection) and the HTTP side (a refused sign-in callback).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import select
from starlette.testclient import TestClient

from immtrax_portal.auth.sessions import hash_of, new_random_id, session_cookie_name
from immtrax_portal.client_address import client_address
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import AuditEvent, WebSession, utcnow
from immtrax_portal.http_app import build_http_app
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.wizard import WizardState
from tests.support.databases import SINGLE_BACKEND, fresh_database_url, use_database
from tests.support.wizard_world import build_world


@pytest.mark.parametrize(("peer", "forwarded", "hops", "expected"), [
    ("10.0.0.9", "", 0, "10.0.0.9"),
    ("10.0.0.9", "203.0.113.66", 0, "10.0.0.9"),                      # spoofed, no proxy: ignored
    ("10.0.0.9", "203.0.113.66, 198.51.100.4", 1, "198.51.100.4"),    # the proxy appended the client
    ("10.0.0.9", "1.1.1.1, 198.51.100.4, 10.0.0.2", 2, "198.51.100.4"),
    ("10.0.0.9", "198.51.100.4", 2, "10.0.0.9"),                      # fewer entries than proxies
    ("10.0.0.9", " , ", 1, "10.0.0.9"),
])
def test_the_client_is_the_entry_the_outermost_trusted_proxy_appended(peer, forwarded, hops, expected):
    assert client_address(peer, forwarded, hops) == expected


@pytest.fixture
def world(tmp_path, monkeypatch):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url):
        yield build_world()
    get_settings.cache_clear()


def trusting(monkeypatch, hops: int) -> None:
    monkeypatch.setenv("IMMTRAX_TRUSTED_PROXY_HOPS", str(hops))
    get_settings.cache_clear()


def wizard_behind(person_id: int, *, peer: str, forwarded_for: str) -> WizardState:
    raw = new_random_id()
    now = utcnow()
    with session_scope() as session:
        session.add(WebSession(id_hash=hash_of(raw), person_id=person_id, created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(hours=8)))
    router_data = {"headers": {"cookie": f"{session_cookie_name()}={raw}", "user-agent": "Mozilla/5.0",
                               "x-forwarded-for": forwarded_for},
                   "pathname": "/requests/new", "asPath": "/requests/new", "ip": peer,
                   "token": "tab-token", "sid": "sid"}
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(WizardState.get_full_name().split(".")[1:])
    root.router_data = router_data
    root.router = RouterData.from_router_data(router_data)
    return state


def last_denial() -> AuditEvent:
    with session_scope() as session:
        return session.exec(select(AuditEvent).where(AuditEvent.outcome == AuditOutcome.DENIED)
                            .order_by(AuditEvent.id.desc())).first()


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(world, monkeypatch):
    trusting(monkeypatch, 0)
    state = wizard_behind(world.sam, peer="192.0.2.10", forwarded_for="6.6.6.6")
    state.open_wizard()
    state.choose_organization(str(world.beta))
    denial = last_denial()
    assert denial.action == "wizard.choose_organization"
    assert denial.source_ip == "192.0.2.10"
    assert (denial.actor_id, denial.actor_role) == (world.sam, "supervisor")
    assert (denial.target_type, denial.target_id) == ("organization", str(world.beta))


def test_behind_one_trusted_proxy_the_address_it_appended_is_recorded(world, monkeypatch):
    trusting(monkeypatch, 1)
    state = wizard_behind(world.sam, peer="10.0.0.2", forwarded_for="6.6.6.6, 198.51.100.23")
    state.open_wizard()
    state.choose_organization(str(world.beta))
    assert last_denial().source_ip == "198.51.100.23"


def test_a_refused_sign_in_callback_records_the_peer_not_a_spoofed_header(world, monkeypatch):
    trusting(monkeypatch, 0)
    client = TestClient(build_http_app(), client=("192.0.2.77", 50000))
    response = client.get("/auth/callback?state=x&code=y", headers={"X-Forwarded-For": "6.6.6.6"},
                          follow_redirects=False)
    assert response.status_code in (200, 400)
    denial = last_denial()
    assert denial.action == "sign_in_denied" and denial.source_ip == "192.0.2.77"
    assert denial.actor_role == "anonymous"
