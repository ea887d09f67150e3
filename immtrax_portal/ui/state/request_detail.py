"""A request's page: fields, timeline and the caller's next actions. Thin: every handler declares
its rule (``@guarded``); the rulebook decides which actions show and which are allowed."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services.change_feed import Scope
from immtrax_portal.services.request_actions import ActionInput
from immtrax_portal.services.request_detail import request_detail, take_action
from immtrax_portal.services.request_store import RequestChanged
from immtrax_portal.services.staff_notes import NOTE_MAX, add_note
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded


class RequestDetailState(LiveUpdates, SessionState):
    number: str = ""
    fields: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    emails: list[dict[str, str]] = []
    actions: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    withheld: str = ""
    note_problem: str = ""
    note_message: str = ""
    note_form_key: int = 0
    chosen: str = ""
    problem: str = ""
    done_message: str = ""
    _request_id: int = 0
    _seen_version: int = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.REQUEST_VIEW, page=True)
    def load(self, actor: Actor):
        self.number = self.router.url.query_parameters.get("number", "")[:20]
        self.chosen, self.problem, self.done_message = "", "", ""
        self.note_problem, self.note_message = "", ""
        self._show(actor)   # NotAllowed: recorded and shown by the guard
        return RequestDetailState.watch_live

    def _live_scope(self, actor: Actor) -> Scope:
        return Scope(request_ids=frozenset({self._request_id}) if self._request_id else frozenset())

    def _refresh(self, actor: Actor) -> None:
        """A live update: show the new state; someone halfway through an action is told. (No
        client called: a request the caller may no longer see simply disappears.)"""
        seen = self._seen_version
        try:
            self._show(actor)
        except NotAllowed as refused:
            self.problem = str(refused)
            return
        if self.chosen and self._seen_version != seen:
            self.chosen = ""
            self.problem = ("This request changed while you were looking at it (see its history "
                            "below). Check the new state before you act.")

    def _show(self, actor: Actor) -> None:
        try:
            detail = request_detail(actor, self.number)
        except NotAllowed:
            self.fields, self.timeline, self.emails, self.actions, self.notes = [], [], [], [], []
            self.withheld = ""
            self._request_id, self._seen_version = 0, 0
            raise
        self._request_id, self._seen_version = detail.id, detail.version
        self.fields, self.timeline, self.emails = detail.fields, detail.timeline, detail.emails
        self.actions, self.notes, self.withheld = detail.actions, detail.notes, detail.withheld

    @rx.event
    def choose(self, action: str):
        self.chosen = action if any(a["action"] == action for a in self.actions) else ""
        self.problem = ""

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.REQUEST_ACT)
    def submit_action(self, actor: Actor, form: dict):
        form = form if isinstance(form, dict) else {}
        try:
            action = Action(str(form.get("action", "")))
            given = ActionInput(action=action, expected_version=self._seen_version,
                                reason=str(form.get("text", ""))[:2000],
                                immtrax_username=str(form.get("username", ""))[:100])
            take_action(actor, self._request_id, given, source_ip=self._client_ip(),
                        credentials_sent=str(form.get("credentials_sent", "")).lower() in ("on", "true", "1"))
        except (RequestChanged, IllegalTransition) as refused:
            self.problem = str(refused)
            self._show(actor)
            return
        except ValueError:  # not an Action at all
            self.problem = "Choose one of the actions shown."
            return
        self.chosen, self.problem = "", ""
        self.done_message = "Done. The request and its history below are up to date."
        self._show(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.REQUEST_ADD_NOTE, show="note_problem")
    def save_note(self, actor: Actor, form: dict):
        """Staff only: add an internal note to the request on screen (re-checked in the service)."""
        self.note_problem, self.note_message = "", ""
        form = form if isinstance(form, dict) else {}
        try:
            add_note(actor, self._request_id, str(form.get("note", ""))[:NOTE_MAX],
                     source_ip=self._client_ip())
        except ValueError as empty:
            self.note_problem = str(empty)
            return
        self.note_message = "Note saved. Only program staff can see it."
        self.note_form_key += 1
        self._show(actor)
