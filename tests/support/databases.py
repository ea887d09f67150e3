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

Which databases: ``IMMTRAX_TEST_DATABASE`` (``sqlite`` or ``postgresql``) picks one for the whole
run: ``BACKENDS`` then holds only it, and every test that needs just one database (handler tests,
sign-in tests, the end-to-end portal) takes ``SINGLE_BACKEND`` instead of SQLite. Unset,
``BACKENDS`` holds both and ``SINGLE_BACKEND`` is SQLite. ``make test`` runs the suite once per
database. ``python -m tests.support.databases`` exits 0 when PostgreSQL answers, 1 (with the
reason) when it does not.

Speed: running every migration takes 0.3-0.4 s, so ``fresh_database_url`` migrates one template
per test process (the first time it is asked, per database kind) and gives each test a copy: a file
copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL. A copy is exactly what the
migrations built; the template is removed when the process ends. ``empty_database_url`` stays empty
(tests of the migrations themselves, and ``cli prepare``, start from nothing).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
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

KNOWN_BACKENDS = ("sqlite", "postgresql")


def selected_backend() -> str | None:
    """The one database this run is for (``IMMTRAX_TEST_DATABASE``), or None for both."""
    chosen = os.environ.get("IMMTRAX_TEST_DATABASE", "").strip().lower() or None
    if chosen is not None and chosen not in KNOWN_BACKENDS:
        raise ValueError(f"IMMTRAX_TEST_DATABASE must be one of {KNOWN_BACKENDS}, not {chosen!r}")
    return chosen


_ALL_BACKENDS = {
    "sqlite": pytest.param("sqlite", id="sqlite"),
    "postgresql": pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
}

# Parametrize with these: ids "sqlite" and "postgresql"; the PostgreSQL one carries the marker.
BACKENDS = [param for name, param in _ALL_BACKENDS.items() if selected_backend() in (None, name)]

# For a test that runs on one database: the selected one, SQLite by default.
SINGLE_BACKEND: str = selected_backend() or "sqlite"


def backend_params(*, postgres: bool = True) -> list:
    """The backend parameter list; ``postgres=False``: only the single backend of this run."""
    return BACKENDS if postgres else [_ALL_BACKENDS[SINGLE_BACKEND]]

_postgres_unreachable: str | None = None




def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        POSTGRES_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 3},
    )


def _postgres_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _skip_unreachable_postgres(exc: sa.exc.OperationalError) -> None:
    global _postgres_unreachable
    _postgres_unreachable = str(exc.orig or exc).strip().splitlines()[0]
    pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {_postgres_unreachable}")


def _drop_postgres_database(admin: sa.Engine, name: str) -> None:
    # FORCE ends connections a test forgot to close, so the drop never hangs.
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _postgres_database(template: str | None = None) -> Iterator[str]:
    """A new, uniquely named database (a copy of ``template`` when given), dropped afterwards."""
    if _postgres_unreachable is not None:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {_postgres_unreachable}")
    name = f"immtrax_test_{uuid.uuid4().hex[:16]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    admin = _admin_engine()
    try:
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy_of}')
        except sa.exc.OperationalError as exc:
            _skip_unreachable_postgres(exc)
        try:
            yield _postgres_url(name)
        finally:
            _drop_postgres_database(admin, name)
    finally:
        admin.dispose()


# Per database kind, the migrated template of this process: a SQLite file path or a PostgreSQL
# database name. Built on first use, removed at exit.
_templates: dict[str, str] = {}


def _sqlite_template() -> str:
    folder = Path(tempfile.mkdtemp(prefix="immtrax-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    # Fold the write-ahead log into the file, so the file alone is the whole database.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return str(path)


def _postgres_template() -> str:
    name = f"immtrax_test_template_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _skip_unreachable_postgres(exc)
    atexit.register(_drop_template, admin, name)
    upgrade_to_head(_postgres_url(name))
    return name


def _drop_template(admin: sa.Engine, name: str) -> None:
    try:
        _drop_postgres_database(admin, name)
    except sa.exc.DBAPIError:
        pass  # the server went away: nothing to drop
    finally:
        admin.dispose()


def drop_templates() -> None:
    """Remove this process's templates now (the suite's session end calls this: pytest-xdist
    workers end without running ``atexit`` handlers)."""
    while _templates:
        backend, template = _templates.popitem()
        if backend == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
        else:
            _drop_template(_admin_engine(), template)


def migrated_template(backend: str) -> str:
    """This process's database of kind ``backend`` that ``alembic upgrade head`` built (once)."""
    if backend not in _templates:
        if backend == "sqlite":
            _templates[backend] = _sqlite_template()
        elif backend == "postgresql":
            if _postgres_unreachable is not None:
                pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {_postgres_unreachable}")
            _templates[backend] = _postgres_template()
        else:
            raise ValueError(f"unknown backend {backend!r}")
    return _templates[backend]


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
    """A URL to a new database as ``alembic upgrade head`` builds it: a copy of this process's
    migrated template (the same schema, rows and revision, without running the migrations again)."""
    template = migrated_template(backend)
    if backend == "sqlite":
        path = tmp_path / "immtrax-test.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        with _postgres_database(template=template) as url:
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


def dump_database(engine: sa.Engine) -> str:
    """Every row of every table as text, on either database (to look for what must not be
    stored)."""
    lines = []
    with engine.connect() as connection:
        for table in sorted(sa.inspect(connection).get_table_names()):
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                lines.append(f"{table}: " + " | ".join(str(value) for value in row))
    return "\n".join(lines)


@contextmanager
def database_unavailable(url: str) -> Iterator[None]:
    """Make the database at ``url`` unusable for everyone else until the block ends, as an outage
    would: PostgreSQL refuses new connections to it and ends the open ones (only this database;
    the server stays up); a SQLite file is moved aside and a folder put in its place, so opening
    it fails (the portal opens SQLite afresh for each unit of work)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = Path(parsed.database)
        aside = path.with_name(path.name + ".aside")
        aside.mkdir()
        moved = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        for original in moved:
            original.rename(aside / original.name)
        path.mkdir()
        try:
            yield
        finally:
            path.rmdir()
            for original in moved:
                (aside / original.name).rename(original)
            aside.rmdir()
        return
    name = parsed.database
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = :name AND pid <> pg_backend_pid()"),
                               {"name": name})
        try:
            yield
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        admin.dispose()


def postgres_unreachable_reason() -> str | None:
    """None when PostgreSQL answers on the admin URL, else why not (first line of the error)."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return None
    except sa.exc.DBAPIError as exc:
        return str(exc.orig or exc).strip().splitlines()[0]
    finally:
        admin.dispose()


if __name__ == "__main__":
    import sys

    reason = postgres_unreachable_reason()
    if reason:
        print(f"PostgreSQL does not answer at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {reason}")
    sys.exit(1 if reason else 0)
