"""The two servers ``floor_benchmark.py`` compares: a blank Reflex app of the installed version and
the portal, each built once and served by Granian in production mode with one worker.

The blank app is generated into a temporary folder: one state with a counter and one handler, one
page, and the same polling design the portal's live pages use (one watcher per process polls a
source every ``POLL_SECONDS``; each open tab runs one background event that sleeps until the
watcher reports a change), with a file instead of a database as the source.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLANK_APP = '''"""A blank Reflex app: the floor the portal is measured against."""

import asyncio
import os
from pathlib import Path

import reflex as rx

SOURCE = Path(os.environ.get("FLOOR_LIVE_SOURCE", "live-source.txt"))
POLL_SECONDS = float(os.environ.get("FLOOR_POLL_SECONDS", "0.2"))


class Feed:
    """One watcher per process: polls the source, wakes every subscribed tab on a change."""

    def __init__(self):
        self.value = ""
        self.waiters: set[asyncio.Event] = set()
        self.task = None

    def ensure_running(self):
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self):
        while True:
            try:
                value = SOURCE.read_text() if SOURCE.exists() else ""
            except OSError:
                value = self.value
            if value != self.value:
                self.value = value
                for waiter in list(self.waiters):
                    waiter.set()
            await asyncio.sleep(POLL_SECONDS)


FEED = Feed()


class CounterState(rx.State):
    count: int = 0
    live: str = ""

    @rx.event
    def increment(self):
        self.count += 1

    @rx.event
    def decrement(self):
        self.count -= 1

    @rx.event
    def load(self):
        return CounterState.watch

    @rx.event(background=True)
    async def watch(self):
        FEED.ensure_running()
        waiter = asyncio.Event()
        FEED.waiters.add(waiter)
        try:
            while True:
                try:
                    await asyncio.wait_for(waiter.wait(), 10)
                except asyncio.TimeoutError:
                    pass
                waiter.clear()
                async with self:
                    self.live = FEED.value
        finally:
            FEED.waiters.discard(waiter)


def index() -> rx.Component:
    return rx.el.main(
        rx.el.h1("Counter"),
        rx.el.p(CounterState.count),
        rx.el.p(CounterState.live),
        rx.el.button("Add one", on_click=CounterState.increment),
        custom_attrs={"data-hydrated": rx.State.is_hydrated.to_string()},
    )


app = rx.App()
app.add_page(index, route="/", on_load=CounterState.load)
'''

RXCONFIG = '''import reflex as rx

config = rx.Config(app_name="blank", telemetry_enabled=False, plugins=[])
'''

QUIET_REFLEX = {"REFLEX_USE_NPM": "1", "REFLEX_CHECK_LATEST_VERSION": "false",
                "REFLEX_TELEMETRY_ENABLED": "false"}


def base_environment() -> dict[str, str]:
    env = {**os.environ, **QUIET_REFLEX,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")
    return env


def granian(target: str, port: int) -> list[str]:
    """The portal's own Granian command line (``immtrax_portal/serving.py``), one worker."""
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--log-level", "warning", target]


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def refuse_busy(port: int) -> None:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.HTTPError:
        return
    raise RuntimeError(f"port {port} already answers; pick other ports with --base-port")


