"""A request's page: fields, timeline and the caller's next actions. Thin: every handler declares
its rule (``@guarded``); the rulebook decides which actions show and which are allowed."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule
from immtrax_portal.domain.workflow import Action, IllegalTransition
from immtrax_portal.services import queue_owner
from immtrax_portal.services.change_feed import Scope
from immtrax_portal.services.request_actions import ActionInput
from immtrax_portal.services.request_detail import (
    DONE_TEXT,
    TEXT_MAX,
    ActionInvalid,
    check_action,
    confirmation_for,
    request_detail,
    take_action,
)
from immtrax_portal.services.request_store import RequestChanged
from immtrax_portal.services.staff_notes import NOTE_MAX, add_note
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded

CONFIRM_ID = "action-confirm-heading"
SUBMIT_ID = "action-submit"
PROBLEM_ID = "request-problem"
DONE_ID = "request-done"
NOTE_SUMMARY_ID = "note-error-summary"

WHOLE_SHEET = "The whole worksheet"


class RequestDetailState(LiveUpdates, SessionState):
    number: str = ""
    fields: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    emails: list[dict[str, str]] = []
    actions: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    withheld: str = ""
    # Program staff only (the server fills these for staff alone): who works the request, the
    # provisioning worksheet and the program's clock.
    owner: str = ""
    covering_for: str = ""
    may_assign: bool = False
    may_take: bool = False
    staff_choices: list[dict[str, str]] = []
    assign_problem: str = ""
    assign_message: str = ""
    assign_form_key: int = 0
    worksheet: list[dict[str, str]] = []
    worksheet_text: str = ""
    copied_message: str = ""
    clock: str = ""
    note_problem: str = ""
    note_message: str = ""
    note_form_key: int = 0
    chosen: str = ""
    # A refused action's message at its field ({"text": ...} or {"credentials_sent": ...}).
    action_errors: dict[str, str] = {}
    problem: str = ""
    done_message: str = ""
    # The chosen action's form: its field errors, what was typed (kept after an error), and the
    # question asked before a decision that cannot be undone.
    action_errors: dict[str, str] = {}
    action_text: str = ""
    action_username: str = ""
    action_revision: int = 0
    confirm_title: str = ""
    confirm_body: str = ""
    confirm_yes: str = ""
    confirm_no: str = ""
    _pending: dict = {}
    _request_id: int = 0
    _seen_version: int = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    @rx.var
    def note_errors(self) -> dict[str, str]:
        return {"note": self.note_problem} if self.note_problem else {}

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.REQUEST_VIEW, page=True)
    def load(self, actor: Actor):
        self.number = self.router.url.query_parameters.get("number", "")[:20]
        self.chosen, self.problem, self.done_message, self.action_errors = "", "", "", {}
        self.note_problem, self.note_message = "", ""
        self.action_errors, self._pending, self.confirm_title, self.confirm_body = {}, {}, "", ""
        self.assign_problem, self.assign_message, self.copied_message = "", "", ""
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
            self.chosen, self._pending, self.confirm_title, self.confirm_body = "", {}, "", ""
            self.problem = ("This request changed while you were looking at it (see its history "
                            "below). Check the new state before you act.")

    def _show(self, actor: Actor) -> None:
        try:
            detail = request_detail(actor, self.number)
        except NotAllowed:
            self.fields, self.timeline, self.emails, self.actions, self.notes = [], [], [], [], []
            self.withheld = ""
            self._show_staff_view(None)
            self._request_id, self._seen_version = 0, 0
            raise
        self._request_id, self._seen_version = detail.id, detail.version
        self.fields, self.timeline, self.emails = detail.fields, detail.timeline, detail.emails
        self.actions, self.notes, self.withheld = detail.actions, detail.notes, detail.withheld
        self._show_staff_view(detail)
        if detail.may_assign and not self.staff_choices:
            self.staff_choices = [{"value": str(i), "label": f"{name} (me)" if i == actor.person_id else name}
                                  for i, name in queue_owner.staff_choices(actor)]

    def _show_staff_view(self, detail) -> None:
        self.owner = detail.owner if detail else ""
        self.covering_for = detail.covering_for if detail else ""
        self.may_assign, self.may_take = (detail.may_assign, detail.may_take) if detail else (False, False)
        self.worksheet = detail.worksheet if detail else []
        self.worksheet_text = detail.worksheet_text if detail else ""
        self.clock = detail.clock if detail else ""
        if not self.may_assign:
            self.staff_choices = []

    @rx.event
    def choose(self, action: str):
        self.chosen = action if any(a["action"] == action for a in self.actions) else ""
        self.problem, self.action_errors, self._pending = "", {}, {}
        self.confirm_title = self.confirm_body = ""
        self.action_text, self.action_username = "", ""
        self.action_revision += 1

    def _given(self, form: dict) -> tuple[ActionInput, bool]:
        action = Action(str(form.get("action", "")))
        given = ActionInput(action=action, expected_version=self._seen_version,
                            reason=str(form.get("text", ""))[:TEXT_MAX + 1000],
                            immtrax_username=str(form.get("username", ""))[:100])
        return given, str(form.get("credentials_sent", "")).lower() in ("on", "true", "1")

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.REQUEST_ACT)
    def submit_action(self, actor: Actor, form: dict):
        """Check the form; a decision that cannot be undone is asked first (``confirm_action``)."""
        form = form if isinstance(form, dict) else {}
        self.problem, self.done_message = "", ""
        try:
            given, credentials_sent = self._given(form)
        except ValueError:  # not an Action at all
            self.problem = "Choose one of the actions shown."
            return None
        self.action_text, self.action_username = given.reason, given.immtrax_username
        try:
            check_action(actor, self._request_id, given, credentials_sent=credentials_sent)
        except ActionInvalid as invalid:
            self.action_errors = invalid.problems
            self.action_revision += 1
            return focus_error_summary()
        self.action_errors = {}
        confirmation = confirmation_for(self.fields, given)
        if confirmation is None:
            return self._act(actor, given, credentials_sent)
        self._pending = {"action": given.action.value, "text": given.reason,
                         "username": given.immtrax_username, "credentials_sent": credentials_sent,
                         "version": self._seen_version}
        self.confirm_title, self.confirm_body = confirmation.title, confirmation.body
        self.confirm_yes, self.confirm_no = confirmation.yes, confirmation.no
        return focus_element(CONFIRM_ID)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.REQUEST_ACT)
    def confirm_action(self, actor: Actor):
        """Take the decision the person just confirmed, exactly as it was asked."""
        pending, self._pending = self._pending, {}
        self.confirm_title = self.confirm_body = ""
        if not pending:
            self.problem = "There is nothing to confirm. Choose an action first."
            return None
        given = ActionInput(action=Action(pending["action"]), expected_version=pending["version"],
                            reason=pending["text"], immtrax_username=pending["username"])
        return self._act(actor, given, pending["credentials_sent"])

    @rx.event
    def keep_editing(self):
        """"No": nothing happens; focus goes back to the form's button."""
        self._pending = {}
        self.confirm_title = self.confirm_body = ""
        return focus_element(SUBMIT_ID)

    def _act(self, actor: Actor, given: ActionInput, credentials_sent: bool):
        try:
            take_action(actor, self._request_id, given, source_ip=self._client_ip(),
                        credentials_sent=credentials_sent)
        except ActionInvalid as invalid:
            self.action_errors = invalid.problems
            self.action_revision += 1
            return focus_error_summary()
        except RequestChanged as refused:
            self.problem = str(refused)
            self._show(actor)
            return focus_element(PROBLEM_ID)
        except IllegalTransition:
            self._show(actor)
            status = next((f["value"] for f in self.fields if f["label"] == "Status"), "")
            self.problem = (f"That is no longer possible: the request is now {status.lower()}. "
                            "Its history below says what changed.")
            return focus_element(PROBLEM_ID)
        self.chosen, self.problem, self.action_errors = "", "", {}
        self.action_text, self.action_username = "", ""
        self.done_message = ("Done. The request and its history below are up to date. "
                             + DONE_TEXT.get(given.action, "")).strip()
        self._show(actor)
        return focus_element(DONE_ID)

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
            return focus_element(NOTE_SUMMARY_ID)
        self.note_message = "Note saved. Only program staff can see it."
        self.note_form_key += 1
        self._show(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.REQUEST_ASSIGN, show="assign_problem")
    def assign_to_me(self, actor: Actor):
        """"Assign to me": the caller becomes the request's owner (the rulebook re-checks it)."""
        self.assign_problem, self.assign_message = "", ""
        outcome = queue_owner.assign(actor, self.number, actor.person_id, source_ip=self._client_ip())
        self.assign_message = f"This request is now {outcome.message}."
        self._show(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.REQUEST_ASSIGN, show="assign_problem")
    def reassign(self, actor: Actor, form: dict):
        """Give the request to a colleague, with a note saying why (kept in the staff history)."""
        self.assign_problem, self.assign_message = "", ""
        form = form if isinstance(form, dict) else {}
        raw = str(form.get("assignee", ""))[:12]
        if not (raw.isascii() and raw.isdigit()):
            self.assign_problem = "Choose the member of staff who will work on this request."
            return
        outcome = queue_owner.assign(actor, self.number, int(raw), str(form.get("note", ""))[:500],
                                     source_ip=self._client_ip())
        self.assign_message = f"This request is now {outcome.message}."
        self.assign_form_key += 1
        self._show(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.REQUEST_COPY_WORKSHEET)
    def note_copied(self, actor: Actor, what: str):
        """The browser copied a worksheet field (or the whole sheet): say so, politely."""
        labels = {f["label"] for f in self.worksheet} | {WHOLE_SHEET}
        what = str(what)[:120]
        shown = what[:1].lower() + what[1:] if what == WHOLE_SHEET else what
        self.copied_message = f"Copied {shown}." if what in labels else ""
