"""Throw-away databases for integration tests: an empty one, or one migrated to head.

SQLite lives in the test's ``tmp_path``. PostgreSQL gets a uniquely named database on
127.0.0.1:5432 (created through the ``test`` database, dropped afterwards), so parallel runs
never share a schema; when PostgreSQL does not answer, the test is skipped with the reason.

Use from a test module (there is deliberately no shared conftest)::

    from tests.support.databases import BACKENDS, fresh_database_url

    @pytest.fixture(params=BACKENDS)
    def database_url(request, tmp_path):
        with fresh_database_url(request.param, tmp_path) as url:
            yield url
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from immtrax_portal import db
from immtrax_portal.migrations import upgrade_to_head
from immtrax_portal.settings import get_settings

POSTGRES_ADMIN_URL = os.environ.get(
    "IMMTRAX_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# Parametrize with these: ids "sqlite" and "postgresql"; the PostgreSQL one carries the marker.
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]

_postgres_unreachable: str | None = None


def backend_params(*, postgres: bool = True) -> list:
    """The backend parameter list, optionally SQLite only."""
    return BACKENDS if postgres else BACKENDS[:1]


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        POSTGRES_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 3},
    )


@contextmanager
def _postgres_database() -> Iterator[str]:
    global _postgres_unreachable
    if _postgres_unreachable is not None:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {_postgres_unreachable}")
    name = f"immtrax_test_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine()
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:
            _postgres_unreachable = str(exc.orig or exc).strip().splitlines()[0]
            pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {_postgres_unreachable}")
        try:
            yield (
                make_url(POSTGRES_ADMIN_URL)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            # FORCE ends connections a test forgot to close, so the drop never hangs.
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to a database with no tables at all."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'immtrax-test.db'}"
    elif backend == "postgresql":
        with _postgres_database() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


@contextmanager
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to a new database that ``alembic upgrade head`` has just built."""
    with empty_database_url(backend, tmp_path) as url:
        upgrade_to_head(url)
        yield url


@contextmanager
def use_database(url: str) -> Iterator[str]:
    """Point the portal (settings, engine) at ``url`` and back again afterwards."""
    before = os.environ.get("IMMTRAX_DATABASE_URL")
    os.environ["IMMTRAX_DATABASE_URL"] = url
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        yield url
    finally:
        db.get_engine().dispose()
        if before is None:
            os.environ.pop("IMMTRAX_DATABASE_URL", None)
        else:
            os.environ["IMMTRAX_DATABASE_URL"] = before
        get_settings.cache_clear()
        db.get_engine.cache_clear()
