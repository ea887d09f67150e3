"""The running portal for end-to-end tests: the real app in production mode, as `make run` serves it.

It builds into its own web folder (.web-e2e) on a test port, against a fresh SQLite database
with the demo world loaded, and the demo OpenID Connect provider on its own port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.browser import launch_chromium
from tests.support.smtp_server import FakeSmtp

ROOT = Path(__file__).resolve().parents[2]
APP_PORT = int(os.environ.get("IMMTRAX_E2E_PORT", "3100"))
OIDC_PORT = int(os.environ.get("IMMTRAX_E2E_OIDC_PORT", "3110"))
SCREENSHOTS = ROOT / "screenshots"
START_TIMEOUT_S = 600


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the portal exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the portal did not answer within {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def mail_server() -> Iterator[FakeSmtp]:
    """A real SMTP server on loopback that the portal's delivery worker sends to."""
    server = FakeSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def portal_env(tmp_path_factory, mail_server) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("portal-data")
    env = {
        **os.environ,
        "IMMTRAX_DATA_DIR": str(data_dir),
        "IMMTRAX_DATABASE_URL": f"sqlite:///{data_dir / 'e2e.db'}",
        "IMMTRAX_PUBLIC_URL": f"http://localhost:{APP_PORT}",
        "IMMTRAX_DEMO_OIDC_PORT": str(OIDC_PORT),
        "IMMTRAX_SMTP_HOST": "127.0.0.1",
        "IMMTRAX_SMTP_PORT": str(mail_server.port),
        "IMMTRAX_SMTP_SECURITY": "none",
        "IMMTRAX_MAIL_DELIVERY_INTERVAL_SECONDS": "0.5",
        # The whole suite signs in from one address many times within a rate-limit window.
        "IMMTRAX_RATE_LIMIT_SIGN_IN_PER_IP": "10000",
        "IMMTRAX_RATE_LIMIT_SUBMIT_PER_IP": "10000",
        "IMMTRAX_RATE_LIMIT_SUBMIT_PER_PERSON": "10000",
        "IMMTRAX_RATE_LIMIT_INVITATION_PER_IP": "10000",
        "REFLEX_WEB_WORKDIR": os.environ.get("IMMTRAX_E2E_WEB_DIR", str(ROOT / ".web-e2e")),
        "REFLEX_USE_NPM": "1",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")
    return env


@pytest.fixture(scope="session")
def portal(portal_env) -> Iterator[str]:
    """Base URL of the running portal; started once per test session."""
    url = portal_env["IMMTRAX_PUBLIC_URL"]
    subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=portal_env,
                   cwd=ROOT, check=True)
    log = Path(portal_env["IMMTRAX_DATA_DIR"]) / "portal.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "immtrax_portal.cli", "serve"], env=portal_env, cwd=ROOT,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


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