def worker_process(root_pid: int) -> psutil.Process:
    """The Granian worker under ``root_pid``: the deepest process running Granian."""
    root = psutil.Process(root_pid)
    granians = [p for p in [root, *root.children(recursive=True)]
                if "granian" in " ".join(p.cmdline())]
    if not granians:
        raise RuntimeError("no Granian process found")
    return max(granians, key=lambda p: len(p.parents()))


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL, to every process group under ``process`` (all started by us)."""
    if process is None or process.poll() is not None:
        return
    groups = {process.pid}
    try:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                groups.add(os.getpgid(child.pid))
            except ProcessLookupError:
                pass
    except psutil.NoSuchProcess:
        pass
    for group in groups:
        try:
            os.killpg(group, 15)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    for group in groups:
        try:
            os.killpg(group, 9)
        except ProcessLookupError:
            pass


class BlankApp:
    """The generated blank app in ``folder``: built once per port, then served."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.url = f"http://localhost:{port}"
        self.live_source = folder / "live-source.txt"
        self.log = folder / "server.log"
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {**base_environment(), "FLOOR_LIVE_SOURCE": str(self.live_source),
                "REFLEX_API_URL": self.url, "PYTHONHASHSEED": "0"}

    def build(self) -> None:
        (self.folder / "blank").mkdir(parents=True, exist_ok=True)
        (self.folder / "blank" / "__init__.py").write_text("")
        (self.folder / "blank" / "blank.py").write_text(BLANK_APP)
        (self.folder / "rxconfig.py").write_text(RXCONFIG)
        stamp = self.folder / "built-for.txt"
        wanted = f"reflex {version('reflex')} {self.url}\n{BLANK_APP}"
        if stamp.exists() and stamp.read_text() == wanted:
            return
        with self.log.open("a") as out:
            subprocess.run([sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip",
                            "--env", "prod"], cwd=self.folder, env=self.env(), check=True,
                           stdout=out, stderr=subprocess.STDOUT)
        stamp.write_text(wanted)

    def start(self) -> None:
        refuse_busy(self.port)
        env = {**self.env(), "REFLEX_ENV_MODE": "prod", "__REFLEX_SKIP_COMPILE": "true",
               "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true"}
        with self.log.open("a") as out:
            self.process = subprocess.Popen(granian("blank.blank:app", self.port),  # noqa: S603
                                            cwd=self.folder,
                                            env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_for(f"{self.url}/ping", self.process, self.log)

    def worker(self) -> psutil.Process:
        return worker_process(self.process.pid)

    def stop(self) -> None:
        stop(self.process)


class Portal:
    """The portal as ``python -m immtrax_portal.cli`` prepares and serves it, with the demo data."""

    def __init__(self, data_dir: Path, database_url: str, port: int, oidc_port: int,
                 web_dir: Path) -> None:
        from tests.e2e.conftest import portal_environment

        self.url = f"http://localhost:{port}"
        self.oidc_port = oidc_port
        self.env = portal_environment(data_dir, database_url, port=port, oidc_port=oidc_port,
                                      web_dir=str(web_dir))
        self.env.update({"IMMTRAX_WORKERS": "1", "IMMTRAX_DEBUG_QUERY_COUNTER": "1",
                         "IMMTRAX_SMTP_HOST": "127.0.0.1", "IMMTRAX_SMTP_PORT": "9"})
        self.log = data_dir / "portal.log"
        self.process: subprocess.Popen | None = None
        self.port = port

    def prepare(self) -> None:
        with self.log.open("a") as out:
            subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "prepare"], env=self.env,
                           cwd=ROOT, check=True, stdout=out, stderr=subprocess.STDOUT)

    def start(self) -> None:
        refuse_busy(self.port)
        refuse_busy(self.oidc_port)
        with self.log.open("a") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "immtrax_portal.cli", "serve"],
                                            env=self.env, cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"{self.url}/ping", self.process, self.log, timeout=900)

    def worker(self) -> psutil.Process:
        return worker_process(self.process.pid)

    def statements(self) -> int:
        return httpx.get(f"{self.url}/debug/query-count", timeout=10).json()["statements"]

    def session_cookie(self, subject: str) -> str:
        from tests.support.oidc import walk_sign_in

        with httpx.Client(timeout=30) as client:
            response = walk_sign_in(client, self.url, return_to="/dashboard", choose={"sub": subject})
            if response.status_code != 303:
                raise RuntimeError(f"signing in as {subject} failed: {response.status_code}")
            return "; ".join(f"{name}={value}" for name, value in client.cookies.items()
                             if name.endswith("immtrax_session"))

    def stop(self) -> None:
        stop(self.process)
