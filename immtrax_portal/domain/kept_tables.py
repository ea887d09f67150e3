"""What migration 0008_search_indexes builds beside the tables, in one place: the triggers that
keep ``request_tab_count`` and the indexed name / e-mail search (PostgreSQL: pg_trgm GIN indexes;
SQLite: the FTS5 trigram table ``person_search`` kept by triggers).

The migration calls ``build`` after creating ``request_tab_count``; a database made by
``SQLModel.metadata.create_all`` (throwaway test databases) gets the same through the table's
``after_create`` event (domain/models.py), so the queue reads the same structures everywhere.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

logger = logging.getLogger(__name__)

# Must stay the same expressions services/queue.py searches with (the planner matches them).
PG_NAME_EXPRESSION = "lower(first_name || ' ' || last_name)"

_SQLITE_COUNT_TRIGGERS = """
CREATE TRIGGER trg_request_tab_count_insert AFTER INSERT ON access_request BEGIN
  INSERT INTO request_tab_count (owner_key, request_type, status, n)
  VALUES (coalesce(NEW.owner_id, 0), NEW.request_type, NEW.status, 1)
  ON CONFLICT (owner_key, request_type, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER trg_request_tab_count_delete AFTER DELETE ON access_request BEGIN
  UPDATE request_tab_count SET n = n - 1 WHERE owner_key = coalesce(OLD.owner_id, 0)
    AND request_type = OLD.request_type AND status = OLD.status;
END;
CREATE TRIGGER trg_request_tab_count_update AFTER UPDATE OF owner_id, request_type, status
ON access_request
WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.request_type IS NOT NEW.request_type
  OR OLD.status IS NOT NEW.status
BEGIN
  UPDATE request_tab_count SET n = n - 1 WHERE owner_key = coalesce(OLD.owner_id, 0)
    AND request_type = OLD.request_type AND status = OLD.status;
  INSERT INTO request_tab_count (owner_key, request_type, status, n)
  VALUES (coalesce(NEW.owner_id, 0), NEW.request_type, NEW.status, 1)
  ON CONFLICT (owner_key, request_type, status) DO UPDATE SET n = n + 1;
END;
"""

_PG_COUNT_FUNCTION = """
CREATE FUNCTION request_tab_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The audit chain's head first, as every audited change takes it: two changes then always lock
  -- the head before a count row, so counts shared by many requests add no deadlock.
  PERFORM 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE request_tab_count SET n = n - 1 WHERE owner_key = coalesce(OLD.owner_id, 0)
      AND request_type = OLD.request_type AND status = OLD.status;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO request_tab_count (owner_key, request_type, status, n)
    VALUES (coalesce(NEW.owner_id, 0), NEW.request_type, NEW.status, 1)
    ON CONFLICT (owner_key, request_type, status) DO UPDATE SET n = request_tab_count.n + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER trg_request_tab_count_insert_delete AFTER INSERT OR DELETE ON access_request
  FOR EACH ROW EXECUTE FUNCTION request_tab_count_keep();
CREATE TRIGGER trg_request_tab_count_update AFTER UPDATE OF owner_id, request_type, status
  ON access_request FOR EACH ROW
  WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.request_type IS DISTINCT FROM NEW.request_type
        OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION request_tab_count_keep();
"""

_SQLITE_SEARCH = """
CREATE VIRTUAL TABLE person_search USING fts5(name, email, tokenize = 'trigram');
INSERT INTO person_search (rowid, name, email)
  SELECT id, first_name || ' ' || last_name, email FROM person;
CREATE TRIGGER trg_person_search_insert AFTER INSERT ON person BEGIN
  INSERT INTO person_search (rowid, name, email)
  VALUES (NEW.id, NEW.first_name || ' ' || NEW.last_name, NEW.email);
END;
CREATE TRIGGER trg_person_search_update AFTER UPDATE OF first_name, last_name, email ON person BEGIN
  UPDATE person_search SET name = NEW.first_name || ' ' || NEW.last_name, email = NEW.email
  WHERE rowid = NEW.id;
END;
CREATE TRIGGER trg_person_search_delete AFTER DELETE ON person BEGIN
  DELETE FROM person_search WHERE rowid = OLD.id;
END;
"""


def statements(script: str) -> list[str]:
    """The script's statements (the trigger bodies keep their inner semicolons)."""
    out, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")):
            out.append(text)
            current = []
    return out


def pg_trigram_indexes(bind) -> None:
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as refused:
        savepoint.rollback()
        logger.warning("pg_trgm could not be created (%s); the name and e-mail search will scan "
                       "the person table until a superuser runs CREATE EXTENSION pg_trgm and "
                       "re-runs migration 0008_search_indexes", str(refused).splitlines()[0])
        return
    savepoint.commit()
    bind.exec_driver_sql("CREATE INDEX ix_person_email_trgm ON person USING gin (email gin_trgm_ops)")
    bind.exec_driver_sql(f"CREATE INDEX ix_person_full_name_trgm ON person "
                         f"USING gin (({PG_NAME_EXPRESSION}) gin_trgm_ops)")


def build(bind) -> None:
    """The count triggers and the search structures, on this connection's database."""
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(_PG_COUNT_FUNCTION)
        pg_trigram_indexes(bind)
    else:
        for statement in statements(_SQLITE_COUNT_TRIGGERS) + statements(_SQLITE_SEARCH):
            bind.exec_driver_sql(statement)
