"""The servers the tests start stop with everything they started: no process outlives its helper.

Each test marks the environment with a value of its own, starts a helper's server, stops it, and
looks for any process on the machine still carrying the mark (an orphan adopted by init included).
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.support.oidc import run_pkce_provider
from tests.support.processes import processes_marked, stop_process_tree, wait_until_gone

PROBE = "IMMTRAX_TEST_PROBE"


@pytest.fixture
def probe(monkeypatch) -> str:
    value = uuid.uuid4().hex
    monkeypatch.setenv(PROBE, value)
    return value


def test_the_pkce_provider_leaves_no_node_process_running(probe):
    with run_pkce_provider(redirect_uri="http://127.0.0.1:1/auth/callback",
                           post_logout_redirect_uri="http://127.0.0.1:1/", client_id="leftover-check",
                           client_secret="leftover-check-secret-long-enough-for-hs256",
                           account={"sub": "leftover-check"}):
        running = processes_marked(probe, key=PROBE)
        assert any("node" in " ".join(process.cmdline()) for process in running)
    assert wait_until_gone(probe, key=PROBE, timeout=5) == []


def test_stopping_a_process_tree_also_stops_a_grandchild_in_another_group(probe):
    """The shape that leaked: a wrapper whose child does the work (here in a session of its own,
    so signalling the wrapper's group alone would miss it)."""
    grandchild = ("import subprocess, sys, time; "
                  "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
                  "start_new_session=True); time.sleep(60)")
    wrapper = subprocess.Popen([sys.executable, "-c", grandchild], start_new_session=True)
    try:
        assert _eventually_two(probe)
    finally:
        stop_process_tree(wrapper)
    assert wait_until_gone(probe, key=PROBE, timeout=5) == []


def _eventually_two(probe: str) -> bool:
    for _ in range(100):
        if len(processes_marked(probe, key=PROBE)) == 2:
            return True
        subprocess.run([sys.executable, "-c", "import time; time.sleep(0.05)"], check=True)
    return False
