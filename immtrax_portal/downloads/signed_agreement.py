"""Files the portal hands out over plain HTTP (not the websocket): the signed agreement as a PDF.

A download is a full page load, so it is a Starlette route beside the sign-in routes. Like every
event handler, it re-derives the caller from the session cookie and lets the service decide what
that person may read; a refusal is audited and answered with a plain page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from immtrax_portal.auth import pages, sessions
from immtrax_portal.client_address import request_client_ip as client_ip
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import audit
from immtrax_portal.services.actors import actor_for
from immtrax_portal.services.signed_agreements import agreement_pdf
from immtrax_portal.ui import routes as ui_routes


def _record_refusal(person, request: Request, signature_id: int, reason: str) -> None:
    """One denial row per refused download, the anonymous ones (sent to sign in) included."""
    with session_scope() as session:
        role = actor_for(session, person).role if person is not None else Role.ANONYMOUS
        audit.record(session, action=AuditAction.DOWNLOAD_SIGNED_AGREEMENT,
                     actor_id=person.id if person is not None else None,
                     actor_role=role, outcome=AuditOutcome.DENIED, reason=reason,
                     target_type="agreement_signature", target_id=signature_id,
                     source_ip=client_ip(request))


def signed_agreement_pdf(request: Request) -> Response:
    signature_id = request.path_params["signature_id"]
    person = sessions.person_from_cookie_header(request.headers.get("cookie"))
    if person is None:
        _record_refusal(None, request, signature_id, "not signed in")
        return RedirectResponse(ui_routes.sign_in_page_url(request.url.path), status_code=303)
    try:
        pdf = agreement_pdf(signature_id, person.id)
    except NotAllowed as refused:
        _record_refusal(person, request, signature_id, str(refused))
        return pages.refusal_page("You cannot download this agreement", str(refused), status=403)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="imMTrax-User-Agreement-{signature_id}.pdf"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def routes() -> list[Route]:
    return [Route(f"{ui_routes.SIGNED_AGREEMENT_PDF}/{{signature_id:int}}.pdf", signed_agreement_pdf,
                  methods=["GET"])]
