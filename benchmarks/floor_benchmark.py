"""The portal against the framework's floor: a blank Reflex app of the same version, side by side in
one run, one worker each, driven by socket.io clients that behave like browser tabs.

    .venv/bin/python benchmarks/floor_benchmark.py                          # SQLite, every section
    .venv/bin/python benchmarks/floor_benchmark.py --database postgresql
    .venv/bin/python benchmarks/floor_benchmark.py --sections turn,queue --clients 1,25

It generates the blank app into a temporary folder (one state with a counter and one handler, one
page; see ``floor_servers.py``), builds it and serves it with Granian in production mode as the
portal's ``serve`` does, and prepares and serves the portal itself (``python -m immtrax_portal.cli
prepare`` then ``serve``, the demo data, a fresh SQLite file or a PostgreSQL database of its own,
dropped afterwards), with its statement counter on (``IMMTRAX_DEBUG_QUERY_COUNTER``). The portal's
front end is built once into ``.web-floor-<port>`` and reused by later runs on the same port.

Sections (``--sections``): ``turn`` (dashboard page turn against the blank app's counter, at each
``--clients`` count, p50 / p95, and events per second per worker), ``queue`` (the staff queue's
filter form: the call, the redirect and the page's load, as a tab does it), ``live`` (a request
changes through the portal's services in this process; time until every open dashboard received
it, and statements per change; the blank app's watcher polls a file), ``interactive`` (Playwright
Chromium, navigation start to ``<main data-hydrated="true">``), ``memory`` (the worker's RSS
before and after opening the most tabs, per tab; then the same for as many more while the first
stay open: the first figure carries the worker's one-time growth, the second what one more open
tab costs). Nothing is asserted: it prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from floor_servers import BlankApp, Portal  # noqa: E402
from floor_tabs import close_tabs, open_tabs  # noqa: E402

SECTIONS = ("turn", "queue", "live", "interactive", "memory")
SUPERVISOR = "demo-supervisor-two-orgs"
STAFF = "demo-staff"
LIVE_NUMBER = "IMR-2026-000008"
PG_ADMIN = os.environ.get("IMMTRAX_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
INTERACTIVE_PAGES = ("/dashboard", "/staff/queue", "/requests/new")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Side:
    """What one server measured; every time in seconds."""

    turn: dict[int, list[float]] = field(default_factory=dict)
    rate: dict[int, float] = field(default_factory=dict)
    queue: dict[int, list[float]] = field(default_factory=dict)
    live: dict[int, list[float]] = field(default_factory=dict)
    live_statements: dict[int, float] = field(default_factory=dict)
    interactive: dict[str, float] = field(default_factory=dict)
    tab_bytes: float | None = None
    # The next tabs, opened while the first ones stay open: what one more tab costs once the
    # worker's one-time growth (imports, caches, pools, the allocator's arenas) is behind it.
    next_tab_bytes: float | None = None
    tabs_measured: int = 0


# ---- the calls a tab makes ------------------------------------------------------------------

@dataclass
class Call:
    """A pair of calls a tab alternates (so the page really changes every time)."""

    page: str
    first: tuple[str, dict]
    second: tuple[str, dict]


def blank_call(state: str) -> Call:
    return Call("/", (f"{state}.increment", {}), (f"{state}.decrement", {}))


def dashboard_turn() -> Call:
    from immtrax_portal.ui.state.dashboard import DashboardState

    name = DashboardState.get_full_name()
    return Call("/dashboard", (f"{name}.turn_closed_page", {"delta": 1}),
                (f"{name}.turn_closed_page", {"delta": -1}))


def queue_filter() -> Call:
    from immtrax_portal.ui.state.staff_queue import StaffQueueState

    name = StaffQueueState.get_full_name()
    return Call("/staff/queue", (f"{name}.apply_filters", {"form": {"status": "all", "sort": "newest"}}),
                (f"{name}.apply_filters", {"form": {"status": "all", "sort": "waiting"}}))


async def drive(base: str, cookie: str, call: Call, clients: int, events_each: int,
                tabs=None) -> tuple[list[float], float]:
    """``clients`` tabs each making ``events_each`` calls back to back; every round trip and the
    events per second over the whole run."""
    own = tabs is None
    tabs = tabs[:clients] if tabs is not None else await open_tabs(base, call.page, clients, cookie)
    # How many updates each call causes, learnt by one tab while the server is otherwise idle (under
    # load the gap between two updates of one call can exceed the quiet window, undercounting).
    shape = (await tabs[0].calibrate(*call.first), await tabs[0].calibrate(*call.second))
    shapes = [shape] * len(tabs)
    latencies: list[float] = []

    async def one(tab, shape) -> None:
        for i in range(events_each):
            name, payload = call.first if i % 2 == 0 else call.second
            latencies.append(await tab.timed(name, payload, shape[i % 2]))

    started = time.perf_counter()
    await asyncio.gather(*(one(tab, shape) for tab, shape in zip(tabs, shapes, strict=True)))
    elapsed = time.perf_counter() - started
    steps = sum(len(shape[0]) for shape in shapes) / len(shapes)
    if own:
        await close_tabs(tabs)
    return latencies, len(latencies) * steps / elapsed


async def blank_state_name(blank: BlankApp) -> str:
    tabs = await open_tabs(blank.url, "/", 1)
    name = next(key for key in tabs[0].state_keys() if key.endswith("counter_state"))
    await close_tabs(tabs)
    return name


def rss(process) -> int:
    return process.memory_info().rss


async def turn_and_memory(base: str, cookie: str, call: Call, counts: list[int], events: int,
                          side: Side, worker, sections: set[str], store: str) -> None:
    biggest = max(counts)
    tabs = None
    if "memory" in sections:
        await asyncio.sleep(1)
        before = rss(worker)
        tabs = await open_tabs(base, call.page, biggest, cookie)
        await asyncio.sleep(2)
        side.tab_bytes = (rss(worker) - before) / biggest
        side.tabs_measured = biggest
        before = rss(worker)
        more = await open_tabs(base, call.page, biggest, cookie)
        await asyncio.sleep(2)
        side.next_tab_bytes = (rss(worker) - before) / biggest
        await close_tabs(more)
    if store in sections:
        for count in counts:
            each = events if count == 1 else max(2, events * 5 // count)
            latencies, rate = await drive(base, cookie, call, count, each,
                                          tabs if tabs is not None and count <= len(tabs) else None)
            getattr(side, store)[count] = latencies
            if store == "turn":
                side.rate[count] = rate
            print(f"    {store} {count:>3} clients: p50 {percentile(latencies, 50) * 1000:.1f} ms",
                  flush=True)
    if tabs is not None:
        await close_tabs(tabs)


# ---- live updates ---------------------------------------------------------------------------

async def live_blank(blank: BlankApp, counts: list[int], changes: int, side: Side) -> None:
    for count in counts:
        tabs = await open_tabs(blank.url, "/", count)
        await asyncio.sleep(1)
        seen: list[float] = []
        for n in range(changes):
            marker = f"change-{uuid.uuid4().hex[:8]}-{n}"
            marks = [len(tab.updates) for tab in tabs]
            changed = time.perf_counter()
            blank.live_source.write_text(marker)
            seen.extend(await arrivals(tabs, marks, marker, changed))
        side.live[count] = seen
        side.live_statements[count] = 0
        print(f"    live {count:>3} pages: p95 {percentile(seen, 95):.2f} s", flush=True)
        await close_tabs(tabs)


async def arrivals(tabs, marks, marker: str, changed: float, timeout: float = 15) -> list[float]:
    """Per tab, seconds from the change until an update naming ``marker`` arrived."""
    deadline = time.perf_counter() + timeout
    found: dict[int, float] = {}
    while len(found) < len(tabs) and time.perf_counter() < deadline:
        for i, tab in enumerate(tabs):
            if i in found:
                continue
            for arrived, update in tab.updates[marks[i]:]:
                if marker in str(update.get("delta")):
                    found[i] = arrived - changed
                    break
        await asyncio.sleep(0.02)
    return [found.get(i, float("inf")) for i in range(len(tabs))]


async def live_portal(portal: Portal, cookie: str, counts: list[int], changes: int, side: Side) -> None:
    import live_benchmark

    staff = live_benchmark.load_actor_by_email("pat.oconnor@mt.example")
    supervisor = live_benchmark.load_actor_by_email("dana.whitfield@billingsclinic.example")
    for count in counts:
        tabs = await open_tabs(portal.url, "/dashboard", count, cookie)
        await asyncio.sleep(2)
        seen: list[float] = []
        before = portal.statements()
        for _ in range(changes):
            marks = [len(tab.updates) for tab in tabs]
            changed = time.perf_counter()
            await asyncio.to_thread(live_benchmark.next_change, staff, supervisor)
            seen.extend(await arrivals(tabs, marks, LIVE_NUMBER, changed))
        side.live[count] = seen
        side.live_statements[count] = (portal.statements() - before) / changes
        print(f"    live {count:>3} dashboards: p95 {percentile(seen, 95):.2f} s, "
              f"{side.live_statements[count]:.1f} statements per change", flush=True)
        await close_tabs(tabs)


# ---- page interactive -----------------------------------------------------------------------

def interactive(url: str, pages: tuple[str, ...], cookie: str, loads: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import launch_chromium

    result = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if cookie:
            name, value = cookie.split("=", 1)
            context.add_cookies([{"name": name, "value": value, "url": url}])
        for path in pages:
            times = []
            for i in range(loads + 1):
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{url}{path}", wait_until="commit")
                page.locator('main[data-hydrated="true"]').wait_for(timeout=60_000)
                if i:   # the first load fills the browser's cache, as a returning user has it
                    times.append(time.perf_counter() - started)
                page.close()
            result[path] = statistics.median(times)
        browser.close()
    return result


# ---- databases ------------------------------------------------------------------------------

def create_postgres() -> tuple[str, str]:
    import sqlalchemy as sa

    name = f"immtrax_floor_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# ---- the table ------------------------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}" if seconds < 10 else f"{seconds * 1000:,.0f}"


def ratio(a: float, b: float) -> str:
    if not b or a == float("inf"):
        return "–"
    r = a / b
    return f"{r:.1f}×" if r < 100 else f"{r:,.0f}×"


def table(portal: Side, blank: Side, database: str, load: tuple, counts: list[int],
          live_counts: list[int]) -> str:
    rows = [f"| what ({database}, one worker each) | this portal | blank Reflex | ratio |",
            "|---|---|---|---|"]
    for count in counts:
        if count in portal.turn and count in blank.turn:
            p, b = portal.turn[count], blank.turn[count]
            rows.append(f"| dashboard page turn, {count} client{'s' if count > 1 else ''}, p50 / p95 | "
                        f"{ms(percentile(p, 50))} / {ms(percentile(p, 95))} ms | "
                        f"{ms(percentile(b, 50))} / {ms(percentile(b, 95))} ms | "
                        f"{ratio(percentile(p, 50), percentile(b, 50))} / "
                        f"{ratio(percentile(p, 95), percentile(b, 95))} |")
    if portal.rate and blank.rate:
        pr, br = max(portal.rate.values()), max(blank.rate.values())
        rows.append(f"| events per second per worker (best of the page-turn runs) | {pr:,.0f} | {br:,.0f} | "
                    f"1/{br / pr:.0f} |" if pr else "")
    shared = [c for c in counts if c in portal.queue and c in blank.turn]
    if shared:
        p50 = [percentile(portal.queue[c], 50) for c in shared]
        b50 = [percentile(blank.turn[c], 50) for c in shared]
        rows.append(f"| staff queue filter (call + redirect + load), {' / '.join(map(str, shared))} "
                    f"clients, p50 | {' / '.join(ms(x) for x in p50)} ms | "
                    f"{' / '.join(ms(x) for x in b50)} ms (counter) | "
                    f"{' / '.join(ratio(a, b) for a, b in zip(p50, b50, strict=True))} |")
    live = [c for c in live_counts if c in portal.live and c in blank.live]
    if live:
        p95 = [percentile(portal.live[c], 95) for c in live]
        b95 = [percentile(blank.live[c], 95) for c in live]
        rows.append(f"| live: change to screen, {' / '.join(map(str, live))} open pages, p95 | "
                    f"{' / '.join(f'{x:.2f}' for x in p95)} s | "
                    f"{' / '.join(f'{x:.2f}' for x in b95)} s (same polling, a file) | "
                    f"{' / '.join(ratio(a, b) for a, b in zip(p95, b95, strict=True))} |")
        rows.append(f"| live: statements per change | "
                    f"{' / '.join(f'{portal.live_statements[c]:.1f}' for c in live)} | 0 | "
                    f"{' / '.join(f'{portal.live_statements[c] / c:.1f}' for c in live)} per open page |")
    if portal.interactive and blank.interactive:
        floor = blank.interactive["/"]
        rows.append(f"| page interactive {' / '.join(f'`{p}`' for p in portal.interactive)} (median) | "
                    f"{' / '.join(ms(x) for x in portal.interactive.values())} ms | {ms(floor)} ms | "
                    f"{' / '.join(ratio(x, floor) for x in portal.interactive.values())} |")
    if portal.tab_bytes is not None and blank.tab_bytes is not None:
        rows.append(f"| worker memory per open tab (RSS delta / {portal.tabs_measured} tabs) | "
                    f"{portal.tab_bytes / 1024:,.0f} KB | {blank.tab_bytes / 1024:,.0f} KB | "
                    f"{ratio(portal.tab_bytes, blank.tab_bytes)} |")
    if portal.next_tab_bytes is not None and blank.next_tab_bytes is not None:
        rows.append(f"| same, the next {portal.tabs_measured} tabs (the first ones still open) | "
                    f"{portal.next_tab_bytes / 1024:,.0f} KB | {blank.next_tab_bytes / 1024:,.0f} KB | "
                    f"{ratio(portal.next_tab_bytes, blank.next_tab_bytes)} |")
    rows = [r for r in rows if r]
    rows.append("")
    rows.append(f"Load average (1/5/15 min) at the start: {load[0]}, at the end: {load[1]}; "
                f"{os.cpu_count()} CPUs; the clients run in the benchmark's own process on the same machine.")
    return "\n".join(rows)


def loadavg() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# ---- main -----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("FLOOR_BASE_PORT", "4380")),
                        help="blank app on it, the portal on +1, its demo sign-in on +2")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--clients", default="1,25,100")
    parser.add_argument("--events", type=int, default=20,
                        help="calls by one client; N clients make N x max(2, 5 x this / N)")
    parser.add_argument("--live-pages", default="1,50,100")
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument("--loads", type=int, default=3, help="page loads per page for 'interactive'")
    parser.add_argument("--blank-dir", help="build the blank app here (kept) instead of a temp folder")
    parser.add_argument("--web-dir", help="the portal's front-end build folder "
                                          "(default .web-floor-<port>, reused across runs)")
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    counts = [int(x) for x in args.clients.split(",")]
    live_counts = [int(x) for x in args.live_pages.split(",")]
    load_start = loadavg()
    print(f"Load average at the start: {load_start}", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="immtrax-floor-"))
    blank_dir = Path(args.blank_dir) if args.blank_dir else scratch / "blank"
    data_dir = scratch / "portal-data"
    data_dir.mkdir()
    pg_name = None
    if args.database == "postgresql":
        pg_name, database_url = create_postgres()
    else:
        database_url = f"sqlite:///{data_dir / 'portal.db'}"
    port = args.base_port + 1
    web_dir = Path(args.web_dir) if args.web_dir else ROOT / f".web-floor-{port}"
    blank = BlankApp(blank_dir, args.base_port)
    portal = Portal(data_dir, database_url, port, args.base_port + 2, web_dir)
    # This process changes requests through the portal's services for 'live', on its database.
    for key in ("IMMTRAX_DATABASE_URL", "IMMTRAX_DATA_DIR", "IMMTRAX_PUBLIC_URL", "IMMTRAX_DEMO_OIDC_PORT"):
        os.environ[key] = portal.env[key]
    results = {"portal": Side(), "blank": Side()}
    try:
        print("Building and starting the blank app…", flush=True)
        blank.build()
        blank.start()
        print("Preparing and starting the portal (builds its front end the first time)…", flush=True)
        portal.prepare()
        portal.start()
        asyncio.run(measure(blank, portal, args, sections, counts, live_counts, results))
        if "interactive" in sections:
            print("  page interactive…", flush=True)
            results["blank"].interactive = interactive(blank.url, ("/",), "", args.loads)
            results["portal"].interactive = interactive(portal.url, INTERACTIVE_PAGES,
                                                        portal.session_cookie(STAFF), args.loads)
    finally:
        blank.stop()
        portal.stop()
        if pg_name:
            drop_postgres(pg_name)
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(table(results["portal"], results["blank"],
                "SQLite" if args.database == "sqlite" else "PostgreSQL",
                (load_start, loadavg()), counts, live_counts))


async def measure(blank: BlankApp, portal: Portal, args, sections: set[str], counts: list[int],
                  live_counts: list[int], results: dict[str, Side]) -> None:
    state = await blank_state_name(blank)
    print("Blank app:", flush=True)
    await turn_and_memory(blank.url, "", blank_call(state), counts, args.events, results["blank"],
                          blank.worker(), sections, "turn")
    if "queue" in sections and "turn" not in sections:
        await turn_and_memory(blank.url, "", blank_call(state), counts, args.events, results["blank"],
                              blank.worker(), {"turn"}, "turn")
    if "live" in sections:
        await live_blank(blank, live_counts, args.changes, results["blank"])
    print("Portal:", flush=True)
    supervisor = portal.session_cookie(SUPERVISOR)
    staff = portal.session_cookie(STAFF)
    await turn_and_memory(portal.url, supervisor, dashboard_turn(), counts, args.events,
                          results["portal"], portal.worker(), sections, "turn")
    if "queue" in sections:
        await turn_and_memory(portal.url, staff, queue_filter(), counts, args.events,
                              results["portal"], portal.worker(), sections - {"memory"}, "queue")
    if "live" in sections:
        await live_portal(portal, supervisor, live_counts, args.changes, results["portal"])


if __name__ == "__main__":
    main()
