"""Who is calling: re-derived from the HttpOnly session cookie on every privileged event.

The tab's client token is a bearer secret and Reflex state can be replayed by another client, so
nothing cached in state is proof of identity. Vars without a leading underscore are display only.

THE GUARD (``ui/state/guard.py``, re-exported here). Every event handler that needs a signed-in
caller declares its rule, and nothing else:

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_SAVE)
    def save(self, actor: Actor, form: dict):
        ...   # ``actor`` is the caller, from the session cookie, for this event only

``guarded`` resolves the caller once per event from the cookie (never from state), applies the
named ``Rule`` of ``domain/permissions.py``, and on refusal records exactly one audit row (the
typed action, the reason) and shows the message through the state's ``_on_refused``. A
``NotAllowed`` raised by the handler body (a service's rule about one request or organization)
is recorded and shown the same way, once. ``page=True`` is for on_load handlers: a refused
caller is sent to sign in, or to the not-allowed page. The handler may be a plain function, a
generator, a coroutine or an async generator. None of it waits on the database on the event
loop: a plain or generator handler runs whole in a worker thread, and for the async kinds the
cookie lookup and the audit write do (``guard.py``). A handler that is not guarded but reads the
database (an on_load showing something to anyone) is marked ``@runs_off_loop``.
"""

from __future__ import annotations

import asyncio
import json
import logging

import reflex as rx

from immtrax_portal.auth.routes import safe_return_to
from immtrax_portal.auth.sessions import caller_from_cookie_header
from immtrax_portal.browser_policy import assess_user_agent, describe_block
from immtrax_portal.client_address import client_address
from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome
from immtrax_portal.domain.models import Person
from immtrax_portal.domain.permissions import SESSION_ENDED, Actor, NotAllowed, Rule, rule_refusal
from immtrax_portal.operations import log_context
from immtrax_portal.services import audit
from immtrax_portal.services.refusals import LEDGER
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.guard import _CALLER_PERSON, _EVENT_CALLER, _EVENT_LOOP, guarded, runs_off_loop

__all__ = ["SessionState", "SignInPageState", "go_to_server_route", "guarded", "runs_off_loop"]

