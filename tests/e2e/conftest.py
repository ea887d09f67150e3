"""The running portal for end-to-end tests: the real app in production mode, as `make run` serves it.

It builds into its own web folder (.web-e2e) on a test port, against a fresh database (SQLite, or
PostgreSQL under IMMTRAX_TEST_DATABASE=postgresql) with the demo world loaded, and the demo OpenID
Connect provider on its own port. ``PortalProcess`` is the same start-up for tests that need an
instance of their own, to kill and restart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from sqlmodel import Session, select

from tests.e2e.browser import launch_chromium
from tests.support.databases import SINGLE_BACKEND, empty_database_url
from tests.support.smtp_server import FakeSmtp

ROOT = Path(__file__).resolve().parents[2]
DANA_EMAIL = "dana.whitfield@billingsclinic.example"   # demo-supervisor-two-orgs
STAFF_EMAIL = "pat.oconnor@mt.example"                 # demo-staff


def xdist_worker_number() -> int:
    """pytest-xdist's worker number (``gw1`` is 1); 0 outside xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


# Each xdist worker that runs end-to-end tests starts its own portal: worker N serves on the
# configured ports plus N and builds into its own web folder (worker 0 keeps the plain names).
WORKER = xdist_worker_number()
APP_PORT = int(os.environ.get("IMMTRAX_E2E_PORT", "3100")) + WORKER
OIDC_PORT = int(os.environ.get("IMMTRAX_E2E_OIDC_PORT", "3110")) + WORKER
SCREENSHOTS = ROOT / "screenshots"


def own_portal_ports(slot: int) -> tuple[int, int]:
    """The portal and sign-in ports of a module that starts a portal of its own (slot 0: the fault
    tests, 1: operations). Fixed per slot, not per worker (a module runs whole on one worker), so
    the PostgreSQL pass serves the SQLite pass's front-end build, which is built for one URL."""
    port = int(os.environ.get("IMMTRAX_E2E_PORT", "3100")) + 40 + 2 * slot
    return port, port + 1
WEB_DIR = os.environ.get("IMMTRAX_E2E_WEB_DIR", str(ROOT / ".web-e2e")) + (f"-gw{WORKER}" if WORKER else "")
START_TIMEOUT_S = 600



