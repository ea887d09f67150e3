"""Who is calling: re-derived from the HttpOnly session cookie on every privileged event.

The tab's client token is a bearer secret and Reflex state can be replayed by another client, so
nothing cached in state is proof of identity. Vars without a leading underscore are display only.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import reflex as rx

from immtrax_portal.auth.routes import safe_return_to
from immtrax_portal.auth.sessions import person_from_cookie_header
from immtrax_portal.browser_policy import assess_user_agent
from immtrax_portal.client_address import client_address
from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.operations import log_context
from immtrax_portal.services import audit
from immtrax_portal.services.actors import actor_for
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes


def go_to_server_route(url: str) -> rx.event.EventSpec:
    """A full page load (sign-in and sign-out live outside the single-page app)."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class SessionState(rx.State):
    """Display facts about the signed-in person; the page frame reads these."""

    signed_in: bool = False
    identity_checked: bool = False
    display_name: str = ""
    role_label: str = ""
    is_supervisor: bool = False
    is_staff: bool = False
    is_admin: bool = False
    forms_blocked: bool = False
    forms_block_reason: str = ""
    # Which session cookie this tab's state was built under (see ui/tab_owner.py).
    _session_fingerprint: str = ""

    def _resolve_caller(self) -> tuple[Person | None, Actor | None]:
        """The caller from the session cookie, with their roles as the database has them now."""
        person = person_from_cookie_header(self.router.headers.cookie)
        if person is None:
            return None, None
        log_context.actor_id.set(person.id)  # for this event's log lines: an id, never a name
        with session_scope() as session:
            return person, actor_for(session, person)

    def _current_actor(self) -> Actor | None:
        return self._resolve_caller()[1]

    def _client_ip(self) -> str:
        """The caller's address for the audit log and rate limits. Reflex's own proxy setting
        stays at 0, so ``session.client_ip`` is the websocket's socket peer."""
        return client_address(self.router.session.client_ip or "",
                              self.router.headers.raw_headers.get("x-forwarded-for", ""),
                              get_settings().trusted_proxy_hops)

    def _user_agent(self) -> str:
        return self.router.headers.user_agent or ""

    def _deny(self, actor: Actor | None, action: str, reason: str, **details) -> None:
        """Record a refused call in the audit log (who tried what, on what, from where).

        What the caller aimed at (``organization_id=`` or a request ``number=``) becomes the
        event's target; it came from the client, so it is kept as text, never as a foreign key.
        """
        target_type, target_id = "", ""
        if details.get("number"):
            target_type, target_id = "access_request", str(details["number"])[:64]
        elif details.get("organization_id"):
            target_type, target_id = "organization", str(details["organization_id"])[:64]
        with session_scope() as session:
            audit.record(session, action=action, actor_id=actor.person_id if actor else None,
                         actor_role=actor.role if actor else "anonymous",
                         outcome=AuditOutcome.DENIED, reason=reason[:500],
                         target_type=target_type, target_id=target_id,
                         source_ip=self._client_ip(), details=details)

    def _require_actor(self, action: str) -> Actor:
        actor = self._current_actor()
        if actor is None:
            self._deny(None, action, "not signed in")
            raise NotAllowed("Your session has ended. Sign in again to continue.")
        return actor

    def _require_allowed(self, action: str, check: Callable[[Actor], None]) -> Actor:
        """The caller, if ``check`` (a service's permission rule, raising NotAllowed) lets them do
        ``action`` now; otherwise NotAllowed, with the refusal in the audit log either way."""
        actor = self._require_actor(action)
        try:
            check(actor)
        except NotAllowed as refused:
            self._deny(actor, action, str(refused))
            raise
        return actor

    def _show_identity(self, actor: Actor | None, person: Person | None) -> None:
        self.identity_checked = True
        self.signed_in = actor is not None
        self.display_name = person.full_name if person else ""
        self.is_supervisor = bool(actor and actor.supervised_org_ids)
        self.is_staff = bool(actor and actor.is_program_staff)
        self.is_admin = bool(actor and actor.is_admin)
        self.role_label = actor.role.value.capitalize() if actor else ""
        verdict = assess_user_agent(self._user_agent())
        self.forms_blocked = verdict.blocked
        self.forms_block_reason = verdict.reason

    @rx.event
    def load_identity(self):
        person, actor = self._resolve_caller()
        self._show_identity(actor, person)

    def _page_path(self) -> str:
        return self.router.url.path or routes.DASHBOARD

    def _guard(self, needs: str) -> Actor | rx.event.EventSpec:
        """Page guard: the actor, or the event that sends them to sign in / not allowed."""
        person, actor = self._resolve_caller()
        self._show_identity(actor, person)
        if actor is None:
            self._deny(None, f"open_page:{self._page_path()}", "not signed in")
            return rx.redirect(routes.sign_in_page_url(self._page_path()))
        allowed = {
            "any": True,
            "supervisor": bool(actor.supervised_org_ids),
            "staff": actor.is_program_staff,
            "admin": actor.is_admin,
        }[needs]
        if not allowed:
            self._deny(actor, f"open_page:{self._page_path()}", f"needs {needs}")
            return rx.redirect(routes.NOT_ALLOWED)
        return actor


class SignInPageState(SessionState):
    """Where to come back to after signing in; checked again by the server route."""

    continue_url: str = routes.sign_in_url()

    @rx.event
    def load(self):
        self.load_identity()
        wanted = self.router.url.query_parameters.get("return_to", routes.DASHBOARD)
        self.continue_url = routes.sign_in_url(safe_return_to(wanted))
