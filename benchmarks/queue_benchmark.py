"""Time the staff queue's queries on a fresh database holding 100,000 requests (run by hand).

    .venv/bin/python benchmarks/queue_benchmark.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/queue_benchmark.py --database sqlite --requests 20000

The data comes from ``seeding.py`` (shared with ``owned_queue_benchmark.py``): SQLite goes to a
temporary file; PostgreSQL to a new database on 127.0.0.1:5432, dropped afterwards.
Each query runs once to warm up, then ``--repeat`` times; the median is printed in milliseconds.
Not part of the test suite: results depend on the machine (see benchmarks/README.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeding import arguments, chosen, fill, fresh_database, timed  # noqa: E402

from immtrax_portal import db  # noqa: E402
from immtrax_portal.domain.permissions import Actor  # noqa: E402
from immtrax_portal.services import metrics, queue  # noqa: E402
from immtrax_portal.services.queue import QueueFilters  # noqa: E402


def measurements(staff: Actor, now: datetime) -> list[tuple[str, Callable[[], object]]]:
    def page(**filters):
        return lambda: queue.queue_page(staff, QueueFilters(**filters), now=now)

    def counts_only():
        with db.session_scope() as session:
            return queue.tab_counts(session, queue.filter_conditions(session, QueueFilters(), now))

    def export_all():
        return sum(1 for _ in queue.export_rows(QueueFilters(status="all"), now=now))

    return [
        ("tab counts (one GROUP BY)", counts_only),
        ("first page, open tab, oldest waiting", page()),
        ("first page, all, newest", page(status="all", sort="newest")),
        ("deep page 2500 of all, newest (offset 49,980)", page(status="all", sort="newest", page=2500)),
        ("last page of all, newest (offset ~99,980)", page(status="all", sort="newest", page=5000)),
        ("deep page 1500 of completed, oldest waiting", page(status="completed", page=1500)),
        ("completed, sorted by organization, page 1", page(status="completed", sort="organization")),
        ("filtered: type + organization + older than 30 days", page(
            status="all", request_type="new_access", organization_id=17, older_than_days=30)),
        ("overdue only (open)", page(overdue_only=True)),
        ("search by number IMR-2025-0500", page(status="all", search="IMR-2025-0500")),
        ("search by last digits 054321", page(status="all", search="054321")),
        ("search by name 'nora smith'", page(status="all", search="nora smith")),
        ("search by email fragment 'clinic42'", page(status="all", search="clinic42")),
        ("metrics page (all figures)", lambda: metrics.staff_metrics(staff, now=now)),
        ("CSV export of all rows (streamed)", export_all),
    ]


def run_backend(url: str, count: int, repeat: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    fill(url, count, now)
    print(f"  filled {count:,} requests in {time.perf_counter() - started:.0f} s")
    staff = Actor(person_id=1, email="staff@bench.example", is_staff=True)
    for label, run in measurements(staff, now):
        print(f"  {label:<55} {timed(run, 1 if 'CSV' in label else repeat):9.1f} ms")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    for backend in chosen(args.database):
        with fresh_database(backend) as url:
            print(f"SQLite ({sa.__version__=})" if backend == "sqlite" else "PostgreSQL")
            run_backend(url, args.requests, args.repeat)


if __name__ == "__main__":
    main()
