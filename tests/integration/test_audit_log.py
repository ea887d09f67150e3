"""The audit log: append-only in the database, hash-chained, and checked by ``verify-audit``.

Runs on SQLite and PostgreSQL. Tampering is done as an attacker with database access would: drop
the trigger, edit or delete rows, then the check must name the first event that no longer fits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC

import pytest
import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import get_engine, session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.models import AuditEvent
from immtrax_portal.services import audit
from immtrax_portal.services.audit_chain import GENESIS_HASH, verify_chain
from immtrax_portal.services.requests import submit_request
from immtrax_portal.settings import PROJECT_ROOT
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import build_world, new_access


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield url


def write_events(count: int, *, action: AuditAction = AuditAction.INVITATION_REMINDER) -> list[int]:
    ids = []
    for n in range(count):
        with session_scope() as session:
            event = audit.record(session, action=action, actor_id=None, actor_role=Role.SYSTEM,
                                 target_type="thing", target_id=n, source_ip="198.51.100.7",
                                 details={"n": n})
            session.flush()
            ids.append(event.id)
    return ids


def events_in_chain_order() -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.chain_seq)))


def drop_append_only_triggers() -> None:
    """What someone with direct database access could do before editing history."""
    with get_engine().begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_append_only ON audit_event")


def verify_audit_command(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMMTRAX_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "immtrax_portal.cli", "verify-audit"], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


# --- Append-only ----------------------------------------------------------------------------------


def test_the_database_refuses_to_change_an_audit_event(database):
    [event_id] = write_events(1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with get_engine().begin() as connection:
            connection.execute(sa.text("UPDATE audit_event SET reason = 'nothing happened' WHERE id = :id"),
                               {"id": event_id})
    assert events_in_chain_order()[0].reason == ""


def test_the_database_refuses_to_delete_an_audit_event(database):
    write_events(2)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with get_engine().begin() as connection:
            connection.execute(sa.text("DELETE FROM audit_event"))
    assert len(events_in_chain_order()) == 2


def test_the_orm_cannot_change_an_audit_event_either(database):
    [event_id] = write_events(1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with session_scope() as session:
            session.get(AuditEvent, event_id).outcome = AuditOutcome.SUCCESS
            session.get(AuditEvent, event_id).reason = "rewritten"


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_audit_log(tmp_path):
    with fresh_database_url("postgresql", tmp_path) as url, use_database(url):
        write_events(1)
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with get_engine().begin() as connection:
                connection.exec_driver_sql("TRUNCATE audit_event CASCADE")
        assert len(events_in_chain_order()) == 1


# --- The hash chain -------------------------------------------------------------------------------


def test_every_event_links_to_the_one_before(database):
    write_events(5)
    events = events_in_chain_order()
    assert [e.chain_seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    pairs = zip(events, events[1:], strict=False)
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in pairs)
    assert len({e.entry_hash for e in events}) == 5
    verdict = verify_chain(get_engine())
    assert verdict.intact and verdict.events_checked == 5
    assert verdict.head_hash == events[-1].entry_hash


def test_a_lifecycle_move_is_chained_like_any_other_event(database):
    world = build_world()
    submit_request(world.sam, new_access(world.alpha), "a-key-long-enough-0001", source_ip="203.0.113.9")
    events = events_in_chain_order()
    assert {"submit", "send_invitation"} <= {e.action for e in events}
    assert verify_chain(get_engine()).intact


def test_verify_audit_passes_an_untouched_log(database):
    write_events(3)
    result = verify_audit_command(database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "intact: 3 events" in result.stdout


def test_verify_audit_names_the_event_whose_content_was_edited(database):
    ids = write_events(4)
    drop_append_only_triggers()
    with get_engine().begin() as connection:
        connection.execute(sa.text("UPDATE audit_event SET source_ip = '10.0.0.1' WHERE id = :id"),
                           {"id": ids[2]})
    result = verify_audit_command(database)
    assert result.returncode == 1
    assert f"BROKEN at event id {ids[2]}:" in result.stdout
    assert "content does not match its hash" in result.stdout


def test_verify_audit_names_the_next_event_when_an_edit_was_rehashed(database):
    """Editing a row and recomputing its own hash still breaks the link to the event after it."""
    ids = write_events(4)
    drop_append_only_triggers()
    with get_engine().begin() as connection:
        connection.execute(sa.text("UPDATE audit_event SET entry_hash = :h WHERE id = :id"),
                           {"h": "f" * 64, "id": ids[1]})
    result = verify_audit_command(database)
    assert result.returncode == 1
    # The edited row's own hash no longer matches its content: that row is named first.
    assert f"BROKEN at event id {ids[1]}:" in result.stdout


def test_verify_audit_names_the_event_after_a_removed_one(database):
    ids = write_events(4)
    drop_append_only_triggers()
    with get_engine().begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
    result = verify_audit_command(database)
    assert result.returncode == 1
    assert f"BROKEN at event id {ids[2]}:" in result.stdout
    assert "position 2 is missing" in result.stdout


def test_verify_audit_notices_the_newest_events_removed(database):
    ids = write_events(3)
    drop_append_only_triggers()
    with get_engine().begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[2]})
    result = verify_audit_command(database)
    assert result.returncode == 1
    assert f"after event id {ids[1]} were removed" in result.stdout


def test_concurrent_writers_keep_one_unbroken_chain(database):
    """Eight threads append at once, each transaction pausing between its writes: appends must
    queue behind each other, never both read the same head."""
    failures: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(5):
                with session_scope() as session:
                    audit.record(session, action=AuditAction.INVITATION_REMINDER, actor_id=None,
                                 actor_role=Role.SYSTEM, target_id=f"{worker}-{n}")
                    session.flush()
                    time.sleep(0.01)
                    audit.record(session, action=AuditAction.EXPIRE_INVITATION, actor_id=None,
                                 actor_role=Role.SYSTEM, target_id=f"{worker}-{n}")
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    events = events_in_chain_order()
    assert [e.chain_seq for e in events] == list(range(1, 81))
    verdict = verify_chain(get_engine())
    assert verdict.intact, verdict.describe()


# --- What every event carries ---------------------------------------------------------------------


def test_an_event_carries_actor_role_target_outcome_utc_time_and_source_ip(database):
    world = build_world()
    with session_scope() as session:
        audit.record(session, action=AuditAction.OPEN_PAGE, actor_id=world.sam, actor_role=Role.SUPERVISOR,
                     organization_id=world.alpha, outcome=AuditOutcome.DENIED,
                     target_type="organization", target_id=world.beta, reason="needs staff",
                     source_ip="203.0.113.5", details={"path": "/x"})
    [event] = [e for e in events_in_chain_order() if e.action == "open_page"]
    assert (event.actor_id, event.actor_role, event.organization_id) == (world.sam, "supervisor", world.alpha)
    assert (event.target_type, event.target_id) == ("organization", str(world.beta))
    assert event.outcome == AuditOutcome.DENIED and event.source_ip == "203.0.113.5"
    assert event.occurred_at.tzinfo is not None and event.occurred_at.utcoffset() == UTC.utcoffset(None)


def test_an_action_outside_the_closed_set_is_refused_before_anything_is_written(database):
    with pytest.raises(ValueError), session_scope() as session:
        audit.record(session, action="open_page:/\x1b[31mforged", actor_id=None, actor_role=Role.SYSTEM)
    assert events_in_chain_order() == []


def test_client_text_in_details_is_bounded_and_its_control_characters_escaped(database):
    with session_scope() as session:
        audit.record(session, action=AuditAction.OPEN_PAGE, actor_id=None, actor_role=Role.ANONYMOUS,
                     outcome=AuditOutcome.DENIED, details={"path": "/x\n2026 fake line\x1b[31m" + "y" * 5000})
    [event] = events_in_chain_order()
    path = json.loads(event.details)["path"]
    assert "\n" not in path and "\x1b" not in path and len(path) <= audit.DETAIL_TEXT_MAX
    assert path.startswith("/x\\n2026 fake line\\x1b[31m")
