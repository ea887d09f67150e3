"""Live updates under load: N open supervisor dashboards, database statements per second while
idle and while requests change, and how long a change takes to show on every page.

Run by hand against a portal started with the query counter on, sharing its database::

    export IMMTRAX_DATA_DIR=/tmp/bench-data IMMTRAX_DEBUG_QUERY_COUNTER=1 \\
           IMMTRAX_PUBLIC_URL=http://localhost:3450 IMMTRAX_DEMO_OIDC_PORT=3460
    .venv/bin/python -m immtrax_portal.cli prepare && setsid .venv/bin/python -m immtrax_portal.cli serve &
    .venv/bin/python benchmarks/live_benchmark.py --dashboards 50

The changes are made from this process through the portal's own services (staff ask a question,
the supervisor answers it, on the demo Access Deletion IMR-2026-000008), so the server's count
holds only what the open dashboards and its watcher cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from immtrax_portal.db import session_scope  # noqa: E402
from immtrax_portal.domain.enums import RequestStatus  # noqa: E402
from immtrax_portal.domain.models import AccessRequest, Person  # noqa: E402
from immtrax_portal.domain.workflow import Action  # noqa: E402
from immtrax_portal.services.actors import load_actor  # noqa: E402
from immtrax_portal.services.request_actions import ActionInput, act_on_request  # noqa: E402
from tests.e2e.browser import launch_chromium  # noqa: E402

NUMBER = "IMR-2026-000008"
PAGES_PER_CONTEXT = 10
WATCH_STATUS = """number => {
  window.__seen = {};
  const note = () => {
    const item = document.querySelector(`li[data-number="${number}"]`);
    const status = item && item.dataset.status;
    if (status && !(status in window.__seen)) window.__seen[status] = Date.now();
  };
  note();
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true,
                                                     attributes: true, attributeFilter: ["data-status"]});
}"""


def counter(portal: str) -> dict:
    return httpx.get(f"{portal}/debug/query-count", timeout=10).json()


def rate(portal: str, seconds: float) -> tuple[float, dict]:
    before = counter(portal)
    time.sleep(seconds)
    after = counter(portal)
    return (after["statements"] - before["statements"]) / seconds, after


def person_id(email: str) -> int:
    with session_scope() as session:
        return session.query(Person).filter(Person.email == email).one().id


def request_now() -> AccessRequest:
    with session_scope() as session:
        return session.query(AccessRequest).filter(AccessRequest.number == NUMBER).one()


def next_change(staff, supervisor) -> str:
    """Move the request one step along in_review <-> needs_info; returns the new status."""
    request = request_now()
    if request.status == RequestStatus.SUBMITTED:
        act_on_request(staff, request.id, ActionInput(Action.QUEUE_FOR_REVIEW, request.version))
    elif request.status == RequestStatus.IN_REVIEW:
        act_on_request(staff, request.id, ActionInput(Action.ASK_FOR_INFO, request.version,
                                                      reason="Benchmark question: which last day?"))
    elif request.status == RequestStatus.NEEDS_INFO:
        act_on_request(supervisor, request.id, ActionInput(Action.ANSWER_INFO, request.version,
                                                           reason="Benchmark answer."))
    else:
        sys.exit(f"{NUMBER} is {request.status}; reload the demo data to run the benchmark again")
    return request_now().status.value


def open_dashboards(browser, portal: str, count: int) -> list:
    pages = []
    while len(pages) < count:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        first = context.new_page()
        first.goto(f"{portal}/auth/sign-in?return_to=/dashboard", wait_until="domcontentloaded")
        first.locator('button[name="sub"][value="demo-supervisor-two-orgs"]').click()
        first.wait_for_url(f"{portal}/dashboard**", wait_until="domcontentloaded")
        more = min(PAGES_PER_CONTEXT, count - len(pages)) - 1
        context_pages = [first] + [context.new_page() for _ in range(more)]
        for page in context_pages[1:]:
            page.goto(f"{portal}/dashboard", wait_until="domcontentloaded")
        for page in context_pages:
            page.locator('[data-live="on"]').wait_for(timeout=120_000)
            page.locator(f'li[data-number="{NUMBER}"]').wait_for()
            page.evaluate(WATCH_STATUS, NUMBER)
        pages.extend(context_pages)
        print(f"  {len(pages)} dashboards open", flush=True)
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portal", default="http://localhost:3450")
    parser.add_argument("--dashboards", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--gap-seconds", type=float, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    staff = load_actor_by_email("pat.oconnor@mt.example")
    supervisor = load_actor_by_email("dana.whitfield@billingsclinic.example")
    results: dict = {"dashboards": args.dashboards}
    results["no_dashboards_statements_per_s"], _ = rate(args.portal, 10)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages = open_dashboards(browser, args.portal, args.dashboards)
        time.sleep(3)
        idle, seen = rate(args.portal, args.idle_seconds)
        results["idle_statements_per_s"] = idle
        results["listeners"] = seen["feed_listeners"]

        before = counter(args.portal)
        started = time.monotonic()
        latencies: list[float] = []
        for _ in range(args.changes):
            changed_at = time.time()
            status = next_change(staff, supervisor)
            time.sleep(args.gap_seconds)
            for page in pages:
                when = page.evaluate(f"window.__seen[{json.dumps(status)}] || null")
                latencies.append((when / 1000 - changed_at) if when else float("inf"))
            for page in pages:  # the status comes back later in the cycle: forget it
                page.evaluate(f"delete window.__seen[{json.dumps(status)}]")
        elapsed = time.monotonic() - started
        after = counter(args.portal)
        browser.close()

    statements = after["statements"] - before["statements"]
    results.update({
        "changes": args.changes,
        "changing_statements_per_s": statements / elapsed,
        "statements_per_change": statements / args.changes,
        "statements_per_change_per_dashboard": statements / args.changes / args.dashboards,
        "feed_polls_per_s_while_changing": (after["feed_polls"] - before["feed_polls"]) / elapsed,
        "missed_updates": sum(1 for x in latencies if x == float("inf")),
        "latency_median_s": statistics.median(latencies),
        "latency_p95_s": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
        "latency_max_s": max(latencies),
    })
    print(json.dumps(results, indent=2, default=str))


def load_actor_by_email(email: str):
    with session_scope() as session:
        return load_actor(session, person_id(email))


if __name__ == "__main__":
    main()
