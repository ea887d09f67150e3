"""Live updates under load: N open supervisor dashboards, database statements per second while
idle and while requests change, and how long a change takes to show on every page.

Run by hand against a portal started with the query counter on, sharing its database::

    export IMMTRAX_DATA_DIR=/tmp/bench-data IMMTRAX_DEBUG_QUERY_COUNTER=1 \\
           IMMTRAX_PUBLIC_URL=http://localhost:3450 IMMTRAX_DEMO_OIDC_PORT=3460
    .venv/bin/python -m immtrax_portal.cli prepare && setsid .venv/bin/python -m immtrax_portal.cli serve &
    .venv/bin/python benchmarks/live_benchmark.py                   # 1, then 50, then 100 dashboards
    .venv/bin/python benchmarks/live_benchmark.py --dashboards 50   # one size only

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
    // A tracker row carries its status; a question waiting on the supervisor is a "Needs you" card.
    const item = document.querySelector(`li[data-number="${number}"][data-status]`);
    const card = document.querySelector(`li[data-number="${number}"][data-kind]`);
    const status = item ? item.dataset.status : (card ? "needs_info" : null);
    if (status && !(status in window.__seen)) window.__seen[status] = Date.now();
  };
  note();
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                     attributeFilter: ["data-status", "data-kind"]});
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
    pages: list = []
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


def measure_changes(portal: str, pages: list, staff, supervisor, changes: int, gap: float,
                    idle_rate: float) -> dict:
    """Make ``changes`` changes ``gap`` seconds apart; statements and change-to-screen per change.
    ``idle_rate`` (statements per second with the same pages open and nothing changing: the feed's
    polls, the pages' own session checks) is taken off to give what the changes themselves cost."""
    before = counter(portal)
    started = time.monotonic()
    latencies: list[float] = []
    for _ in range(changes):
        changed_at = time.time()
        status = next_change(staff, supervisor)
        time.sleep(gap)
        for page in pages:
            when = page.evaluate(f"window.__seen[{json.dumps(status)}] || null")
            latencies.append((when / 1000 - changed_at) if when else float("inf"))
        for page in pages:  # the status comes back later in the cycle: forget it
            page.evaluate(f"delete window.__seen[{json.dumps(status)}]")
    elapsed = time.monotonic() - started
    after = counter(portal)
    statements = after["statements"] - before["statements"]
    polls = after["feed_polls"] - before["feed_polls"]
    return {
        "dashboards": len(pages),
        "changes": changes,
        "changing_statements_per_s": statements / elapsed,
        "statements_per_change": statements / changes,
        # The feed's own poll (one statement, four times a second, whatever the number of pages).
        "statements_per_change_without_polls": (statements - polls) / changes,
        "statements_per_change_per_dashboard": statements / changes / len(pages),
        "statements_caused_per_change": (statements - idle_rate * elapsed) / changes,
        "feed_polls_per_s_while_changing": polls / elapsed,
        "missed_updates": sum(1 for x in latencies if x == float("inf")),
        "latency_median_s": statistics.median(latencies),
        "latency_p95_s": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
        "latency_max_s": max(latencies),
    }


def load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portal", default="http://localhost:3450")
    parser.add_argument("--dashboards", type=int, default=None,
                        help="one size only (default: the --steps 1, 50 and 100 in one run)")
    parser.add_argument("--steps", default="1,50,100",
                        help="open this many dashboards in turn, measuring at each")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--gap-seconds", type=float, default=3)
    args = parser.parse_args()
    steps = [args.dashboards] if args.dashboards else sorted(int(x) for x in args.steps.split(","))

    from playwright.sync_api import sync_playwright

    staff = load_actor_by_email("pat.oconnor@mt.example")
    supervisor = load_actor_by_email("dana.whitfield@billingsclinic.example")
    results: dict = {"no_dashboards_statements_per_s": rate(args.portal, args.idle_seconds)[0],
                     "steps": []}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        pages: list = []
        for step in steps:
            pages.extend(open_dashboards(browser, args.portal, step - len(pages)))
            time.sleep(3)
            idle, seen = rate(args.portal, args.idle_seconds)
            result = {"idle_statements_per_s": idle, "listeners": seen["feed_listeners"],
                      "load_average_before": load_average()}
            result.update(measure_changes(args.portal, pages, staff, supervisor,
                                          args.changes, args.gap_seconds, idle))
            result["load_average_after"] = load_average()
            results["steps"].append(result)
            print(json.dumps(result, indent=2, default=str), flush=True)
        browser.close()
    print("\n| open dashboards | statements per change: all / without the feed's polls / caused by "
          "the change (all minus the idle rate) | change to screen p50 / p95 / max | missed "
          "| load average |")
    print("|---:|---|---|---:|---|")
    for r in results["steps"]:
        print(f"| {r['dashboards']} | {r['statements_per_change']:.1f} / "
              f"{r['statements_per_change_without_polls']:.1f} / "
              f"{r['statements_caused_per_change']:.1f} "
              f"| {r['latency_median_s']:.2f} / {r['latency_p95_s']:.2f} / {r['latency_max_s']:.2f} s "
              f"| {r['missed_updates']} | {r['load_average_after']} |")


def load_actor_by_email(email: str):
    with session_scope() as session:
        return load_actor(session, person_id(email))


if __name__ == "__main__":
    main()
