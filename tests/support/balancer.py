"""A real nginx in front of portal instances, for the multi-instance tests: its own config file,
pid file, logs and temp folders under a test folder, and the shipped proxy rules
(``deploy/nginx/portal-locations.conf``) included as they are.

``drain(name)`` marks one instance ``down`` and reloads: the old nginx worker closes its
connections within ``worker_shutdown_timeout``, so open tabs reconnect to the instances left, as
when an operator takes an instance out of the pool.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOCATIONS = ROOT / "deploy" / "nginx" / "portal-locations.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


class Nginx:
    def __init__(self, folder: Path, port: int, upstreams: dict[str, int]) -> None:
        self.folder, self.port, self.upstreams = folder, port, upstreams
        self.config = folder / "nginx.conf"
        self.process: subprocess.Popen | None = None
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (folder / "temp" / sub).mkdir(parents=True, exist_ok=True)

    def _write_config(self, down: frozenset[str]) -> None:
        # With the others down, the one instance left is treated as nginx treats a group of one: never
        # left out after a failed attempt (a request the killed worker had accepted is reset), since
        # there is nowhere else to send the next request; with two live, the shipped rule applies.
        alone = len(self.upstreams) - len(down) == 1
        servers = "\n".join(
            f"        server 127.0.0.1:{port} "
            + ("down" if name in down else "max_fails=0" if alone else "max_fails=1 fail_timeout=10s") + ";"
            for name, port in self.upstreams.items())
        temp = self.folder / "temp"
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.config.write_text(f"""{user}worker_processes 1;
daemon off;
worker_shutdown_timeout 2s;
pid {self.folder / 'nginx.pid'};
error_log {self.folder / 'error.log'} warn;
events {{ worker_connections 512; }}
http {{
    access_log {self.folder / 'access.log'};
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    upstream immtrax_portal {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        include {LOCATIONS};
    }}
}}
""")

    def start(self) -> None:
        self._write_config(frozenset())
        subprocess.run([NGINX, "-t", "-q", "-c", str(self.config)], check=True)
        self.process = subprocess.Popen([NGINX, "-c", str(self.config)], start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"nginx did not answer: {(self.folder / 'error.log').read_text()}")

    def route_to(self, *names: str) -> None:
        """Only ``names`` receive new requests; connections to the others are closed (2 s)."""
        self._write_config(frozenset(self.upstreams) - set(names))
        subprocess.run([NGINX, "-t", "-q", "-c", str(self.config)], check=True)
        os.kill(self.process.pid, signal.SIGHUP)
        time.sleep(3)  # the new worker serves; the old one has closed its connections

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
