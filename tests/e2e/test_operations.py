"""The portal as operators run it: several Granian workers with state in Redis, JSON log lines,
metrics; and what people see when Redis restarts empty under their open tabs.

This module starts a portal of its own (own port, own web folder ``.web-e2e-ops``, own database)
with two workers and a Redis server of its own (``tests/support/redis_server.py``: never the
machine's shared Redis), because it kills that Redis.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from immtrax_portal.ui.state_loss import NOTICE
from tests.e2e.conftest import (
    PortalProcess,
    portal_database,
    portal_of_its_own,
    save_screenshot,
    sign_in_as,
    wait_for_draft,
)
from tests.e2e.test_wizard_journeys import (
    at_step,
    fill_person,
    iso,
    person_answers,
    press_continue,
    radio,
)
from tests.support.redis_server import OwnRedis
from tests.support.smtp_server import FakeSmtp

pytestmark = pytest.mark.e2e

DANA, DANA_EMAIL = "demo-supervisor-two-orgs", "dana.whitfield@billingsclinic.example"
METRICS_TOKEN = "operations-e2e-metrics-token-0123456789"
WORKERS = 2


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = OwnRedis(tmp_path_factory.mktemp("ops-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp():
    server = FakeSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ops_portal(tmp_path_factory, redis, smtp) -> PortalProcess:
    with portal_of_its_own(tmp_path_factory, 1, "ops", {
        "IMMTRAX_REDIS_URL": redis.url(5),
        "GRANIAN_WORKERS": str(WORKERS), "IMMTRAX_WORKERS": str(WORKERS),
        "IMMTRAX_LOG_FORMAT": "json",
        "IMMTRAX_METRICS_TOKEN": METRICS_TOKEN,
        "IMMTRAX_SMTP_HOST": "127.0.0.1", "IMMTRAX_SMTP_PORT": str(smtp.port),
        "IMMTRAX_SMTP_SECURITY": "none", "IMMTRAX_MAIL_DELIVERY_INTERVAL_SECONDS": "0.5",
    }) as process:
        yield process


@pytest.fixture(scope="module")
def database(ops_portal):
    with portal_database(ops_portal) as engine:
        yield engine


def json_lines(portal: PortalProcess) -> list[dict]:
    found = []
    for line in portal.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                pass
    return found


def wait_for_log_line(portal: PortalProcess, matches, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in json_lines(portal):
            if matches(line):
                return line
        time.sleep(0.5)
    raise AssertionError(f"no such log line; the log ends:\n{portal.log.read_text()[-3000:]}")


def test_the_mail_workers_info_lines_reach_the_log_as_json(ops_portal, smtp):
    sent = wait_for_log_line(ops_portal, lambda line: line.get("logger") == "immtrax_portal.mail"
                             and re.fullmatch(r"Mail #\d+ \(\w+\) sent", line.get("message", "")))
    assert sent["level"] == "INFO"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", sent["time"])
    assert smtp.outbox_ids()  # the mail did go out
    # No personal data: the address the mail went to is in the database, not the log.
    assert "@" not in sent["message"]


def test_a_tabs_lost_state_is_explained_and_the_wizard_comes_back_at_its_step(
        ops_portal, redis, page_at, database):
    page = page_at(1280)
    sign_in_as(page, ops_portal.url, DANA, return_to="/requests/new")
    at_step(page, 1, "Organization and request type")
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Rhea", "Restart", "rhea.restart@laurelpeds.example")
    page.get_by_role("main").get_by_label("Job title").press("Tab")
    # All of the step saved (the start date, typed last, is saved last): a value that never
    # reached the server could not come back with the reload, and the step could not go on.
    wait_for_draft(database, DANA_EMAIL,
                   **person_answers("Rhea", "Restart", "rhea.restart@laurelpeds.example"))
    page.evaluate("window.__beforeRedisRestart = true")

    redis.restart_empty()

    press_continue(page)  # the server no longer knows this tab
    notice = page.get_by_role("alert").filter(has_text=NOTICE)
    expect(notice).to_be_visible(timeout=10000)
    save_screenshot(page, "state-lost-notice-1280")
    page.wait_for_function("window.__beforeRedisRestart === undefined", timeout=15000)  # reloaded
    assert urlsplit(page.url).path.rstrip("/").endswith("/requests/new")  # (?step=2: the step's address)
    at_step(page, 2, "The person")
    main = page.get_by_role("main")
    expect(main.get_by_label("Legal first name")).to_have_value("Rhea")
    expect(main.get_by_label("Work email")).to_have_value("rhea.restart@laurelpeds.example")
    expect(main.get_by_label("Job title")).to_have_value("Registered Nurse")
    expect(main.get_by_label("Start date")).to_have_value(iso(4))
    expect(page.get_by_role("alert").filter(has_text=NOTICE)).to_have_count(0)

    press_continue(page)  # and the wizard goes on as before
    at_step(page, 3, "Access level")


def test_an_untouched_dashboard_whose_state_was_lost_reloads_itself(ops_portal, redis, page_at):
    page = page_at(390, 844)
    sign_in_as(page, ops_portal.url, DANA, return_to="/dashboard")
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Welcome, Dana Whitfield").wait_for()
    main.locator('[data-live="on"]').wait_for()
    page.evaluate("window.__beforeRedisRestart = true")

    redis.restart_empty()

    notice = page.get_by_role("alert").filter(has_text=NOTICE)
    expect(notice).to_be_visible(timeout=20000)  # the live watcher's heartbeat finds the state gone
    save_screenshot(page, "state-lost-notice-390")
    page.wait_for_function("window.__beforeRedisRestart === undefined", timeout=15000)
    assert page.url.rstrip("/").endswith("/dashboard")
    main.get_by_role("heading", name="Welcome, Dana Whitfield").wait_for()
    main.locator('[data-live="on"]').wait_for(timeout=15000)  # live again


def test_readiness_says_503_while_redis_is_down_and_recovers(ops_portal, redis):
    assert httpx.get(f"{ops_portal.url}/readyz").status_code == 200
    assert httpx.get(f"{ops_portal.url}/healthz").status_code == 200
    redis.kill()
    try:
        down = httpx.get(f"{ops_portal.url}/readyz", timeout=10)
        assert down.status_code == 503
        assert down.json()["redis"].startswith("Redis ")
        assert httpx.get(f"{ops_portal.url}/healthz").status_code == 200  # alive all the same
    finally:
        redis.start()
    deadline = time.monotonic() + 15
    while httpx.get(f"{ops_portal.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "not ready again after Redis came back"
        time.sleep(0.5)
    for _ in range(10):  # every worker has seen Redis back (each logs its own change once)
        httpx.get(f"{ops_portal.url}/readyz")
    # Polled probes leave no access-log line and no portal line per call.
    lines_before = len(ops_portal.log.read_text().splitlines())
    for _ in range(20):
        assert httpx.get(f"{ops_portal.url}/readyz").status_code == 200
        assert httpx.get(f"{ops_portal.url}/healthz").status_code == 200
    assert len(ops_portal.log.read_text().splitlines()) == lines_before


def scrape(portal: PortalProcess) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"{portal.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def total(found: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in found.items()
               if sample == name and wanted <= set(sample_labels))


def test_metrics_add_up_across_the_workers_whichever_answers(ops_portal):
    """Last in the module: it also checks what the browser tests above left in the numbers."""
    assert httpx.get(f"{ops_portal.url}/metrics").status_code == 401
    before = total(scrape(ops_portal), "immtrax_http_requests_total", kind="sign_in")
    for _ in range(12):
        assert httpx.get(f"{ops_portal.url}/auth/sign-out").status_code == 200
    scrapes = [scrape(ops_portal) for _ in range(8)]  # answered by one worker or the other
    counts = {total(found, "immtrax_http_requests_total", kind="sign_in") for found in scrapes}
    assert counts == {before + 12}, counts
    last = scrapes[-1]
    # The browser tests above: events were handled and timed, pages went live, Redis was lost.
    assert total(last, "immtrax_events_total", outcome="ok") > 10
    assert total(last, "immtrax_event_duration_seconds_count") > 10
    assert total(last, "immtrax_events_total", handler="state.hydrate_and_load") >= 4  # four page loads
    assert total(last, "immtrax_redis_errors_total", where="readiness") >= 1
    assert ("immtrax_live_pages_open", ()) in last
    # Each worker ticked the invitation housekeeping when it started; the lease let one run it.
    ran = total(last, "immtrax_housekeeping_runs_total", job="invitations", outcome="ok")
    skipped = total(last, "immtrax_housekeeping_runs_total", job="invitations", outcome="skipped")
    assert ran >= 1 and ran + skipped >= WORKERS
    assert ("immtrax_outbox_emails", (("status", "queued"),)) in last
    # Both workers counted something: each writes files named after its process id.
    metric_files = (ops_portal.log.parent / "metrics").glob("counter_*.db")
    assert len({re.search(r"_(\d+)\.db$", path.name)[1] for path in metric_files}) >= WORKERS


def test_the_mail_workers_info_lines_reach_the_plain_log_by_default(portal, portal_env, mail_server):
    """The session's portal runs with the defaults (plain text, one worker)."""
    log = Path(portal_env["IMMTRAX_DATA_DIR"]) / "portal.log"
    sent = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO immtrax_portal\.mail: "
                      r"Mail #\d+ \(\w+\) sent(?: \[[^\]]*\])?$", re.MULTILINE)
    deadline = time.monotonic() + 30
    while not sent.search(log.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"no 'Mail … sent' line:\n{log.read_text()[-3000:]}"
        time.sleep(0.5)
    assert mail_server.outbox_ids()
