"""How much a database outage writes to the log: a portal with several workers and state in Redis,
a few open dashboards in Chromium, the database refusing connections for a while; counts the log
lines and bytes written meanwhile (before throttling: 48,850 lines, 3.4 MB for 82 s, 3 workers).

Run by hand (PostgreSQL on 127.0.0.1:5432, Debian's redis-server and chromium)::

    .venv/bin/python benchmarks/outage_log_benchmark.py --workers 3 --seconds 82 --dashboards 3

It starts everything it needs on free ports (its own Redis, its own PostgreSQL database, dropped
afterwards; web folder ``.web-e2e-ops``) and stops it again.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.browser import launch_chromium  # noqa: E402
from tests.e2e.conftest import PortalProcess, portal_environment, sign_in_as  # noqa: E402
from tests.support.databases import database_unavailable, empty_database_url  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.redis_server import OwnRedis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=82)
    parser.add_argument("--dashboards", type=int, default=3)
    parser.add_argument("--log-format", default="plain", choices=["plain", "json"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="outage-bench-"))
    redis = OwnRedis(work / "redis").start()
    try:
        with empty_database_url("postgresql", work) as url:
            env = portal_environment(work / "portal", url, port=free_port(), oidc_port=free_port(),
                                     web_dir=str(ROOT / ".web-e2e-ops"))
            (work / "portal").mkdir()
            env.update({"IMMTRAX_REDIS_URL": redis.url(5), "GRANIAN_WORKERS": str(args.workers),
                        "IMMTRAX_WORKERS": str(args.workers), "IMMTRAX_LOG_FORMAT": args.log_format})
            portal = PortalProcess(env)
            portal.prepare()
            portal.start()
            try:
                measure(portal, url, args)
            finally:
                portal.stop()
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def measure(portal: PortalProcess, url: str, args) -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for _ in range(args.dashboards):
            page = browser.new_context().new_page()
            sign_in_as(page, portal.url, "demo-supervisor-two-orgs", return_to="/dashboard")
            page.get_by_role("main").locator('[data-live="on"]').wait_for()
        before_bytes = portal.log.stat().st_size
        before_lines = len(portal.log.read_bytes().splitlines())
        with database_unavailable(url):
            time.sleep(args.seconds)
        time.sleep(5)  # the count lines of the last interval
        after = portal.log.read_bytes()
        browser.close()
    lines = len(after.splitlines()) - before_lines
    print(f"{args.workers} workers, {args.dashboards} dashboards, {args.seconds:g} s outage: "
          f"{lines} log lines, {len(after) - before_bytes} bytes")


if __name__ == "__main__":
    main()