logger = logging.getLogger(__name__)
PAGE_PATH_MAX = 200


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
    # The header's "Sign in": back to this very page afterwards (an invitation link included).
    sign_in_here: str = routes.sign_in_page_url()
    forms_block_message: str = ""  # names only what was detected (browser_policy.describe_block)
    # Which session cookie this tab's state was built under (see ui/tab_owner.py).
    _session_fingerprint: str = ""

    def _resolve_caller(self) -> tuple[Person | None, Actor | None]:
        """The caller from the session cookie, with their roles as the database has them now:
        looked up once per event (by the tab-owner middleware, for this very Cookie header), or
        here when nothing looked it up yet (a background event, a handler called directly)."""
        cookie = self.router.headers.cookie
        looked_up = _EVENT_CALLER.get()
        if looked_up is not None and looked_up[0] == cookie:
            caller = looked_up[1]
        else:
            caller = caller_from_cookie_header(cookie)
        if caller is None:
            return None, None
        log_context.actor_id.set(caller.person.id)  # for this event's log lines: an id, never a name
        return caller.person, caller.actor

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

    def _deny(self, actor: Actor | None, action: AuditAction, reason: str, *,
              target_type: str = "", target_id: str | int = "", **details) -> None:
        """Record one refused call in the audit log (who tried what, on what, from where).

        What the caller aimed at (a request number, an organization id) is the event's target; it
        came from the client, so it is kept as bounded text, never as a foreign key. Repeats of
        the same refusal from one connection or address are counted instead of written one by
        one (``services.refusals``), and a connection refused too often is closed.
        """
        if not target_type and details.get("number"):
            target_type, target_id = "access_request", details["number"]
        elif not target_type and details.get("organization_id"):
            target_type, target_id = "organization", details["organization_id"]
        connection = self.router.session.session_id or self.router.session.client_token or ""
        address = self._client_ip()
        verdict = LEDGER.note(connection=connection, address=address,
                              same=(str(action), actor.person_id if actor else None, reason[:200],
                                    str(target_id)[:64], str(details.get("path", ""))[:PAGE_PATH_MAX]))
        base = {"actor_id": actor.person_id if actor else None,
                "actor_role": actor.role if actor else "anonymous", "outcome": AuditOutcome.DENIED,
                "target_type": target_type, "target_id": target_id, "source_ip": address}
        first_drop = verdict.drop_connection
        if verdict.write_row or verdict.summaries or first_drop:
            with session_scope() as session:
                if verdict.write_row:
                    audit.record(session, action=action, reason=reason[:500], details=details, **base)
                for summary in verdict.summaries:
                    audit.record(session, action=AuditAction.REFUSALS_AGGREGATED, reason=reason[:500],
                                 details={"refused_action": str(action), "count": summary.count,
                                          "scope": summary.scope}, **base)
                if first_drop:
                    unwritten = LEDGER.drop(connection)
                    audit.record(session, action=AuditAction.CONNECTION_DROPPED,
                                 reason="too many refused calls", details={"unwritten": unwritten},
                                 **base)
        if first_drop:
            self._drop_connection()

    def _drop_connection(self) -> None:
        """Close this tab's websocket (after its current event): it kept calling what it may not."""
        sid = self.router.session.session_id
        try:
            from reflex_base.registry import RegistrationContext

            namespace = RegistrationContext.get().app.event_namespace
        except Exception:  # no app (a unit test): nothing to close
            return
        loop = _EVENT_LOOP.get()
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
        if namespace is not None and sid:
            def close() -> None:
                loop.create_task(namespace.disconnect(sid))
            loop.call_soon_threadsafe(loop.call_later, 0.05, close)
            logger.warning("closed a connection after too many refused calls")

    def _on_refused(self, message: str, *, on_load: bool = False) -> rx.event.EventSpec | None:
        """Show a refusal where the page shows its problems (each page state says where); what it
        returns (a redirect, a focus) is the handler's answer. ``on_load``: the refusal came from
        a rule about one thing while the page loaded."""
        return None

    def _caller_person(self) -> Person:
        """Inside a guarded handler: the person the guard resolved for this event (their Okta
        subject and verified email), without a second cookie lookup."""
        person = _CALLER_PERSON.get()
        if person is None:
            raise RuntimeError("_caller_person is only for handlers decorated with @guarded")
        return person

    def _admit(self, rule: Rule, action: AuditAction, page: bool, show: str = ""
               ) -> tuple[Actor | None, Person | None, rx.event.EventSpec | None]:
        """The guard's door: the caller, if ``rule`` lets them in; otherwise (None, None, what to
        do), the refusal recorded and shown."""
        person, actor = self._resolve_caller()
        if page:
            self._show_identity(actor, person)
        refusal = rule_refusal(rule, actor)
        if refusal is None:
            return actor, person, None
        if page:
            self._deny(actor, AuditAction.OPEN_PAGE, rule.audit_reason if actor else "not signed in",
                       path=self._page_path()[:PAGE_PATH_MAX])
            if actor is None:
                return None, None, rx.redirect(routes.sign_in_page_url(self._page_address()))
            return None, None, rx.redirect(routes.NOT_ALLOWED)
        self._deny(actor, action, "not signed in" if actor is None else refusal)
        return None, None, self._display_refusal(refusal, False, show)

    def _refused_by_rule(self, actor: Actor, action: AuditAction, refusal: NotAllowed,
                         page: bool = False, show: str = "") -> rx.event.EventSpec | None:
        """A rule about one thing (raised by a service or the handler) refused the caller."""
        self._deny(actor, action, str(refusal), target_type=refusal.target_type,
                   target_id=refusal.target_id)
        return self._display_refusal(str(refusal), page, show)

    def _display_refusal(self, message: str, on_load: bool, show: str) -> rx.event.EventSpec | None:
        if show:
            setattr(self, show, message)
            return None
        return self._on_refused(message, on_load=on_load)

    def _current_actor_or_refuse(self, action: AuditAction) -> Actor | None:
        """For the few handlers that cannot be decorated (a background watcher): the caller, or
        None with the refusal recorded."""
        actor = self._current_actor()
        if actor is None:
            self._deny(None, action, "not signed in")
            self._on_refused(SESSION_ENDED)
        return actor

    def _show_identity(self, actor: Actor | None, person: Person | None) -> None:
        self.identity_checked = True
        self.signed_in = actor is not None
        self.display_name = person.full_name if person else ""
        # Display only (which links the frame shows), from the rulebook's own rules.
        self.is_supervisor = actor is not None and rule_refusal(Rule.SUPERVISOR, actor) is None
        self.is_staff = actor is not None and rule_refusal(Rule.STAFF, actor) is None
        self.is_admin = actor is not None and rule_refusal(Rule.ADMIN, actor) is None
        self.role_label = actor.role.value.capitalize() if actor else ""
        verdict = assess_user_agent(self._user_agent())
        self.forms_blocked = verdict.blocked
        self.forms_block_reason = verdict.reason
        self.sign_in_here = routes.sign_in_page_url(self._return_address())
        self.forms_block_message = describe_block(verdict)

    @rx.event
    @runs_off_loop
    def load_identity(self):
        person, actor = self._resolve_caller()
        self._show_identity(actor, person)

    def _page_path(self) -> str:
        return self.router.url.path or routes.DASHBOARD

    def _page_address(self) -> str:
        """This page's path with its query (a request number, the wizard's step), made safe to
        come back to after signing in: a same-site relative path only."""
        url = self.router.url
        address = f"{url.path}?{url.query}" if url.query else (url.path or routes.DASHBOARD)
        safe = safe_return_to(address)
        return safe if safe != "/" or address == "/" else routes.DASHBOARD

    def _return_address(self) -> str:
        """Where signing in from this page should lead: this page; from the sign-in page itself,
        where that page was asked to lead."""
        if self.router.url.path == routes.SIGN_IN_PAGE:
            return safe_return_to(self.router.url.query_parameters.get("return_to", routes.DASHBOARD))
        return self._page_address()


class SignInPageState(SessionState):
    """Where to come back to after signing in; checked again by the server route."""

    # Empty until the page has read its return_to: the link appears then, so a quick click never
    # signs in to the dashboard instead of the page the person came from.
    continue_url: str = ""
    # Set when the timeout warning sent the person here: the page says why, and that work is kept.
    timed_out: bool = False

    @rx.event
    @runs_off_loop
    def load(self):
        self.load_identity()
        wanted = self.router.url.query_parameters.get("return_to", routes.DASHBOARD)
        self.continue_url = routes.sign_in_url(safe_return_to(wanted))
        self.timed_out = self.router.url.query_parameters.get("timed_out") == "1"
