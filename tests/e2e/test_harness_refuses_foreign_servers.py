"""The end-to-end harness tests only a portal it started: a server already answering on its port
(a developer's `make run`, another engineer's test portal) makes it stop with a clear error
instead of quietly testing that server."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import ROOT, PortalProcess, portal_environment
from tests.support.ports import free_port


class _AnswersPing(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server interface
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"pong")

    def log_message(self, *_args):
        pass


@pytest.fixture
def foreign_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnswersPing)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _portal_on(port: int, tmp_path) -> PortalProcess:
    env = portal_environment(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", port=port,
                             oidc_port=free_port(), web_dir=str(ROOT / ".web-never-built"))
    env.pop("IMMTRAX_OIDC_ISSUER", None)
    return PortalProcess(env)


def test_a_server_already_on_the_portal_port_stops_the_harness_before_it_starts_anything(
        foreign_server, tmp_path):
    portal = _portal_on(foreign_server, tmp_path)
    with pytest.raises(RuntimeError, match=rf"Port {foreign_server} already has a server on it that "
                                           r"these tests did not start.*IMMTRAX_E2E_PORT"):
        portal.start()
    assert portal.process is None


def test_a_server_already_on_the_sign_in_port_stops_the_harness_too(foreign_server, tmp_path):
    portal = _portal_on(free_port(), tmp_path)
    portal.env["IMMTRAX_DEMO_OIDC_PORT"] = str(foreign_server)
    with pytest.raises(RuntimeError, match=r"did not start.*IMMTRAX_E2E_OIDC_PORT"):
        portal.start()
    assert portal.process is None


def test_an_answer_from_a_process_the_harness_did_not_start_is_refused_and_its_own_is_stopped(
        foreign_server, tmp_path):
    """The port was free when checked, then another server took it: the harness's own process
    does not listen there, so the answer is not its portal's."""
    portal = _portal_on(foreign_server, tmp_path)
    portal.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                      start_new_session=True)
    with pytest.raises(RuntimeError, match=rf"Port {foreign_server} is answered by a server these "
                                           r"tests did not start"):
        portal._wait_until_up()
    assert portal.process.poll() is not None
