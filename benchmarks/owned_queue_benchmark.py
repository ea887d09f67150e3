"""Time the owned queue and the program's clock on a fresh database holding 100,000 requests
(run by hand; the figures are printed, not asserted).

    .venv/bin/python benchmarks/owned_queue_benchmark.py                         # SQLite and PostgreSQL
    .venv/bin/python benchmarks/owned_queue_benchmark.py --database postgresql --requests 100000
    .venv/bin/python benchmarks/owned_queue_benchmark.py --database sqlite --requests 20000

The data comes from ``seeding.py`` (the requests of ``queue_benchmark.py``, plus five staff members
owning three requests in four, time with the program on every request, the running clocks' origin
and a likely duplicate for 1 in 50 open requests). PostgreSQL: a new database on 127.0.0.1:5432,
created for the run and dropped afterwards.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeding import add_owners_and_clocks, arguments, chosen, fill, fresh_database, timed  # noqa: E402

from immtrax_portal.domain.permissions import Actor  # noqa: E402
from immtrax_portal.services import metrics, program_clock, queue  # noqa: E402
from immtrax_portal.services.queue import QueueFilters  # noqa: E402


def run_backend(url: str, count: int, repeat: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    fill(url, count, now)
    first_staff = add_owners_and_clocks(url)
    print(f"  filled {count:,} requests with owners and clocks in {time.perf_counter() - started:.0f} s")
    staff = Actor(person_id=first_staff, email="staff0@bench.example", is_staff=True)

    def page(**filters):
        return lambda: queue.queue_page(staff, QueueFilters(**filters), now=now)

    shown = queue.queue_page(staff, QueueFilters(), now=now)
    marked = sum(1 for r in queue.queue_page(staff, QueueFilters(status="all", sort="time_left"),
                                             now=now).rows if r.duplicate_of)
    owned = sum(1 for r in shown.rows if r.owner)
    print(f"  default page: {len(shown.rows)} rows, {owned} with an owner, "
          f"first clock: {shown.rows[0].clock if shown.rows else '-'}; "
          f"duplicates on a time-left page: {marked}")
    for label, run in [
        ("default page (open, oldest waiting, owners, clocks)", page()),
        ("open, least time left first", page(sort="time_left")),
        ("mine (open)", page(owner="mine")),
        ("unassigned (open)", page(owner="unassigned")),
        ("mine, least time left first", page(owner="mine", sort="time_left")),
        ("all, page 2500, newest (owners, clocks)", page(status="all", sort="newest", page=2500)),
        ("metrics page (with program and total time)", lambda: metrics.staff_metrics(staff, now=now)),
    ]:
        print(f"  {label:<55} {timed(run, repeat):9.1f} ms")
    # The notices: one run of the job over a database that never ran it (every old open request
    # is due: one batch per level is sent, the rest waits for the next runs).
    started = time.perf_counter()
    sent = program_clock.run_clock_notices(now)
    print(f"  {'clock notices job, one run (first batch of the backlog)':<55} "
          f"{(time.perf_counter() - started) * 1000:9.1f} ms  ({sent} notices sent)")


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    for backend in chosen(args.database):
        with fresh_database(backend) as url:
            print("SQLite" if backend == "sqlite" else "PostgreSQL")
            run_backend(url, args.requests, args.repeat)


if __name__ == "__main__":
    main()
