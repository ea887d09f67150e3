"""/healthz and /readyz over HTTP (uvicorn), against a real database made unreachable and a Redis
server of the test's own that is killed and started again."""

from __future__ import annotations

import logging
import os
import socket
import time
from contextlib import contextmanager

import httpx
import pytest
from sqlmodel import func, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AuditEvent
from immtrax_portal.http_app import build_http_app
from immtrax_portal.operations.health import health_routes
from immtrax_portal.operations.metrics import metrics_routes
from immtrax_portal.operations.observation import ObservedRequestsMiddleware
from immtrax_portal.settings import get_settings
from tests.support.databases import SINGLE_BACKEND, database_unavailable, fresh_database_url, use_database
from tests.support.oidc import serve_asgi_in_thread
from tests.support.redis_server import OwnRedis


def operations_app():
    """The port's routes as the app mounts them (see immtrax_portal.py's ``_front_routes``)."""
    app = build_http_app([*health_routes(), *metrics_routes()])
    app.add_middleware(ObservedRequestsMiddleware)
    return app


@contextmanager
def environment(**values: str | None):
    before = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def portal_url():
    with serve_asgi_in_thread(operations_app()) as url:
        yield url


@pytest.fixture
def database_url(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url), \
            environment(IMMTRAX_REDIS_URL=None, IMMTRAX_READINESS_TIMEOUT_SECONDS="1"):
        yield url


def wait_until_ready(portal_url: str) -> None:
    """Whatever an earlier test left (a probe still waiting on a hung database), ready now."""
    deadline = time.monotonic() + 10
    while httpx.get(f"{portal_url}/readyz").status_code != 200:
        assert time.monotonic() < deadline, "never ready"
        time.sleep(0.2)


def audit_events() -> int:
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_liveness_answers_even_when_the_database_is_unreachable(portal_url, database_url):
    with database_unavailable(database_url):
        response = httpx.get(f"{portal_url}/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"
    assert response.headers["cache-control"] == "no-store"


def test_readiness_is_ok_while_the_database_answers_and_503_while_it_does_not(portal_url, database_url):
    ready = httpx.get(f"{portal_url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "redis": "not configured"}
    with database_unavailable(database_url):
        started = time.monotonic()
        down = httpx.get(f"{portal_url}/readyz")
        assert time.monotonic() - started < 3
    assert down.status_code == 503
    assert down.json()["ready"] is False
    assert down.json()["database"].startswith("database unreachable")
    assert httpx.get(f"{portal_url}/readyz").status_code == 200  # back by itself


@contextmanager
def silent_server():
    """A TCP port that accepts connections and never says a word (a hung database host)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_a_database_that_hangs_makes_readiness_fail_within_its_timeout(portal_url, database_url):
    with silent_server() as port, \
            use_database(f"postgresql+psycopg://nobody@127.0.0.1:{port}/hung"):
        started = time.monotonic()
        first = httpx.get(f"{portal_url}/readyz", timeout=10)
        second = httpx.get(f"{portal_url}/readyz", timeout=10)  # shares the hung call
        elapsed = time.monotonic() - started
    assert first.status_code == second.status_code == 503
    assert first.json()["database"] == "database did not answer in time"
    assert elapsed < 4


def test_probes_are_never_audited_nor_logged_per_call(portal_url, database_url, caplog):
    before = audit_events()
    wait_until_ready(portal_url)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        for _ in range(20):
            assert httpx.get(f"{portal_url}/readyz").status_code == 200
            assert httpx.get(f"{portal_url}/healthz").status_code == 200
    assert audit_events() == before
    assert [r.getMessage() for r in caplog.records if r.name.startswith("immtrax_portal")] == []


def test_a_change_of_readiness_is_logged_once(portal_url, database_url, caplog):
    wait_until_ready(portal_url)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="immtrax_portal"), database_unavailable(database_url):
        for _ in range(5):
            assert httpx.get(f"{portal_url}/readyz").status_code == 503
    assert httpx.get(f"{portal_url}/readyz").status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "immtrax_portal.operations.health"]
    assert len(messages) == 2, messages
    assert messages[0].startswith("not ready: database database unreachable")
    assert messages[1] == "ready again: database and Redis answer"


def test_readiness_follows_redis_down_and_up(portal_url, database_url, tmp_path):
    redis = OwnRedis(tmp_path / "redis").start()
    try:
        with environment(IMMTRAX_REDIS_URL=redis.url(5)):
            assert httpx.get(f"{portal_url}/readyz").json() == {"ready": True, "database": "ok",
                                                               "redis": "ok"}
            redis.kill()
            down = httpx.get(f"{portal_url}/readyz")
            assert down.status_code == 503
            assert down.json()["redis"].startswith("Redis unreachable")
            assert down.json()["database"] == "ok"
            redis.start()
            assert httpx.get(f"{portal_url}/readyz").status_code == 200
    finally:
        redis.stop()
