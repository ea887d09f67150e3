"""Migrations: ``alembic upgrade head`` on an empty database builds exactly the models' schema.

Runs on SQLite (always) and PostgreSQL (when it answers on 127.0.0.1:5432; each test gets its
own throw-away database, see tests/support/databases.py).
"""

from __future__ import annotations

import pprint

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import immtrax_portal.domain.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import command
from immtrax_portal.db import build_engine
from immtrax_portal.migrations import (
    DatabaseBehindMigrations,
    alembic_config,
    ensure_database_is_current,
    head_revision,
    include_object,
    upgrade_to_head,
)
from tests.support.databases import BACKENDS, empty_database_url


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    with empty_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine_for():
    engines = []

    def make(url: str) -> sa.Engine:
        engines.append(build_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


def schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                "include_object": include_object})
        return compare_metadata(context, SQLModel.metadata)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def table_names(engine: sa.Engine) -> set[str]:
    """The tables, without SQLite's FTS5 search table and its shadows (no model describes them)."""
    return {name for name in sa.inspect(engine).get_table_names()
            if include_object(None, name, "table", True, None)}


def test_upgrade_head_on_an_empty_database_builds_exactly_the_models_schema(empty_url, engine_for):
    upgrade_to_head(empty_url)
    engine = engine_for(empty_url)

    diff = schema_differences(engine)
    assert diff == [], "schema differs from the models:\n" + pprint.pformat(diff)
    assert table_names(engine) == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert current_revision(engine) == head_revision()


def test_the_lower_case_email_check_survives_migration(empty_url, engine_for):
    # compare_metadata does not look at CHECK constraints, so this one is checked by name.
    upgrade_to_head(empty_url)
    checks = sa.inspect(engine_for(empty_url)).get_check_constraints("person")
    assert "ck_person_email_lowercase" in {check["name"] for check in checks}


def test_upgrading_a_database_already_at_head_changes_nothing(empty_url, engine_for):
    upgrade_to_head(empty_url)
    upgrade_to_head(empty_url)
    engine = engine_for(empty_url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []


def test_downgrade_to_base_leaves_only_the_alembic_version_table(empty_url, engine_for):
    upgrade_to_head(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    engine = engine_for(empty_url)

    assert table_names(engine) == {"alembic_version"}
    assert current_revision(engine) is None
    if engine.dialect.name == "postgresql":
        assert sa.inspect(engine).get_sequence_names() == []

    # And the way back up still builds the full schema.
    upgrade_to_head(empty_url)
    assert schema_differences(engine) == []


def test_an_empty_database_is_refused_with_the_command_that_fixes_it(empty_url, engine_for):
    engine = engine_for(empty_url)
    with pytest.raises(DatabaseBehindMigrations) as refused:
        ensure_database_is_current(engine)
    message = str(refused.value)
    assert "alembic upgrade head" in message
    assert head_revision() in message
    assert "none (empty)" in message


def test_a_database_at_head_is_accepted(empty_url, engine_for):
    upgrade_to_head(empty_url)
    ensure_database_is_current(engine_for(empty_url))


def test_a_database_downgraded_below_head_is_refused_again(empty_url, engine_for):
    upgrade_to_head(empty_url)
    command.downgrade(alembic_config(empty_url), "base")
    with pytest.raises(DatabaseBehindMigrations, match="alembic upgrade head"):
        ensure_database_is_current(engine_for(empty_url))
