"""The staff queue at 100,000 requests, in-process against its own SQL replayed raw (run by hand).

    .venv/bin/python benchmarks/queue_search_benchmark.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/queue_search_benchmark.py --backend sqlite --requests 20000

The database is the one ``queue_benchmark.py`` fills. For each view (the default page, a filter,
searches by name and email, the organization list of the filter) it prints the fastest of
``--repeat`` runs through the real service (the figure least disturbed by other processes), the
statements one run sent, and the fastest of those statements replayed on a raw driver connection
(no ORM, no compiling): the page's overhead over its own SQL is the ratio of the two. Nothing is
asserted. ``--profile`` prints where 20 default pages spend their time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from queue_benchmark import ADMIN_URL, fill  # noqa: E402

from immtrax_portal import db  # noqa: E402
from immtrax_portal.domain.permissions import Actor  # noqa: E402
from immtrax_portal.migrations import upgrade_to_head  # noqa: E402
from immtrax_portal.services import queue  # noqa: E402
from immtrax_portal.services.queue import QueueFilters  # noqa: E402
from immtrax_portal.settings import get_settings  # noqa: E402


def best_of(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The fastest of ``repeat`` runs after a warm-up, in ms of wall time and of this process's
    CPU time: on a shared machine the minimum is the figure least disturbed by other processes,
    and CPU time (SQLite runs inside this process) the one least disturbed by waiting for a core."""
    run()
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return min(wall), min(cpu)


def statements_of(run: Callable[[], object]) -> list[tuple[str, object]]:
    """What one run sends to the database, as the driver receives it."""
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    engine = db.get_engine()
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return sent


def raw_replay(sent: list[tuple[str, object]], repeat: int) -> tuple[float, float]:
    """The statements run back to back on one raw driver connection (best of ``repeat``, ms)."""
    raw = db.get_engine().raw_connection()
    try:
        def once():
            cursor = raw.cursor()
            for statement, parameters in sent:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.close()
            raw.rollback()
        return best_of(once, repeat)
    finally:
        raw.close()


def run_backend(url: str, count: int, repeat: int, profile: bool = False) -> None:
    now = datetime.now(UTC)
    os.environ["IMMTRAX_DATABASE_URL"] = url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    upgrade_to_head(url)
    started = time.perf_counter()
    fill(url, count, now)
    print(f"  filled {count:,} requests in {time.perf_counter() - started:.0f} s")
    staff = Actor(person_id=1, email="staff@bench.example", is_staff=True)

    def page(**filters):
        return lambda: queue.queue_page(staff, QueueFilters(**filters), now=now)

    views = [
        ("default page (open, oldest waiting)", page()),
        ("default page, page 2", page(page=2)),
        ("filter: type + organization", page(request_type="new_access", organization_id=17)),
        ("filter: all, type + org + older than 30 days", page(
            status="all", request_type="new_access", organization_id=17, older_than_days=30)),
        ("search by name 'nora smith' (all)", page(status="all", search="nora smith")),
        ("search by email fragment 'clinic42' (all)", page(status="all", search="clinic42")),
        ("search by name part 'bulls' (open)", page(search="bulls")),
        ("organization list of the filter", lambda: queue.organization_choices(staff)),
    ]
    print(f"  {'view (ms; wall, then CPU of this process)':<48} {'in-process':>15} {'stmts':>5}"
          f" {'raw SQL':>13} {'ratio':>11}")
    for label, run in views:
        wall, cpu = best_of(run, repeat)
        sent = statements_of(run)
        raw_wall, raw_cpu = raw_replay(sent, repeat) if sent else (0.0, 0.0)
        ratio = (f"{wall / raw_wall:4.1f}x/{cpu / raw_cpu:4.1f}x" if raw_wall and raw_cpu else "-")
        print(f"  {label:<48} {wall:7.2f} {cpu:7.2f} {len(sent):>5} {raw_wall:6.2f} {raw_cpu:6.2f}"
              f" {ratio:>11}")
    # Where the default page's SQL goes: each statement alone, raw (best of ``repeat``).
    for statement, parameters in statements_of(views[0][1]):
        alone, _ = raw_replay([(statement, parameters)], repeat)
        print(f"    {alone:6.2f} ms  {' '.join(statement.split())[:90]}")
    if profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [views[0][1]() for _ in range(20)])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    db.get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="profile 20 default pages")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print("SQLite")
            run_backend(f"sqlite:///{folder}/bench.db", args.requests, args.repeat, args.profile)
    if args.backend in ("postgresql", "both"):
        name = f"immtrax_bench_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            run_backend(sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False),
                        args.requests, args.repeat, args.profile)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
