"""The one seeding the benchmarks share: a fresh database (a temporary SQLite file, or a new
PostgreSQL database created through the ``test`` database and dropped afterwards), filled with
organizations, people and requests, and for the owned queue the staff owners and the clocks.

``queue_benchmark.py`` and ``owned_queue_benchmark.py`` both seed through here, so the two measure
the same data. Set IMMTRAX_BENCH_POSTGRES_ADMIN_URL to use another PostgreSQL server.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from immtrax_portal import db  # noqa: E402
from immtrax_portal.domain import program_clock as clock  # noqa: E402
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType  # noqa: E402
from immtrax_portal.domain.models import AccessRequest, Organization, Person  # noqa: E402
from immtrax_portal.migrations import upgrade_to_head  # noqa: E402
from immtrax_portal.settings import get_settings  # noqa: E402

ADMIN_URL = os.environ.get("IMMTRAX_BENCH_POSTGRES_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
ORGANIZATIONS = 400
BATCH = 5000
STAFF = 5
# Most requests are long finished; the open ones are a few thousand, as in a real program.
STATUS_WEIGHTS = {RequestStatus.SUBMITTED: 3, RequestStatus.AWAITING_AGREEMENT: 3,
                  RequestStatus.IN_REVIEW: 3, RequestStatus.NEEDS_INFO: 1,
                  RequestStatus.COMPLETED: 76, RequestStatus.REJECTED: 7,
                  RequestStatus.CANCELLED: 4, RequestStatus.EXPIRED: 3}
FIRST = ["Nora", "Omar", "Avery", "Casey", "Drew", "Emery", "Finley", "Gray", "Harper", "Indigo",
         "Jules", "Kai", "Lane", "Morgan", "Noel", "Parker", "Quinn", "Riley", "Sage", "Taylor"]
LAST = ["Smith", "Holm", "Lindqvist", "Farrell", "Two Bulls", "Ortiz", "McCall", "Little Owl",
        "Brandt", "Keller", "Tall Bull", "Morningstar", "Fairweather", "Eagleheart", "Sandoval"]


def arguments(description: str) -> argparse.Namespace:
    """The options both benchmarks take: which database(s), how many requests, how many runs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database", "--backend", dest="database", choices=[*BACKENDS, "both"],
                        default="both", help="sqlite, postgresql or both (default)")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args()


def chosen(database: str) -> tuple[str, ...]:
    return BACKENDS if database == "both" else (database,)


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A migrated, empty database of ``backend`` for the length of the block, gone afterwards; the
    portal's settings and engine point at it meanwhile."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            _point_at(url)
            try:
                yield url
            finally:
                db.get_engine().dispose()
        return
    name = f"immtrax_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        _point_at(url)
        try:
            yield url
        finally:
            db.get_engine().dispose()
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _point_at(url: str) -> None:
    os.environ["IMMTRAX_DATABASE_URL"] = url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    upgrade_to_head(url)


def _analyze(engine: sa.Engine) -> None:
    # Fresh statistics, and on PostgreSQL the visibility map that index-only scans need (what
    # autovacuum keeps up to date in a running system).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


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
    _analyze(engine)
    engine.dispose()


def add_owners_and_clocks(url: str) -> int:
    """On top of ``fill``: ``STAFF`` staff members owning three requests in four, time with the
    program on every request, the running clocks' origin (submitted, in review), and a likely
    duplicate (same name, same place) for 1 in 50 open requests. Returns the first staff id."""
    engine = db.build_engine(url)
    zone = get_settings().business_time_zone
    table, person = AccessRequest.__table__, Person.__table__
    with engine.begin() as connection:
        connection.execute(sa.insert(person), [{
            "email": f"staff{n}@bench.example", "first_name": "Staff", "last_name": f"Member {n}",
            "phone": "", "job_title": "", "is_staff": True, "is_admin": False,
            "created_at": datetime.now(UTC)} for n in range(STAFF)])
        staff_ids = connection.execute(sa.select(person.c.id).where(person.c.is_staff.is_(True))
                                       .order_by(person.c.id)).scalars().all()
        owner = sa.case(*[(table.c.id % 4 == n, staff_ids[n]) for n in range(3)], else_=None)
        connection.execute(table.update().values(owner_id=owner,
                                                 program_seconds=(table.c.id * 7919) % (72 * 3600)))
        running = connection.execute(sa.select(table.c.id, table.c.status_changed_at,
                                               table.c.program_seconds)
                                     .where(table.c.status.in_(["submitted", "in_review"]))).all()
        if running:  # one executemany, not a statement per row
            connection.execute(
                table.update().where(table.c.id == sa.bindparam("rid"))
                .values(clock_origin=sa.bindparam("origin")),
                [{"rid": rid, "origin": clock.business_seconds_at(since, zone) - used}
                 for rid, since, used in running])
        open_rows = connection.execute(sa.select(table.c.id, table.c.subject_person_id,
                                                 table.c.organization_id)
                                       .where(table.c.status.in_([s.value for s in RequestStatus
                                                                  if s.is_open]))
                                       .order_by(table.c.id)).all()
        for (a_id, a_person, _), (_, b_person, b_org) in zip(open_rows[::50], open_rows[1::50], strict=False):
            first, last = connection.execute(sa.select(person.c.first_name, person.c.last_name)
                                             .where(person.c.id == b_person)).one()
            connection.execute(person.update().where(person.c.id == a_person)
                               .values(first_name=first, last_name=last))
            connection.execute(table.update().where(table.c.id == a_id).values(organization_id=b_org))
    _analyze(engine)
    engine.dispose()
    return staff_ids[0]


def timed(run: Callable[[], object], repeat: int) -> float:
    """The median of ``repeat`` runs after one warm-up, in milliseconds."""
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
