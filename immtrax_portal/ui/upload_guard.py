"""An upload runs only for the session that owns the tab it names.

Reflex's ``POST /_upload`` finds the tab by its ``reflex-client-token`` header alone and runs the
upload handler with that tab's state, whose router headers are those of the tab's websocket:
whoever holds a tab token (a replayed one, from a shared computer's session storage) could run
a staff-only upload handler as the staff member, without any cookie. So this ASGI middleware,
in front of Reflex, re-derives the caller from the upload request's own session cookie: the
upload goes on only if that cookie is a live session and the very session the tab's state was
built for (``SessionState._session_fingerprint``, kept by ``ui.tab_owner``). Otherwise the answer
is 403 with a plain message, nothing runs, and the refusal is audited.
"""

from __future__ import annotations

import asyncio

from reflex.istate.manager.token import BaseStateToken
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse

from immtrax_portal.auth.sessions import person_from_cookie_header
from immtrax_portal.client_address import client_address
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, Role
from immtrax_portal.log_redaction import one_line
from immtrax_portal.services import audit
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.session import SessionState
from immtrax_portal.ui.tab_owner import session_fingerprint

UPLOAD_PATH = "/_upload"
REFUSED = ("This upload was refused: your session has ended, or this page was opened in another "
           "session. Reload the page, sign in again if asked, and upload the file once more.")


def _audit_refusal(cookie: str | None, ip: str, handler: str) -> None:
    person = person_from_cookie_header(cookie, touch=False)
    with session_scope() as db:
        audit.record(db, action=AuditAction.UPLOAD_REFUSED, actor_id=person.id if person else None,
                     actor_role="unknown" if person else Role.ANONYMOUS, outcome=AuditOutcome.DENIED,
                     target_type="upload_handler", target_id=one_line(handler, 200),
                     reason="the upload's session is not the session that owns the tab",
                     source_ip=ip)


class UploadOwnerMiddleware:
    """ASGI middleware: ``POST /_upload`` only from the session that owns the tab."""

    def __init__(self, app, rx_app) -> None:
        self.app = app
        self.rx_app = rx_app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or \
                scope.get("path", "").rstrip("/") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = headers.get("cookie")
        token = headers.get("reflex-client-token", "")
        presented = await asyncio.to_thread(session_fingerprint, cookie)
        if presented and token and presented == await self._owner_of(token):
            await self.app(scope, receive, send)
            return
        peer = (scope.get("client") or ("", 0))[0]
        ip = client_address(peer, headers.get("x-forwarded-for", ""), get_settings().trusted_proxy_hops)
        await asyncio.to_thread(_audit_refusal, cookie, ip, headers.get("reflex-event-handler", ""))
        response = PlainTextResponse(REFUSED, status_code=403, headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)

    async def _owner_of(self, token: str) -> str:
        """The session fingerprint the tab's state was built for ("" for a tab never seen)."""
        async with self.rx_app.modify_state(BaseStateToken(ident=token[:200], cls=SessionState)) as root:
            session_state = await root.get_state(SessionState)
            return session_state._session_fingerprint


def guard_uploads(front_app, rx_app) -> None:
    """Put the upload check in front of Reflex (``front_app`` is the ``api_transformer``)."""
    # Inside the security-headers middleware, so a refusal carries the headers too.
    front_app.user_middleware.append(Middleware(UploadOwnerMiddleware, rx_app=rx_app))
