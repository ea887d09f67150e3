"""GET /staff/queue.csv over HTTP (uvicorn): staff only, the page's filters, safe cells, audited."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from immtrax_portal.auth.sessions import hash_of, new_random_id, session_cookie_name
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import AuditEvent, WebSession, utcnow
from immtrax_portal.downloads.queue_csv import csv_chunks, spreadsheet_safe
from immtrax_portal.http_app import build_http_app
from immtrax_portal.services.queue import EXPORT_COLUMNS
from tests.support.databases import fresh_database_url, use_database
from tests.support.oidc import serve_asgi_in_thread
from tests.support.queue_world import add_request, build_queue_world


@pytest.fixture(scope="module")
def portal_url():
    with serve_asgi_in_thread(build_http_app()) as url:
        yield url


@pytest.fixture
def world(tmp_path):
    with fresh_database_url("sqlite", tmp_path) as url, use_database(url):
        yield build_queue_world()


def cookie_for(person_id: int) -> dict[str, str]:
    raw = new_random_id()
    now = utcnow()
    with session_scope() as session:
        session.add(WebSession(id_hash=hash_of(raw), person_id=person_id, created_at=now,
                               last_seen_at=now, expires_at=now + timedelta(hours=8)))
    return {session_cookie_name(): raw}


def export_events(outcome: AuditOutcome) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "queue_exported",
                                                          AuditEvent.outcome == outcome)))


def test_staff_download_the_filtered_queue_with_formulas_neutralised(world, portal_url):
    wanted = add_request(world, first="=HYPERLINK(\"http://evil\")", last="@Smith",
                         status=RequestStatus.IN_REVIEW)
    add_request(world, org="Beta Health", status=RequestStatus.IN_REVIEW)
    add_request(world, status=RequestStatus.COMPLETED, completed_after_hours=3)
    response = httpx.get(f"{portal_url}/staff/queue.csv",
                         params={"status": "in_review", "org": world.orgs["Alpha Clinic"]},
                         cookies=cookie_for(world.staff))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == EXPORT_COLUMNS and [r[0] for r in rows[1:]] == [wanted]
    assert rows[1][5] == "'=HYPERLINK(\"http://evil\") @Smith"
    [event] = export_events(AuditOutcome.SUCCESS)
    assert event.actor_id == world.staff and "status=in_review" in event.details


@pytest.mark.parametrize("who", ["supervisor", "applicant"])
def test_supervisors_and_applicants_are_refused_the_export_and_it_is_audited(world, portal_url, who):
    add_request(world)
    response = httpx.get(f"{portal_url}/staff/queue.csv", cookies=cookie_for(getattr(world, who)))
    assert response.status_code == 403 and "IMR-" not in response.text
    assert len(export_events(AuditOutcome.DENIED)) == 1 and export_events(AuditOutcome.SUCCESS) == []


def test_without_a_session_the_export_is_refused_and_audited(world, portal_url):
    add_request(world)
    response = httpx.get(f"{portal_url}/staff/queue.csv", cookies={session_cookie_name(): "forged"})
    assert response.status_code == 401 and "IMR-" not in response.text
    assert len(export_events(AuditOutcome.DENIED)) == 1


def test_every_formula_start_is_neutralised_and_plain_text_is_left_alone():
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(risky) == "'" + risky
    assert spreadsheet_safe("Nora Newhire") == "Nora Newhire" and spreadsheet_safe("") == ""


def test_rows_are_written_in_batches():
    chunks = list(csv_chunks(iter([["a"]] * 5), batch=2))
    assert len(chunks) == 3 and chunks[0].startswith("Number,")
    assert "".join(chunks).count("\n") == 6
