"""/metrics: refused without a configured token, the Prometheus text format with one, and numbers
that add up across worker processes (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import EmailStatus
from immtrax_portal.domain.models import OutboundEmail
from tests.integration.test_health_probes import environment, operations_app
from tests.support.databases import SINGLE_BACKEND, database_unavailable, fresh_database_url, use_database
from tests.support.oidc import serve_asgi_in_thread

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-the-test-suite-0123456789"


@pytest.fixture(scope="module")
def portal_url():
    with serve_asgi_in_thread(operations_app()) as url:
        yield url


@pytest.fixture
def database_url(tmp_path):
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url), \
            environment(IMMTRAX_METRICS_TOKEN=TOKEN, IMMTRAX_REDIS_URL=None, PROMETHEUS_MULTIPROC_DIR=None):
        yield url


def scrape(portal_url: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{portal_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_do_not_exist_without_a_configured_token(portal_url, database_url):
    with environment(IMMTRAX_METRICS_TOKEN=None):
        response = httpx.get(f"{portal_url}/metrics", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 404
    assert "immtrax_" not in response.text


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_are_refused_without_the_right_bearer_token(portal_url, database_url, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(f"{portal_url}/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "immtrax_" not in response.text


def test_requests_are_counted_by_kind_and_status(portal_url, database_url):
    before = scrape(portal_url)
    for _ in range(3):
        httpx.get(f"{portal_url}/healthz")
    httpx.get(f"{portal_url}/auth/sign-out")  # signed out: a page saying so
    httpx.get(f"{portal_url}/no/such/page.txt")
    after = scrape(portal_url)
    grew = {key: after[key] - before.get(key, 0) for key in after if key[0] == "immtrax_http_requests_total"}
    assert grew[("immtrax_http_requests_total", (("kind", "probe"), ("status", "200")))] >= 3
    assert grew[("immtrax_http_requests_total", (("kind", "sign_in"), ("status", "200")))] == 1
    assert grew[("immtrax_http_requests_total", (("kind", "asset"), ("status", "404")))] == 1


def test_the_outbox_is_counted_from_the_database_at_scrape_time(portal_url, database_url):
    with session_scope() as session:
        for status in [EmailStatus.QUEUED] * 3 + [EmailStatus.FAILED] * 2 + [EmailStatus.SENT] * 4:
            session.add(OutboundEmail(kind="invitation", to_address="someone@example.org", subject="s",
                                      body_text="b", body_html="<p>b</p>", status=status))
    found = scrape(portal_url)
    assert value(found, "immtrax_outbox_emails", status="queued") == 3
    assert value(found, "immtrax_outbox_emails", status="failed") == 2
    assert value(found, "immtrax_outbox_emails", status="sending") == 0
    assert "someone@example.org" not in httpx.get(
        f"{portal_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text


def test_database_errors_are_counted(portal_url, database_url):
    before = scrape(portal_url)
    with database_unavailable(database_url):
        assert httpx.get(f"{portal_url}/readyz").status_code == 503
        during = httpx.get(f"{portal_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert during.status_code == 200  # the other numbers are still served
    after = samples(during.text)
    assert (value(after, "immtrax_database_errors_total", where="readiness")
            > value(before, "immtrax_database_errors_total", where="readiness"))
    assert value(after, "immtrax_outbox_emails", status="queued") == 0  # not counted, not made up


WORKER = textwrap.dedent("""
    import sys, time
    from immtrax_portal.operations import metrics
    requests, stay = int(sys.argv[1]), sys.argv[2] == "stay"
    for _ in range(requests):
        metrics.HTTP_REQUESTS.labels(kind="page", status="200").inc()
    metrics.EVENTS.labels(handler="wizard_state.next_step", outcome="ok").inc(requests)
    metrics.EVENT_SECONDS.labels(handler="wizard_state.next_step").observe(0.02)
    metrics.LIVE_PAGES.inc(2)
    print("counted", flush=True)
    if stay:
        time.sleep(60)