def portal_environment(data_dir: Path, database_url: str, *, port: int, oidc_port: int,
                       web_dir: str) -> dict[str, str]:
    """The environment ``make run`` would give the portal, for one test instance."""
    env = {
        **os.environ,
        "IMMTRAX_DATA_DIR": str(data_dir),
        "IMMTRAX_DATABASE_URL": database_url,
        "IMMTRAX_PUBLIC_URL": f"http://localhost:{port}",
        "IMMTRAX_LISTEN_HOST": "127.0.0.1",
        "IMMTRAX_LISTEN_PORT": str(port),
        "IMMTRAX_DEMO_OIDC_PORT": str(oidc_port),
        # The whole suite signs in from one address many times within a rate-limit window.
        "IMMTRAX_RATE_LIMIT_SIGN_IN_PER_IP": "10000",
        "IMMTRAX_RATE_LIMIT_SUBMIT_PER_IP": "10000",
        "IMMTRAX_RATE_LIMIT_SUBMIT_PER_PERSON": "10000",
        "IMMTRAX_RATE_LIMIT_INVITATION_PER_IP": "10000",
        # Tests read the portal's log line by line (one per frontend-error report, per refusal), so
        # repeats are written every time here; the throttling has tests of its own.
        "IMMTRAX_LOG_REPEAT_SECONDS": "0",
        "REFLEX_WEB_WORKDIR": web_dir,
        # Every `reflex run` empties its states folder on start: one per instance, so starting
        # one portal (a restart in the fault tests, another worker's) never wipes another's tabs.
        "REFLEX_STATES_WORKDIR": str(data_dir / "reflex-states"),
        "REFLEX_UPLOADED_FILES_DIR": str(data_dir / "uploads"),
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")
    return env


class PortalProcess:
    """``python -m immtrax_portal.cli serve`` as a subprocess: started, stopped, or killed hard.

    ``serve`` starts Reflex in a process group of its own (and the demo provider in its own
    group), so "the server's process group" is every group among its descendants.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.url = env["IMMTRAX_PUBLIC_URL"]
        self.log = Path(env["IMMTRAX_DATA_DIR"]) / "portal.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def prepare(self) -> None:
        subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=self.env,
                       cwd=ROOT, check=True)

    def ports(self) -> dict[int, str]:
        """The ports this instance serves on, each with the setting that chooses it."""
        ports = {int(self.url.rsplit(":", 1)[1]): "IMMTRAX_E2E_PORT"}
        if not self.env.get("IMMTRAX_OIDC_ISSUER"):  # the demo sign-in provider runs too
            ports[int(self.env["IMMTRAX_DEMO_OIDC_PORT"])] = "IMMTRAX_E2E_OIDC_PORT"
        return ports

    def start(self) -> None:
        """Start the portal; refuse (a clear error, nothing started) when a server these tests did
        not start already holds one of its ports, since the tests would then test that server."""
        for port, setting in self.ports().items():
            refuse_a_foreign_server_on(port, setting)
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"\n--- start {self.starts} ---\n")
            out.flush()
            if self.starts == 1:  # one build per run, copied for each portal's origin
                subprocess.run([sys.executable, "-m", "tests.support.front_end_builds"], env=self.env,
                               cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "immtrax_portal.cli", "serve"], env=self.env, cwd=ROOT,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the portal exited early:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    self._insist_it_is_ours()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the portal did not answer within {START_TIMEOUT_S}s:\n"
                           f"{self.log.read_text()[-4000:]}")

    def _insist_it_is_ours(self) -> None:
        """The answer on each port must come from a process this instance started (one could have
        taken a port between the check and the start)."""
        ours = self._process_tree()
        listening = {conn.laddr.port for process in ours for conn in _listening_sockets(process)}
        strangers = [port for port in self.ports() if port not in listening]
        if strangers:
            self.stop()
            raise RuntimeError(f"Port {strangers[0]} is answered by a server these tests did not start "
                               f"({_holder_of(strangers[0])}); the portal they started does not "
                               f"listen there, so refusing to test the other one.")

    def _process_tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def _process_groups(self) -> set[int]:
        groups = {self.process.pid}
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                try:
                    groups.add(os.getpgid(child.pid))
                except ProcessLookupError:
                    pass
        except psutil.NoSuchProcess:
            pass
        return groups

    def kill(self) -> None:
        """SIGKILL every process group of the server at once: no shutdown code runs."""
        for group in self._process_groups():
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=20)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the port is free again
            try:
                httpx.get(f"{self.url}/ping", timeout=1)
            except httpx.HTTPError:
                return
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        groups = self._process_groups()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        for group in groups:  # whatever did not stop by itself
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextmanager
def portal_of_its_own(tmp_path_factory, slot: int, name: str,
                      env: dict[str, str] | None = None) -> Iterator[PortalProcess]:
    """A portal of a module's own, on the fixed ports of its slot (``own_portal_ports``), with a
    new database of the pass's kind and the web folder ``.web-e2e-<name>``: prepared, started with
    ``env`` added to its environment, and stopped with everything it started."""
    app_port, oidc_port = own_portal_ports(slot)
    with empty_database_url(SINGLE_BACKEND, tmp_path_factory.mktemp(f"{name}-db")) as url:
        process = PortalProcess(portal_environment(tmp_path_factory.mktemp(f"{name}-portal"), url,
                                                   port=app_port, oidc_port=oidc_port,
                                                   web_dir=str(ROOT / f".web-e2e-{name}")))
        process.env.update(env or {})
        process.prepare()
        try:
            process.start()
            yield process
        finally:
            process.stop()


@contextmanager
def portal_database(portal: PortalProcess):
    """An engine on the database a portal of its own serves, disposed afterwards."""
    from immtrax_portal.db import build_engine

    engine = build_engine(portal.env["IMMTRAX_DATABASE_URL"])
    try:
        yield engine
    finally:
        engine.dispose()


def _listening_sockets(process: psutil.Process) -> list:
    try:
        return [conn for conn in process.net_connections(kind="inet")
                if conn.status == psutil.CONN_LISTEN]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _holder_of(port: int) -> str:
    """Which process listens on ``port``, as far as this user may see."""
    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid}: {' '.join(process.cmdline())[:160]}"
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        pass
    return "a process of another user, or one not visible from here"


def _something_holds(port: int) -> bool:
    """A listener on ``port``: binding it fails, or a connection to loopback succeeds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a server
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                if probe.connect_ex((address, port)) == 0:
                    return True
        except OSError:
            continue
    return False


def refuse_a_foreign_server_on(port: int, setting: str) -> None:
    """Raise, naming the holder and the way out, when a server already answers on ``port``."""
    if _something_holds(port):
        raise RuntimeError(
            f"Port {port} already has a server on it that these tests did not start "
            f"({_holder_of(port)}). The end-to-end tests only test a portal they start themselves: "
            f"stop that server, or pick a free port with {setting}.")


@pytest.fixture(scope="session")
def portal_database_url(tmp_path_factory) -> Iterator[str]:
    """An empty database for the session's portal (SQLite, or the run's ``SINGLE_BACKEND``);
    ``cli prepare`` migrates it and loads the demo world."""
    with empty_database_url(SINGLE_BACKEND, tmp_path_factory.mktemp("portal-db")) as url:
        yield url


@pytest.fixture(scope="session")
def mail_server() -> Iterator[FakeSmtp]:
    """A real SMTP server on loopback that the session portal's delivery worker sends to."""
    server = FakeSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def portal_env(tmp_path_factory, portal_database_url, mail_server) -> dict[str, str]:
    env = portal_environment(tmp_path_factory.mktemp("portal-data"), portal_database_url,
                             port=APP_PORT, oidc_port=OIDC_PORT, web_dir=WEB_DIR)
    env.update({"IMMTRAX_SMTP_HOST": "127.0.0.1", "IMMTRAX_SMTP_PORT": str(mail_server.port),
                "IMMTRAX_SMTP_SECURITY": "none", "IMMTRAX_MAIL_DELIVERY_INTERVAL_SECONDS": "0.5"})
    return env


@pytest.fixture(scope="session")
def portal(portal_env) -> Iterator[str]:
    """Base URL of the running portal; started once per test session."""
    process = PortalProcess(portal_env)
    process.prepare()
    try:
        process.start()
        yield process.url
    finally:
        process.stop()


@pytest.fixture(scope="module")
def chromium_browser():
    """Per module: Playwright's sync API runs an event loop in the main thread while open, which
    would break every later ``asyncio.run`` in the session (SMTP, websocket tests)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page_at(chromium_browser):
    """Open a fresh context at a given viewport width; closes it after the test."""
    contexts = []

    def open_page(width: int = 1280, height: int = 900, **context_args):
        context = chromium_browser.new_context(viewport={"width": width, "height": height},
                                               **context_args)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in_as(page, portal: str, subject: str, return_to: str = "/dashboard") -> None:
    """Sign in through the demo OpenID provider's picker, as a person would."""
    page.goto(f"{portal}/auth/sign-in?return_to={return_to}", wait_until="domcontentloaded")
    page.locator(f'button[name="sub"][value="{subject}"]').click()
    wanted = urlsplit(return_to).path.rstrip("/")
    page.wait_for_url(lambda url: url.startswith(portal) and urlsplit(url).path.rstrip("/") == wanted,
                      wait_until="domcontentloaded")
    wait_until_hydrated(page)


def wait_until_hydrated(page) -> None:
    """Waits for the tab's state to arrive; what a test types before it may be wiped by the first render."""
    page.locator('main[data-hydrated="true"]').wait_for()


@pytest.fixture
def in_review(portal_env):
    """Makes a New Access request of Dana's at Laurel Pediatrics, signed and in review, and gives
    its number: a test that acts on a request acts on its own, so the demo requests other tests
    on the same portal look at stay as they are, whatever order the tests run in."""
    from immtrax_portal.db import session_scope
    from immtrax_portal.domain.enums import AccessLevel, RequestType, Role
    from immtrax_portal.domain.models import Organization, Person
    from immtrax_portal.domain.workflow import Action
    from immtrax_portal.services.requests import RequestDraft, submit_request
    from tests.e2e.security.world import _advance
    from tests.support.databases import use_database

    def make(first: str = "Rowan", question: str = "") -> str:
        """With ``question``, staff (Pat) have asked Dana it, and the request waits on her."""
        with use_database(portal_env["IMMTRAX_DATABASE_URL"]):
            with session_scope() as session:
                dana = session.exec(select(Person).where(
                    Person.email == DANA_EMAIL)).one().id
                laurel = session.exec(select(Organization).where(Organization.code == "LPD-0202")).one().id
            tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])   # letters only
            draft = RequestDraft(organization_id=laurel, request_type=RequestType.NEW_ACCESS,
                                 first_name=first, last_name=f"Words{tag}",
                                 email=f"{first.lower()}.{tag}@laurelpeds.example",
                                 phone="4065550111", job_title="Nurse",
                                 start_date=(date.today() + timedelta(days=5)).isoformat(),
                                 access_level=AccessLevel.RECORD_MAINTENANCE.value)
            request = submit_request(dana, draft, f"own-request-{tag}-000000")
            _advance(request.id, [Action.SIGN_AGREEMENT], None, Role.APPLICANT)
            if question:
                with session_scope() as session:
                    pat = session.exec(select(Person).where(Person.email == STAFF_EMAIL)).one().id
                _advance(request.id, [Action.ASK_FOR_INFO], pat, Role.STAFF, reason=question)
            return request.number
    return make


# --- What the server saved of a supervisor's wizard draft -----------------------------------------

def person_id(engine, email: str) -> int:
    from immtrax_portal.domain.models import Person

    with Session(engine) as session:
        return session.exec(select(Person.id).where(Person.email == email)).one()


def saved_draft(engine, supervisor_email: str) -> dict:
    from immtrax_portal.domain.models import WizardDraft

    with Session(engine) as session:
        row = session.exec(select(WizardDraft).where(
            WizardDraft.supervisor_id == person_id(engine, supervisor_email))).first()
        return json.loads(row.data) if row else {}


def wait_for_draft(engine, supervisor_email: str, **expected: str) -> dict:
    """Until the server has saved what was typed (saves are debounced in the page)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        draft = saved_draft(engine, supervisor_email)
        if all(draft.get(key, "") == value for key, value in expected.items()):   # "": not saved
            return draft
        time.sleep(0.2)
    raise AssertionError(f"the draft never held {expected}: {saved_draft(engine, supervisor_email)}")
