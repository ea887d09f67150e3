"""The development mailbox / outgoing-mail status page. Thin: the service decides who may read."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import mailbox
from immtrax_portal.ui import routes
from immtrax_portal.ui.client_input import turned_page
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.session import SessionState, guarded

FILTERS = ("", "kept", "queued", "sending", "sent", "failed")
OPENED_HEADING_ID = "opened-email-heading"


class MailboxState(SessionState):
    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    status_filter: str = ""
    mail_is_kept: bool = False
    opened: dict = {}
    opened_links: list[str] = []
    problem: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False):
        if on_load:
            return rx.redirect(routes.NOT_ALLOWED)
        self.problem = message
        return None

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.MAILBOX_OPEN, page=True)
    def load(self, actor: Actor):
        mailbox.require_mailbox_reader(actor)   # a refusal: recorded, then the not-allowed page
        wanted = self.router.url.query_parameters.get("status", "")
        self.status_filter = wanted if wanted in FILTERS else ""
        self.page, self.opened, self.opened_links, self.problem = 1, {}, [], ""
        self.mail_is_kept = mailbox.mail_is_kept()
        self._refresh(actor)
        return None

    def _refresh(self, actor: Actor) -> None:
        rows, total = mailbox.list_emails(actor, self.page, self.status_filter or None)
        self.total, self.pages = total, max(1, -(-total // mailbox.PAGE_SIZE))
        self.rows = [{k: str(v) for k, v in row.items()} for row in rows]

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.MAILBOX_TURN_PAGE)
    def turn_page(self, actor: Actor, delta: int):
        mailbox.require_mailbox_reader(actor)   # a refusal: recorded and shown by the guard
        self.page = turned_page(self.page, self.pages, delta)
        self._refresh(actor)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.MAILBOX_OPEN_EMAIL)
    def open_email(self, actor: Actor, email_id: str):
        mailbox.require_mailbox_reader(actor)
        number = record_id(email_id)
        detail = mailbox.email_detail(actor, number) if number else None
        if detail is None:
            self.problem, self.opened, self.opened_links = "There is no such email.", {}, []
            return None
        self.problem = ""
        self.opened = {k: str(detail[k]) for k in ("id", "to", "subject", "status", "created", "sent",
                                                     "last_error", "request_number", "body_text")}
        self.opened_links = mailbox.links_in(detail["body_text"])[:5]
        return focus_element(OPENED_HEADING_ID)

    @rx.event
    def close_email(self):
        self.opened, self.opened_links = {}, []