""")


def test_numbers_from_several_worker_processes_add_up_and_dead_workers_pages_are_dropped(tmp_path):
    from immtrax_portal.operations.metrics import prepare_metrics_directory

    directory = prepare_metrics_directory(tmp_path / "metrics")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    finished = [subprocess.run([sys.executable, "-c", WORKER, str(n), "exit"], env=env, cwd=ROOT,
                               check=True, capture_output=True, timeout=60) for n in (5, 7)]
    assert all(b"counted" in run.stdout for run in finished)
    alive = subprocess.Popen([sys.executable, "-c", WORKER, "11", "stay"], env=env, cwd=ROOT,
                             stdout=subprocess.PIPE)
    try:
        assert alive.stdout.readline() == b"counted\n"
        exposition = subprocess.run(
            [sys.executable, "-c", "import sys; from immtrax_portal.operations.metrics import exposition; "
                                   "sys.stdout.write(exposition().decode())"],
            env={**env, "IMMTRAX_DATABASE_URL": f"sqlite:///{tmp_path / 'none' / 'missing.db'}"},
            cwd=ROOT, check=True, capture_output=True, text=True, timeout=60).stdout
    finally:
        alive.kill()
        alive.wait()
    found = samples(exposition)
    assert value(found, "immtrax_http_requests_total", kind="page", status="200") == 23
    assert value(found, "immtrax_events_total", handler="wizard_state.next_step", outcome="ok") == 23
    assert value(found, "immtrax_event_duration_seconds_count", handler="wizard_state.next_step") == 3
    # Two workers exited: only the live one's open pages count.
    assert value(found, "immtrax_live_pages_open") == 2



def test_a_failed_event_is_counted_with_its_handler_and_a_redis_failure_as_a_redis_error():
    import asyncio

    import redis.exceptions
    from prometheus_client import REGISTRY
    from reflex_base.event import Event

    from immtrax_portal.operations.observation import ObservedEvents, count_event_failure

    name = "reflex___state____state.immtrax_portal___ui___state___wizard____wizard_state.next_step"
    handler = "wizard_state.next_step"

    def numbers() -> list[float]:
        return [REGISTRY.get_sample_value(metric, labels) or 0 for metric, labels in (
            ("immtrax_events_total", {"handler": handler, "outcome": "ok"}),
            ("immtrax_events_total", {"handler": handler, "outcome": "error"}),
            ("immtrax_redis_errors_total", {"where": "event"}),
            ("immtrax_event_duration_seconds_count", {"handler": handler}))]

    async def one_event(fail: bool) -> None:
        async def handle() -> None:
            await ObservedEvents().preprocess(None, None, Event(name=name, payload={}))
            if fail:  # what the backend exception handler sees when Redis went away
                lost = redis.exceptions.ConnectionError("Connection refused")
                try:
                    raise RuntimeError("state could not be loaded") from lost
                except RuntimeError as error:
                    count_event_failure(error)
        await asyncio.create_task(handle())
        await asyncio.sleep(0)  # the task's done callbacks

    before = numbers()
    asyncio.run(one_event(fail=False))
    asyncio.run(one_event(fail=True))
    assert [b - a for a, b in zip(before, numbers(), strict=True)] == [1, 1, 1, 2]


@pytest.mark.parametrize("event_name, label", [
    ("reflex___state____state.immtrax_portal___ui___state___wizard____wizard_state.next_step",
     "wizard_state.next_step"),
    ("reflex___state____state.hydrate_and_load", "state.hydrate_and_load"),
    ("reflex___state____state.immtrax_portal___ui___state___session____session_state."
     "immtrax_portal___ui___state___dashboard____dashboard_state.watch_live", "dashboard_state.watch_live"),
])
def test_handlers_are_labelled_by_state_class_and_handler_name(event_name, label):
    from immtrax_portal.operations.metrics import short_handler_name

    assert short_handler_name(event_name) == label
