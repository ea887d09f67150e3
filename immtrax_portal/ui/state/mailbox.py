"""The development mailbox / outgoing-mail status page. Thin: the service decides who may read."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import mailbox
from immtrax_portal.ui import routes
from immtrax_portal.ui.client_input import turned_page
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.session import SessionState

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

    @rx.event
    def load(self):
        actor = self._guard("any")
        if not isinstance(actor, Actor):
            return actor
        if not mailbox.may_read_mailbox(actor):
            self._deny(actor, "mailbox.open", "not a mailbox reader")
            return rx.redirect(routes.NOT_ALLOWED)
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

    def _reader(self, action: str) -> Actor | None:
        """The caller if they may read mail now; a refusal is audited whatever the tab shows
        (``_require_actor`` records an anonymous caller itself)."""
        try:
            return self._require_allowed(action, mailbox.require_mailbox_reader)
        except NotAllowed as refused:
            self.problem = str(refused)
            return None

    @rx.event
    def turn_page(self, delta: int):
        actor = self._reader("mailbox.turn_page")
        if actor is None:
            return
        self.page = turned_page(self.page, self.pages, delta)
        self._refresh(actor)

    @rx.event
    def open_email(self, email_id: str):
        actor = self._reader("mailbox.open_email")
        if actor is None:
            return None
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
