"""Engine and session scope. SQLite runs with WAL and foreign keys on.

A SQLite file is opened afresh for every unit of work (no pool): opening costs well under a
millisecond, and it means a database file that was moved, replaced or restored from a backup is
seen at once, instead of the app writing on through pooled handles to a file nobody reads any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy.exc as sa_exc
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from immtrax_portal.settings import get_settings


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def build_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its pragmas and its data folder created."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        file_based = bool(parsed.database) and parsed.database != ":memory:"
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               **({"poolclass": NullPool} if file_based else {}))
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # The pool's size is a setting with a budget (settings.database_connection_budget): every worker
    # process of every instance holds one such pool against the server's max_connections.
    settings = get_settings()
    return create_engine(url, pool_pre_ping=True, pool_size=settings.database_pool_size,
                         max_overflow=settings.database_max_overflow)


@lru_cache
def get_engine() -> Engine:
    engine = build_engine(get_settings().database_url)
    if get_settings().debug_query_counter:
        from immtrax_portal import query_counter

        query_counter.install(engine)
    return engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# What a database that is down, unreachable, refusing connections or locked raises.
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                sa_exc.TimeoutError)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be used right now, as opposed
    to a bug: then the person is told to try again later rather than given a generic error."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, _UNAVAILABLE):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
