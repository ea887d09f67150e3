"""Time the staff queue's queries on a fresh database holding 100,000 requests (run by hand).

    .venv/bin/python benchmarks/queue_benchmark.py                 # SQLite and PostgreSQL
    .venv/bin/python benchmarks/queue_benchmark.py --backend sqlite --requests 20000

SQLite goes to a temporary file; PostgreSQL to a new database on 127.0.0.1:5432 (created through
the ``test`` database and dropped afterwards; set IMMTRAX_BENCH_POSTGRES_ADMIN_URL to change).
Each query runs once to warm up, then ``--repeat`` times; the median is printed in milliseconds.
Not part of the test suite: results depend on the machine (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from immtrax_portal import db  # noqa: E402
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType  # noqa: E402
from immtrax_portal.domain.models import AccessRequest, Organization, Person  # noqa: E402
from immtrax_portal.domain.permissions import Actor  # noqa: E402
from immtrax_portal.migrations import upgrade_to_head  # noqa: E402
from immtrax_portal.services import metrics, queue  # noqa: E402
from immtrax_portal.services.queue import QueueFilters  # noqa: E402
from immtrax_portal.settings import get_settings  # noqa: E402

ADMIN_URL = os.environ.get("IMMTRAX_BENCH_POSTGRES_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ORGANIZATIONS = 400
BATCH = 5000
# Most requests are long finished; the open ones are a few thousand, as in a real program.
STATUS_WEIGHTS = {RequestStatus.SUBMITTED: 3, RequestStatus.AWAITING_AGREEMENT: 3,
                  RequestStatus.IN_REVIEW: 3, RequestStatus.NEEDS_INFO: 1,
                  RequestStatus.COMPLETED: 76, RequestStatus.REJECTED: 7,
                  RequestStatus.CANCELLED: 4, RequestStatus.EXPIRED: 3}
FIRST = ["Nora", "Omar", "Avery", "Casey", "Drew", "Emery", "Finley", "Gray", "Harper", "Indigo",
         "Jules", "Kai", "Lane", "Morgan", "Noel", "Parker", "Quinn", "Riley", "Sage", "Taylor"]
LAST = ["Smith", "Holm", "Lindqvist", "Farrell", "Two Bulls", "Ortiz", "McCall", "Little Owl",
        "Brandt", "Keller", "Tall Bull", "Morningstar", "Fairweather", "Eagleheart", "Sandoval"]


def fill(url: str, count: int, now: datetime) -> None:
    """Organizations, one person per request, and ``count`` requests over three years."""
    engine = db.build_engine(url)
    rng = random.Random(7)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    with engine.begin() as connection:
        connection.execute(sa.insert(Organization.__table__), [
            {"name": f"Provider {n:03d} {rng.choice(LAST)} Clinic", "code": f"ORG-{n:04d}",
             "city": "Helena", "active": True, "created_at": now} for n in range(ORGANIZATIONS)])
        connection.execute(sa.insert(Person.__table__), [{
            "email": "supervisor@bench.example", "first_name": "Sam", "last_name": "Supervisor", "phone": "",
            "job_title": "", "is_staff": False, "is_admin": False, "created_at": now}])
    with engine.begin() as connection:
        submitter = connection.execute(sa.select(Person.id)).scalar_one()
        org_ids = connection.execute(sa.select(Organization.id)).scalars().all()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        people, requests = [], []
        for n in range(start, start + size):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            people.append({"email": f"{first}.{last}.{n}@clinic{n % 97}.example".lower().replace(" ", ""),
                           "first_name": first, "last_name": last, "phone": "", "job_title": "Nurse",
                           "is_staff": False, "is_admin": False, "created_at": now})
        with engine.begin() as connection:
            highest = connection.execute(sa.select(sa.func.coalesce(sa.func.max(Person.id), 0))).scalar_one()
            first_id = highest + 1
            connection.execute(sa.insert(Person.__table__), people)
            for offset in range(size):
                n = start + offset
                status = rng.choices(statuses, weights)[0]
                created = now - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
                if status.is_open:  # open requests are recent
                    created = now - timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
                since = min(now, created + timedelta(minutes=rng.randrange(0, 5 * 24 * 60)))
                requests.append({
                    "number": f"IMR-{created.year}-{n + 1:06d}",
                    "request_type": rng.choice(list(RequestType)).value, "status": status.value,
                    "organization_id": rng.choice(org_ids), "submitter_id": submitter,
                    "subject_person_id": first_id + offset,
                    "access_level": AccessLevel.RECORD_MAINTENANCE.value,
                    "job_title": "Nurse", "phone": "", "reason": "", "note": "", "rejection_reason": "",
                    "immtrax_username": "", "version": 1, "idempotency_key": uuid.uuid4().hex,
                    "created_at": created, "updated_at": since, "status_changed_at": since,
                    "completed_at": since if status == RequestStatus.COMPLETED else None,
                })
            connection.execute(sa.insert(AccessRequest.__table__), requests)
    # Fresh statistics, and on PostgreSQL the visibility map that index-only scans need (what
    # autovacuum keeps up to date in a running system).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()


def timed(run: Callable[[], object], repeat: int) -> float:
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


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
    os.environ["IMMTRAX_DATABASE_URL"] = url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    upgrade_to_head(url)
    started = time.perf_counter()
    fill(url, count, now)
    print(f"  filled {count:,} requests in {time.perf_counter() - started:.0f} s")
    staff = Actor(person_id=1, email="staff@bench.example", is_staff=True)
    for label, run in measurements(staff, now):
        print(f"  {label:<55} {timed(run, 1 if 'CSV' in label else repeat):9.1f} ms")
    db.get_engine().dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite ({sa.__version__=})")
            run_backend(f"sqlite:///{folder}/bench.db", args.requests, args.repeat)
    if args.backend in ("postgresql", "both"):
        name = f"immtrax_bench_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            print("PostgreSQL")
            run_backend(sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False),
                        args.requests, args.repeat)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
