"""The supervisor request wizard's state: reads input, calls ``services.wizard``, shows the result.

Every handler declares its rule (``@guarded``: the caller re-derived from the session cookie, a
refusal recorded once and shown in ``notice``) and lets a ``services.wizard.flow.Wizard`` of that
caller make the move, because any client can call any handler with any arguments. The draft
lives on the server (``services.drafts``) keyed by the caller, so a reload, a restart or another
person in the same tab never shows one supervisor's draft to another. The idempotency key of the
submission is backend-only and kept in the draft.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import partial

import reflex as rx

from immtrax_portal.db import is_database_unavailable
from immtrax_portal.domain.audit_actions import AuditAction as A
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.domain.validation import parse_date
from immtrax_portal.services import access_ends, drafts
from immtrax_portal.services.requests import SubmissionRefused, submit_request
from immtrax_portal.services.wizard import flow
from immtrax_portal.services.wizard.answers import NAMES, QUESTIONS, Answers
from immtrax_portal.services.wizard.steps import recommended_level
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.outage import database_unavailable_text
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.session import guarded

logger = logging.getLogger(__name__)

# A tab's state can outlive the process that last wrote it: the embedded mode's state file is
# written a couple of seconds behind (a killed server leaves it that far behind the database), and
# with Redis the next event may reach another instance. Only this process's own record of what the
# tab shows may skip a page load's read of the draft.
THIS_PROCESS = secrets.token_hex(8)

HEADING_ID = "wizard-step-heading"
NOTICE_ID = "wizard-notice"
__all__ = ["HEADING_ID", "NOTICE_ID", "QUESTIONS", "WizardState", "recommended_level"]
WELCOME_BACK = ("Welcome back. You were signed out after a while without activity; your request was "
                "kept as you left it, so you can carry on where you stopped.")


def step_address(step: int) -> str:
    """The wizard's address for one step: each step has its own, so the browser's Back button
    goes to the step before."""
    return f"{routes.WIZARD}?step={int(step)}"


def _focus(where: str) -> rx.event.EventSpec | None:
    """The event that moves the keyboard focus where the move said (see ``flow``)."""
    if where == flow.ERRORS:
        return focus_error_summary()
    return focus_element(HEADING_ID if where == flow.HEADING else where) if where else None


class WizardState(BrowserGateState):
    loaded: bool = False
    form_revision: int = 0
    step: int = 1
    organizations: list[dict[str, str]] = []
    # The answers (one var each of services.wizard.answers.Answers; a test keeps the two alike).
    organization_id: str = ""
    request_type: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    start_date: str = ""
    subject_person_id: str = ""
    access_level: str = ""
    deletion_reason: str = ""
    last_day: str = ""
    access_ends_on: str = ""
    note: str = ""
    q_inventory: str = ""
    q_records: str = ""
    q_lookup: str = ""
    colleague_person_id: str = ""
    # What the page shows about them (services.wizard.flow.View).
    subject_name: str = ""
    subject_email: str = ""
    subject_level: str = ""
    roster_query: str = ""
    roster_matches: list[dict[str, str]] = []
    colleague_name: str = ""
    colleague_level: str = ""
    colleague_query: str = ""
    colleague_matches: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    advice_message: str = ""
    advice_type: str = ""
    advice_request_number: str = ""
    notice: str = ""
    confirm_cancel: bool = False
    submitting: bool = False
    return_to_review: bool = False
    submitted_number: str = ""
    submitted_summary: str = ""
    submitted_steps: list[str] = []
    submitted_type: str = ""
    _owner_id: int = 0
    _idempotency_key: str = ""
    _draft_id: int = 0
    _draft_version: int = 0
    # Steps whose address this tab's own moves put in the address bar, oldest first, whose on_load
    # has not come yet (it skips). A list, not the last one: a click can reach the server before
    # the on_load of the move before it, and that late on_load must not undo the click's move.
    _address_steps: list[int] = []
    _shown_by: str = ""   # the process (THIS_PROCESS) that last showed this tab its draft

    # Derived from the above (services.wizard.flow.derived), set with every change.
    is_roster_type: bool = False
    is_deletion: bool = False
    type_label: str = ""
    organization_name: str = ""
    has_several_organizations: bool = False
    access_level_label: str = ""
    subject_level_label: str = ""
    deletion_reason_label: str = ""
    recommended: str = ""
    recommended_label: str = ""
    colleague_level_label: str = ""
    colleague_note: str = ""
    advice_type_label: str = ""
    start_date_label: str = ""
    last_day_label: str = ""
    phone_label: str = ""
    third_step_title: str = "Access level"
    step_heading: str = "Organization and request type"

    @rx.var
    def advice_request_link(self) -> str:
        return routes.request_url(self.advice_request_number) if self.advice_request_number else ""

    @rx.var
    def deletion_waits(self) -> bool:
        """An Access Deletion whose last day is still ahead: access stays until that day ends."""
        return self.is_deletion and access_ends.is_ahead(parse_date(self.last_day))

    @rx.var
    def submitted_link(self) -> str:
        return routes.request_url(self.submitted_number) if self.submitted_number else ""

    # --- The caller's wizard -------------------------------------------------------------------

    def _view(self) -> flow.View:
        return flow.View(answers=Answers(**{name: getattr(self, name) for name in NAMES}),
                         idempotency_key=self._idempotency_key, draft_id=self._draft_id,
                         draft_version=self._draft_version,
                         **{name: getattr(self, name) for name in flow.SHOWN})

    def _show(self, wizard: flow.Wizard, focus: str = flow.STAY) -> rx.event.EventSpec | None:
        for name, value in wizard.view.answers.as_dict().items():
            setattr(self, name, value)
        for name in flow.SHOWN:
            setattr(self, name, getattr(wizard.view, name))
        for name, value in flow.derived(wizard.view).items():
            setattr(self, name, value)
        self._idempotency_key, self._owner_id = wizard.view.idempotency_key, wizard.actor.person_id
        self._draft_id, self._draft_version = wizard.view.draft_id, wizard.view.draft_version
        self._shown_by = THIS_PROCESS
        return _focus(NOTICE_ID if wizard.overtaken else focus)

    def _follow(self, wizard: flow.Wizard, focus: str, step_before: int) -> list:
        """Show the move's result; a move to another step also gives the page that step's address
        (a new history entry), so the browser's Back button goes to the step before."""
        events = []
        step = wizard.view.step
        if step != step_before and 1 <= step < flow.LAST_STEP:
            self._expect_address(step)
            events.append(rx.redirect(step_address(step)))
        events.append(self._show(wizard, focus))
        return [event for event in events if event is not None]

    def _expect_address(self, step: int) -> None:
        if self._shown_by != THIS_PROCESS:
            self._address_steps = []
        self._address_steps = [*self._address_steps[-3:], step]

    def _shows_already(self, actor: Actor, wanted: int, params: dict) -> bool:
        """Whether a page load has nothing to show that the tab does not: its address names the
        step this process last showed this caller, put there by the tab's own move (its on_load, or
        a late one that a later move overtook) or loaded again while the stored draft is still the
        one shown (the same address arriving twice must not undo what happened in between). An
        address of the tab's own move is taken off its list, with the older ones it overtook."""
        if not (self.loaded and wanted and actor.person_id == self._owner_id
                and self._shown_by == THIS_PROCESS and "resumed" not in params):
            return False
        if wanted in self._address_steps:
            del self._address_steps[:self._address_steps.index(wanted) + 1]
            return True
        if wanted != self.step or len(params) > 1:
            return False
        stored = drafts.read_draft(actor.person_id)
        return (stored.draft_id, stored.version) == (self._draft_id, self._draft_version)

    def _wizard_of(self, actor: Actor) -> flow.Wizard:
        return flow.Wizard(actor, self._view(), deny=partial(self._deny, actor), source_ip=self._client_ip())

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        """The guard refused the caller: the page's notice says why."""
        self.notice = message

    def _wizard_for(self, actor: Actor, action: A) -> flow.Wizard | None:
        """The caller's wizard, ready for one move; None when the event is to be ignored.

        A different person than the one whose draft is on screen gets their own draft instead,
        and a supervisor no longer registered for the draft's organization a draft without it.
        """
        self.notice = ""
        wizard = self._wizard_of(actor)
        if actor.person_id != self._owner_id:
            wizard.load()
        elif wizard.keeps_organization(action):
            return wizard
        self._show(wizard)
        return None

    def _move(self, actor: Actor, action: A, move: Callable[[flow.Wizard], str]):
        """Let the caller's wizard make one move and show the result."""
        wizard = self._wizard_for(actor, action)
        if wizard is None:
            return None
        step_before = self.step
        return self._follow(wizard, move(wizard), step_before)

    # --- Page load -------------------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_OPEN, page=True)
    def open_wizard(self, actor: Actor):
        """on_load: supervisors only; shows the caller's own draft, saved or fresh, or the request
        the dashboard roster's "Change level" / "Remove access" link (``?type=&org=&person=``) names."""
        params = self.router.url.query_parameters
        wanted = record_id(str(params.get("step", ""))[:2])
        if self._shows_already(actor, wanted, params):
            return None
        self._address_steps = []
        wizard = self._wizard_of(actor)
        wizard.load()
        roster_start = tuple(str(params.get(key, ""))[:32] for key in ("type", "org", "person"))
        wizard.start_from_roster(*roster_start)
        if wanted and not any(roster_start):
            wizard.go_to(wanted)
        wizard.list_roster_if_choosing()
        if params.get("resumed") == "1":
            wizard.view.notice = WELCOME_BACK
        focus = self._show(wizard)
        if wizard.view.step < flow.LAST_STEP and (wanted != wizard.view.step or len(params) > 1):
            # The address always names the step shown (and carries nothing else once used).
            self._expect_address(wizard.view.step)
            return [event for event in (rx.redirect(step_address(wizard.view.step), replace=True), focus)
                    if event is not None]
        return focus

    # --- Steps 1 to 3 ----------------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_ORGANIZATION)
    def choose_organization(self, actor: Actor, organization_id: str):
        return self._move(actor, A.WIZARD_CHOOSE_ORGANIZATION,
                          lambda w: w.choose_organization(organization_id))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_TYPE)
    def choose_type(self, actor: Actor, request_type: str):
        return self._move(actor, A.WIZARD_CHOOSE_TYPE, lambda w: w.choose("request_type", request_type))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SET_FIELD)
    def set_field(self, actor: Actor, name: str, value: str):
        """The one setter for typed answers: known fields only, strings only, bounded length."""
        return self._move(actor, A.WIZARD_SET_FIELD, lambda w: w.set_field(name, value))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SEARCH_PEOPLE)
    def search_people(self, actor: Actor, query: str):
        return self._move(actor, A.WIZARD_SEARCH_PEOPLE, lambda w: w.search(query))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SEARCH_PEOPLE)
    def search_form(self, actor: Actor, form_data: dict):
        """The search box's Enter / Search button: the form data holds the query."""
        query = form_data.get("roster_query", "") if isinstance(form_data, dict) else ""
        return self._move(actor, A.WIZARD_SEARCH_PEOPLE, lambda w: w.search(query))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_PERSON)
    def choose_person(self, actor: Actor, person_id: str):
        return self._move(actor, A.WIZARD_CHOOSE_PERSON, lambda w: w.choose_person(person_id))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SWITCH_TYPE)
    def switch_type(self, actor: Actor, request_type: str):
        """One click on the registry's advice: take the suggested type and carry on."""
        if (wizard := self._wizard_for(actor, A.WIZARD_SWITCH_TYPE)) is None:
            return None
        carry_on = wizard.switch_type(request_type)
        self._show(wizard)
        return WizardState.continue_step({}) if carry_on else None

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_LEVEL)
    def choose_level(self, actor: Actor, level: str):
        return self._move(actor, A.WIZARD_CHOOSE_LEVEL, lambda w: w.choose("access_level", level))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_ANSWER_QUESTION)
    def answer_question(self, actor: Actor, question: str, answer: str):
        return self._move(actor, A.WIZARD_ANSWER_QUESTION, lambda w: w.answer_question(question, answer))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_USE_RECOMMENDED_LEVEL)
    def use_recommended_level(self, actor: Actor):
        return self._move(actor, A.WIZARD_USE_RECOMMENDED_LEVEL, lambda w: w.use_recommended_level())

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SEARCH_COLLEAGUES)
    def search_colleagues(self, actor: Actor, query: str):
        return self._move(actor, A.WIZARD_SEARCH_COLLEAGUES, lambda w: w.search_colleagues(query))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_COLLEAGUE)
    def choose_colleague(self, actor: Actor, person_id: str):
        """"Same level as a colleague": suggests their level; the three questions still decide."""
        return self._move(actor, A.WIZARD_CHOOSE_COLLEAGUE, lambda w: w.choose_colleague(person_id))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CHOOSE_DELETION_REASON)
    def choose_deletion_reason(self, actor: Actor, reason: str):
        return self._move(actor, A.WIZARD_CHOOSE_DELETION_REASON,
                          lambda w: w.choose("deletion_reason", reason))

    # --- Moving between steps --------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CONTINUE)
    def continue_step(self, actor: Actor, form_data: dict):
        """Check this step on the server; on success move on, else show what to fix."""
        return self._move(actor, A.WIZARD_CONTINUE, lambda w: w.continue_step(form_data))

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_BACK)
    def go_back(self, actor: Actor):
        return self._move(actor, A.WIZARD_BACK, lambda w: w.go_back())

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_EDIT)
    def edit_step(self, actor: Actor, step: int):
        return self._move(actor, A.WIZARD_EDIT, lambda w: w.edit_step(step))

    # --- Submit and cancel -----------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_SUBMIT)
    def submit(self, actor: Actor):
        """Submit once: the key from the draft makes a double click or a resent event harmless."""
        if (wizard := self._wizard_for(actor, A.WIZARD_SUBMIT)) is None:
            return
        if (draft := wizard.submission()) is None:  # not at the review step, or too many submissions
            yield self._show(wizard, flow.HEADING if wizard.view.notice else flow.STAY)
            return
        self._show(wizard)
        yield
        try:
            request = submit_request(actor.person_id, draft, wizard.view.idempotency_key,
                                     source_ip=self._client_ip())
        except (SubmissionRefused, NotAllowed) as refused:
            focus = wizard.refused(refused)
        except Exception as failure:
            logger.exception("wizard submit failed for person %s", actor.person_id)
            focus = wizard.failed(database_unavailable_text() if is_database_unavailable(failure) else "")
        else:
            focus = wizard.submitted(request)
        yield self._show(wizard, focus)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_ASK_TO_CANCEL)
    def ask_to_cancel(self, actor: Actor):
        return self._move(actor, A.WIZARD_ASK_TO_CANCEL, lambda w: w.ask_to_cancel())

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_KEEP_EDITING)
    def keep_editing(self, actor: Actor):
        return self._move(actor, A.WIZARD_KEEP_EDITING, lambda w: w.keep_editing())

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_CANCEL)
    def cancel_request(self, actor: Actor):
        return self._move(actor, A.WIZARD_CANCEL, lambda w: w.cancel())

    @rx.event
    @guarded(Rule.SUPERVISOR, A.WIZARD_START_OVER)
    def start_over(self, actor: Actor):
        return self._move(actor, A.WIZARD_START_OVER, lambda w: w.start_over())
