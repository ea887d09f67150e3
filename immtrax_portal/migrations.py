"""Applying and checking Alembic migrations from Python (the run command and app start-up)."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from alembic import command
from immtrax_portal.settings import PROJECT_ROOT

UPGRADE_COMMAND = ".venv/bin/alembic upgrade head"


class DatabaseBehindMigrations(RuntimeError):
    """The database is older than the code; starting would fail on the first query."""


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


# Search structures the migrations build that no model describes (0008_search_indexes): SQLite's
# FTS5 table with its shadow tables, and PostgreSQL's trigram indexes. Schema comparisons skip them.
SEARCH_TABLE_PREFIX = "person_search"
TRIGRAM_INDEXES = frozenset({"ix_person_email_trgm", "ix_person_full_name_trgm"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For alembic's comparisons: everything but the search structures above."""
    if type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def upgrade_to_head(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def ensure_database_is_current(engine: Engine) -> None:
    """Refuse to serve against a database behind the head revision, naming the fix."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current != head:
        raise DatabaseBehindMigrations(
            f"The database is at revision {current or 'none (empty)'} but the code needs {head}. "
            f"Run `{UPGRADE_COMMAND}` (or `make run`, which applies migrations) and start again."
        )
