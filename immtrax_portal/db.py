"""Engine and session scope. SQLite runs with WAL and foreign keys on.

A SQLite file is opened once per pooled connection, its pragmas set then (the 'connect' event),
not for every unit of work: opening and the four pragmas cost more than most of the portal's
queries. A pooled handle would go on writing to a database file that was moved, replaced or
restored from a backup (it holds the old file open), so every checkout first compares the file
behind the handle with the file at the path (device and inode, one ``stat``); a handle to
another file, or to none, is thrown away and a fresh one opened, so the change is seen at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy.exc as sa_exc
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

from immtrax_portal.settings import get_settings

# A SQLite file's pool: enough handles for every worker thread of the events (``ui/state/guard.py``
# sizes those by the pool settings) and the background work beside them. SQLite has no server
# whose connections are counted, so this is not part of the PostgreSQL connection budget.
SQLITE_POOL_SIZE = 10
SQLITE_MAX_OVERFLOW = 20


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _watch_the_file(engine: Engine, path: str) -> None:
    """Pooled SQLite handles only while the file at ``path`` is still the one they opened."""

    def remember(_dbapi_connection, record) -> None:
        record.info["sqlite_file"] = _file_identity(path)

    def check(_dbapi_connection, record, _proxy) -> None:
        opened = record.info.get("sqlite_file")
        if opened is None or opened != _file_identity(path):
            raise sa_exc.DisconnectionError("the SQLite file was moved or replaced")  # pool reopens

    event.listen(engine, "connect", remember)
    event.listen(engine, "checkout", check)


def build_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its pragmas and its data folder created."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        file_based = bool(parsed.database) and parsed.database != ":memory:"
        if file_based:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        pool = ({"poolclass": QueuePool, "pool_size": SQLITE_POOL_SIZE,
                 "max_overflow": SQLITE_MAX_OVERFLOW} if file_based else {})
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **pool)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        if file_based:
            _watch_the_file(engine, str(Path(parsed.database).resolve()))
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
    if get_settings().debug_slow_database_person_id is not None:
        from immtrax_portal import slow_database

        slow_database.install(engine, get_settings().debug_slow_database_person_id,
                              get_settings().debug_slow_database_seconds)
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
