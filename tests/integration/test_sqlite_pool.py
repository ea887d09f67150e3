"""SQLite connections are pooled (the pragmas set once per connection), and a database file that
was replaced or restored is still used at once: a pooled handle to the old file is never used."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import event, text

from immtrax_portal.db import build_engine


@pytest.fixture
def engine_and_path(tmp_path):
    path = tmp_path / "pooled.db"
    engine = build_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE marker (value TEXT)"))
        connection.execute(text("INSERT INTO marker VALUES ('original')"))
    yield engine, path
    engine.dispose()


def marker(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT value FROM marker")).scalar_one()


def test_units_of_work_reuse_one_connection_with_its_pragmas(engine_and_path):
    engine, _path = engine_and_path
    opened = []
    event.listen(engine, "connect", lambda *_args: opened.append(1))
    for _ in range(20):
        assert marker(engine) == "original"
    assert len(opened) <= 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_a_replaced_database_file_is_used_at_once(engine_and_path, tmp_path):
    engine, path = engine_and_path
    assert marker(engine) == "original"   # a pooled handle to the original file now exists
    restored = tmp_path / "restored.db"
    other = build_engine(f"sqlite:///{restored}")
    with other.begin() as connection:
        connection.execute(text("CREATE TABLE marker (value TEXT)"))
        connection.execute(text("INSERT INTO marker VALUES ('restored')"))
    other.dispose()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"pooled.db{suffix}").unlink(missing_ok=True)
    os.replace(restored, path)   # as restoring a backup over the live file does
    assert marker(engine) == "restored"


def test_a_moved_database_file_is_not_written_through_an_old_handle(engine_and_path, tmp_path):
    engine, path = engine_and_path
    assert marker(engine) == "original"
    shutil.move(path, tmp_path / "moved-away.db")
    with engine.begin() as connection:   # a fresh handle: an empty database at the path
        tables = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars().all()
    assert "marker" not in tables
