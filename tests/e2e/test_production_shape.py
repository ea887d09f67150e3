"""The production shape, run for real: two portal instances (two Granian workers each) sharing one
PostgreSQL and one Redis, behind nginx with the shipped proxy rules (deploy/nginx/), no sticky
sessions, one front-end build shared by both. In Chromium it shows:

- a worker SIGKILLed while tabs submit is respawned, the portal keeps answering, and the tab it
  served reconnects to its draft; nothing is lost or doubled;
- a sign-in made through one instance is valid on the other;
- a tab whose websocket moves to the other instance keeps its state;
- a change made through one instance shows on a dashboard served by the other within a second;
- with one instance stopped, the portal stays usable through the other (passive failover).

Needs nginx, Redis and PostgreSQL; it is skipped, saying which one is missing, without them, and
on the SQLite pass of ``make test`` (it runs in the PostgreSQL pass). Ports: free ones, or
``IMMTRAX_E2E_PRODUCTION_PORT`` (+0 nginx, +1/+2 the instances, +3 the sign-in provider); Redis:
``IMMTRAX_TEST_REDIS_URL`` (default database 0; tabs' keys are unique, nothing is flushed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from immtrax_portal.db import build_engine
from immtrax_portal.domain.models import AccessRequest, Invitation, Person
from tests.e2e.conftest import (
    ROOT,
    PortalProcess,
    portal_environment,
    save_screenshot,
    sign_in_as,
    wait_for_draft,
)
from tests.e2e.test_live_dashboards import DELETION, dashboard_of
from tests.e2e.test_wizard_journeys import at_step, fill_person, open_fresh_wizard, press_continue, radio
from tests.support.balancer import NGINX, Nginx
from tests.support.databases import empty_database_url, postgres_unreachable_reason, selected_backend
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

DANA, MARCUS = "demo-supervisor-two-orgs", "demo-supervisor-one-org"
DANA_EMAIL, MARCUS_EMAIL = "dana.whitfield@billingsclinic.example", "marcus.reyes@bozemanhealth.example"
REDIS_URL = os.environ.get("IMMTRAX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WEB_DIR = ROOT / ".web-e2e-production"


def missing_piece() -> str | None:
    """Why the production shape cannot be run here, or None."""
    if selected_backend() == "sqlite":
        return "the production shape runs on PostgreSQL: in the PostgreSQL pass of make test"
    if NGINX is None:
        return "nginx is not installed (Debian: apt-get install nginx)"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means: no Redis here
        return f"Redis does not answer at {REDIS_URL}: {error}"
    if (reason := postgres_unreachable_reason()) is not None:
        return f"PostgreSQL does not answer: {reason}"
    return None


class Instance(PortalProcess):
    """One portal instance: ``cli serve`` on its own listen port, public URL = the balancer's."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        super().__init__(env)
        self.name, self.port = name, int(env["IMMTRAX_LISTEN_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"  # where start() waits for /ping

    def processes(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def workers(self) -> list[psutil.Process]:
        """Granian's worker processes (the children of its main process)."""
        for process in self.processes():
            try:
                if "granian" in " ".join(process.cmdline()) and process.children():
                    return process.children()
            except psutil.NoSuchProcess:
                continue
        return []

    def sockets_by_worker(self) -> dict[int, int]:
        """Open connections from the balancer per worker pid. The test balancer keeps no idle
        upstream connections, so once pages have loaded these are the tabs' websockets."""
        counts: dict[int, int] = {}
        for worker in self.workers():
            try:
                counts[worker.pid] = sum(1 for c in worker.net_connections(kind="tcp")
                                         if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port)
            except psutil.NoSuchProcess:
                pass
        return counts

    def sockets(self) -> int:
        return sum(self.sockets_by_worker().values())


def gone_by_itself(pid: int, timeout_s: float = 10) -> None:
    """Wait until a killed process has exited (a zombie not yet reaped by its parent counts)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} was still running {timeout_s:.0f} s after SIGKILL")


class Shape:
    def __init__(self, nginx: Nginx, instances: dict[str, Instance], url: str, engine) -> None:
        self.nginx, self.instances, self.url, self.engine = nginx, instances, url, engine

    def wait_for_sockets(self, **expected: int) -> None:
        """Until each named instance holds exactly that many tab websockets."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = {name: instance.sockets() for name, instance in self.instances.items()}
            if all(seen[name] == count for name, count in expected.items()):
                return
            time.sleep(0.25)
        raise AssertionError(f"websockets per instance: {seen}, wanted {expected}")

    def holder(self) -> str:
        """The one instance holding the (one) open tab's websocket."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = {name: instance.sockets() for name, instance in self.instances.items()}
            if sorted(seen.values()) == [0, 1]:
                return next(name for name, count in seen.items() if count == 1)
            time.sleep(0.25)
        raise AssertionError(f"websockets per instance: {seen}, wanted one tab on one instance")


def ports() -> tuple[int, int, int, int]:
    if base := os.environ.get("IMMTRAX_E2E_PRODUCTION_PORT"):
        return int(base), int(base) + 1, int(base) + 2, int(base) + 3
    return free_port(), free_port(), free_port(), free_port()


@pytest.fixture(scope="module")
def shape(tmp_path_factory) -> Shape:
    if (reason := missing_piece()) is not None:
        pytest.skip(f"SKIPPED: two instances behind nginx: {reason}")
    nginx_port, port_a, port_b, oidc_port = ports()
    public = f"http://localhost:{nginx_port}"
    with empty_database_url("postgresql", tmp_path_factory.mktemp("shape-db")) as database_url:
        instances: dict[str, Instance] = {}
        for name, port in (("a", port_a), ("b", port_b)):
            env = portal_environment(tmp_path_factory.mktemp(f"instance-{name}"), database_url,
                                     port=nginx_port, oidc_port=oidc_port, web_dir=str(WEB_DIR))
            env.update({"IMMTRAX_LISTEN_PORT": str(port), "IMMTRAX_REDIS_URL": REDIS_URL,
                        "IMMTRAX_WORKERS": "2", "IMMTRAX_TRUSTED_PROXY_HOPS": "1",
                        # One sign-in provider for both, as Okta would be. A named issuer means
                        # production unless development is asked for (plain-http test URLs, no SMTP).
                        "IMMTRAX_OIDC_ISSUER": f"http://127.0.0.1:{oidc_port}",
                        "IMMTRAX_ENVIRONMENT": "development"})
            instances[name] = Instance(name, env)
        provider_env = {**instances["a"].env}
        provider_env.pop("IMMTRAX_OIDC_ISSUER")
        provider = subprocess.Popen([sys.executable, "-m", "immtrax_portal.auth.demo_provider"],
                                    env=provider_env, cwd=ROOT, start_new_session=True)
        nginx = Nginx(tmp_path_factory.mktemp("nginx"), nginx_port, {"a": port_a, "b": port_b})
        engine = build_engine(database_url)
        try:
            # Migrate and load the demo world as the embedded demo would (demo data is loaded only
            # beside the demo provider), so the people the provider offers exist.
            subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=provider_env,
                           cwd=ROOT, check=True)
            for instance in instances.values():  # a builds the front end if needed; b finds it built
                instance.start()
            nginx.start()
            yield Shape(nginx, instances, public, engine)
        finally:
            nginx.stop()
            for instance in instances.values():
                instance.stop()
            os.killpg(provider.pid, signal.SIGTERM)
            provider.wait(timeout=10)
            engine.dispose()


def requests_about(engine, email: str) -> list[AccessRequest]:
    with Session(engine) as session:
        subject = session.exec(select(Person.id).where(Person.email == email)).first()
        if subject is None:
            return []
        return list(session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == subject)))


def invitations_for(engine, request: AccessRequest) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Invitation.id).where(Invitation.request_id == request.id)).all())


def wizard_at_review(page, portal: str, first: str, last: str, email: str) -> None:
    open_fresh_wizard(page, portal, DANA)
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, first, last, email)
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")


def submitted_once(page, engine, email: str) -> None:
    """The tab ends at the confirmation, pressing Submit again if its first press was lost; the
    database holds exactly one request (and one invitation) about ``email``."""
    confirmation = page.get_by_text("Step 5 of 5")
    try:
        expect(confirmation).to_be_visible(timeout=20000)
    except AssertionError:
        at_step(page, 4, "Check your request")
        page.locator("#wizard-submit").click()
        expect(confirmation).to_be_visible(timeout=20000)
    [request] = requests_about(engine, email)
    assert request.number == page.locator("#request-number").inner_text()
    assert invitations_for(engine, request) == 1


def test_a_killed_worker_is_respawned_and_the_tab_it_served_reconnects_to_its_draft(shape, page_at):
    instance = shape.instances["a"]
    shape.nginx.route_to("a")
    dana = page_at(1280)
    wizard_at_review(dana, shape.url, "Wanda", "Worker", "wanda.worker@laurelpeds.example")
    dana_sockets = instance.sockets_by_worker()

    marcus = page_at(1280)
    open_fresh_wizard(marcus, shape.url, MARCUS)
    radio(marcus, "New Access").check()
    press_continue(marcus)
    at_step(marcus, 2, "The person")
    fill_person(marcus, "Kip", "Killed", "kip.killed@bozemanhealth.example")
    marcus.get_by_role("main").get_by_label("Job title").press("Tab")
    wait_for_draft(shape.engine, MARCUS_EMAIL, email="kip.killed@bozemanhealth.example")
    shape.wait_for_sockets(a=2, b=0)
    now = instance.sockets_by_worker()
    [victim] = [pid for pid, count in now.items() if count > dana_sockets.get(pid, 0)]
    marcus.evaluate("window.__notReloaded = true")

    dana.locator("#wizard-submit").click()  # a submission in flight while the worker dies
    os.kill(victim, signal.SIGKILL)
    gone_by_itself(victim)   # a request the kernel gave the worker as it died is lost with it
    answers = [httpx.get(f"{shape.url}/ping", timeout=5).status_code for _ in range(10)]
    assert answers == [200] * 10, "the portal stopped answering when one worker died"

    submitted_once(dana, shape.engine, "wanda.worker@laurelpeds.example")
    # Marcus's tab lost its worker: it reconnects (to the other worker or the respawned one) and
    # carries on from the same step with what was typed, without a reload.
    main = marcus.get_by_role("main")
    expect(main.get_by_label("Work email")).to_have_value("kip.killed@bozemanhealth.example")
    press_continue(marcus)
    at_step(marcus, 3, "Access level")
    assert marcus.evaluate("window.__notReloaded") is True
    radio(marcus, "Read Only with Consent").check()
    press_continue(marcus)
    at_step(marcus, 4, "Check your request")
    expect(main.get_by_text("Kip Killed").first).to_be_visible()
    marcus.locator("#wizard-submit").click()
    submitted_once(marcus, shape.engine, "kip.killed@bozemanhealth.example")
    save_screenshot(marcus, "production-after-worker-kill-1280")

    deadline = time.monotonic() + 30
    while len(instance.workers()) != 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    workers = [worker.pid for worker in instance.workers()]
    assert len(workers) == 2 and victim not in workers, "the killed worker was not replaced"
    assert instance.process.poll() is None, "serve stopped when one worker died"


def test_a_sign_in_through_one_instance_is_valid_on_the_other(shape, page_at):
    shape.nginx.route_to("a")
    page = page_at(1280)
    sign_in_as(page, shape.url, "demo-staff", return_to="/dashboard")
    page.get_by_role("main").get_by_role("heading", name="Welcome, Pat").wait_for()
    shape.nginx.route_to("b")  # the same browser, now served by the other instance only
    page.goto(f"{shape.url}/staff/queue")
    expect(page.get_by_role("main").get_by_text(DELETION).first).to_be_visible(timeout=15000)

    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    for instance in shape.instances.values():  # the session cookie, straight to each instance
        response = httpx.get(f"{instance.url}/staff/queue.csv", cookies=cookies, timeout=10)
        assert response.status_code == 200 and DELETION in response.text, instance.name
        assert httpx.get(f"{instance.url}/staff/queue.csv", timeout=10).status_code == 401


def test_a_tab_whose_websocket_moves_to_the_other_instance_keeps_its_state(shape, page_at):
    shape.nginx.route_to("a")
    page = page_at(1280)
    open_fresh_wizard(page, shape.url, DANA)
    radio(page, "Laurel Pediatrics").check()
    radio(page, "New Access").check()
    press_continue(page)
    at_step(page, 2, "The person")
    fill_person(page, "Moe", "Mover", "moe.mover@laurelpeds.example")
    page.get_by_role("main").get_by_label("Job title").press("Tab")
    wait_for_draft(shape.engine, DANA_EMAIL, email="moe.mover@laurelpeds.example")
    shape.wait_for_sockets(a=1, b=0)
    page.evaluate("window.__notReloaded = true")

    shape.nginx.route_to("b")  # a is taken out: its connections close, the tab reconnects to b
    shape.wait_for_sockets(a=0, b=1)
    press_continue(page)
    at_step(page, 3, "Access level")
    radio(page, "Read Only with Consent").check()
    press_continue(page)
    at_step(page, 4, "Check your request")
    main = page.get_by_role("main")
    expect(main.get_by_text("Laurel Pediatrics").first).to_be_visible()  # chosen on a, at step 1
    expect(main.get_by_text("Moe Mover").first).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    page.locator("#wizard-submit").click()
    submitted_once(page, shape.engine, "moe.mover@laurelpeds.example")


def test_a_change_through_one_instance_shows_on_a_dashboard_served_by_the_other_within_a_second(
        shape, page_at):
    shape.nginx.route_to("a", "b")
    supervisor = page_at(1280)
    main = dashboard_of(supervisor, shape.url, DANA, "Dana Whitfield")
    item = main.locator(f'li[data-number="{DELETION}"]')
    item.get_by_text("Waiting on the program to review").wait_for()
    supervisor_on = shape.holder()
    other = "b" if supervisor_on == "a" else "a"
    supervisor.evaluate("window.__notReloaded = true")

    # The staff tab must land on the other instance: round robin, reloaded until it does (one
    # extra request between tries, so the requests of a page load cannot keep the same parity).
    staff = page_at(1280)
    sign_in_as(staff, shape.url, "demo-staff", return_to=f"/request?number={DELETION}")
    for _ in range(12):
        staff.get_by_role("main").get_by_role("button", name="Start review").wait_for()
        time.sleep(0.5)
        if shape.instances[other].sockets() == 1 and shape.instances[supervisor_on].sockets() == 1:
            break
        httpx.get(f"{shape.url}/ping", timeout=5)
        staff.reload()
    else:
        raise AssertionError("the staff tab never landed on the other instance")

    staff_main = staff.get_by_role("main")
    staff_main.get_by_role("button", name="Start review").click()
    staff_main.get_by_role("form").get_by_role("button", name="Start review").click()
    clicked = time.monotonic()
    staff_main.get_by_text("Done. The request and its history below are up to date.").wait_for()
    done = time.monotonic()
    supervisor.wait_for_function(
        f"document.querySelector('li[data-number=\"{DELETION}\"]')?.dataset.status === 'in_review'",
        timeout=5000, polling=50)
    seen = time.monotonic()
    assert supervisor.evaluate("window.__notReloaded") is True, "the page was reloaded"
    print(f"change made on {other}, seen on {supervisor_on}: {seen - done:.2f}s after the change was "
          f"confirmed, {seen - clicked:.2f}s after the click")
    assert seen - done < 1.0


def test_with_one_instance_stopped_the_portal_stays_usable_through_the_other(shape, page_at):
    shape.nginx.route_to("a", "b")
    supervisor = page_at(1280)
    main = dashboard_of(supervisor, shape.url, MARCUS, "Marcus")
    stopped_name = shape.holder()
    stopped = shape.instances[stopped_name]
    survivor = shape.instances["b" if stopped_name == "a" else "a"]

    stopped.stop()  # the balancer is not told: nginx finds out on the first refused connection
    assert stopped.process.returncode == 0, "a requested stop should exit 0"
    shape.wait_for_sockets(**{survivor.name: 1})  # the open tab reconnected to the survivor
    main.locator('[data-live="on"]').wait_for()
    assert [httpx.get(f"{shape.url}/ping", timeout=5).status_code for _ in range(6)] == [200] * 6

    staff = page_at(390)
    sign_in_as(staff, shape.url, "demo-staff", return_to="/staff/queue")
    expect(staff.get_by_role("main").get_by_text(DELETION).first).to_be_visible(timeout=15000)
    save_screenshot(staff, "production-one-instance-stopped-390")


def test_serve_exits_non_zero_when_its_web_server_dies_and_leaves_no_worker_behind(shape):
    [running] = [instance for instance in shape.instances.values() if instance.process.poll() is None]
    workers = running.workers()
    [granian] = [process for process in running.processes() if process.children() == workers]
    granian.kill()  # Granian itself, not a worker: nothing respawns it but a supervisor
    status = running.process.wait(timeout=60)
    assert status != 0, "a supervisor with restart-on-failure would not bring the portal back"
    assert "The portal stopped: the web server exited" in running.log.read_text()
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], "workers outlived serve"
