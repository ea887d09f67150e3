"""``GET /staff/queue.csv``: the staff queue, filtered exactly as on the page, as a CSV file.

The route re-checks the session cookie and the staff role on every call (it lives outside
Reflex, so nothing from a tab's state is involved), records an audit event, and streams the rows
in batches so a 100,000-row export never sits in memory. Cells that a spreadsheet would run as a
formula (starting with = + - @, or a tab or carriage return) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from immtrax_portal.auth.sessions import person_from_cookie_header
from immtrax_portal.client_address import request_client_ip as client_ip
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import utcnow
from immtrax_portal.services import audit
from immtrax_portal.services.actors import actor_for
from immtrax_portal.services.queue import EXPORT_BATCH, EXPORT_COLUMNS, QueueFilters, export_rows
from immtrax_portal.ui import routes as ui_routes

PATH = ui_routes.STAFF_QUEUE_CSV
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NO_STORE = {"Cache-Control": "no-store"}


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows rather than runs."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def csv_chunks(rows: Iterator[list[str]], batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The header line, then the rows ``batch`` at a time as CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
        written += 1
        if written % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _audit(action_outcome: AuditOutcome, person_id: int | None, role: str, reason: str,
           request: Request, filters: QueueFilters | None = None) -> None:
    with session_scope() as session:
        audit.record(session, action=AuditAction.QUEUE_EXPORTED, actor_id=person_id, actor_role=role,
                     outcome=action_outcome, reason=reason, source_ip=client_ip(request),
                     details={"filters": filters.to_query()} if filters else None)


def export_queue_csv(request: Request) -> Response:
    person = person_from_cookie_header(request.headers.get("cookie"))
    if person is None:
        _audit(AuditOutcome.DENIED, None, "anonymous", "not signed in", request)
        return PlainTextResponse("Sign in as program staff to export the queue.", status_code=401,
                                 headers=_NO_STORE)
    with session_scope() as session:
        actor = actor_for(session, person)
    if not actor.is_program_staff:
        _audit(AuditOutcome.DENIED, actor.person_id, actor.role, "needs staff", request)
        return PlainTextResponse("Only Montana Immunization Program staff can export the queue.",
                                 status_code=403, headers=_NO_STORE)
    filters = QueueFilters.from_query(request.query_params)
    _audit(AuditOutcome.SUCCESS, actor.person_id, actor.role, "", request, filters)
    name = f"immtrax-queue-{utcnow().strftime('%Y%m%d-%H%M')}.csv"
    return StreamingResponse(
        csv_chunks(export_rows(filters)), media_type="text/csv; charset=utf-8",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def routes() -> list[Route]:
    return [Route(PATH, export_queue_csv, methods=["GET"])]
