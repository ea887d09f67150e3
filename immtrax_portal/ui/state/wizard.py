"""The supervisor request wizard's state: reads input, calls ``services.wizard``, shows the result.

Every handler re-derives the caller from the session cookie (``_caller``) and re-checks that they
supervise the organization in the draft, because any client can call any handler with any
arguments. The draft lives on the server (``services.drafts``) keyed by the caller, so a reload,
a restart or another person in the same tab never shows one supervisor's draft to another. The
idempotency key of the submission is backend-only and kept in the draft. The rules (which answers
a step needs, where the supervisor may go, what the registry says) are in ``services.wizard``.
"""

from __future__ import annotations

import logging
import secrets

import reflex as rx

from immtrax_portal.db import is_database_unavailable
from immtrax_portal.domain.enums import AccessLevel, DeletionReason, RequestType
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_supervisor, require_supervisor_of
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import drafts, roster
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.requests import SubmissionRefused, next_steps, submit_request
from immtrax_portal.services.wizard import registry, steps
from immtrax_portal.services.wizard.answers import NAMES, QUESTIONS, TYPED, Answers, accepts, bounded, resumed
from immtrax_portal.services.wizard.registry import RegistryAdvice
from immtrax_portal.services.wizard.steps import LAST_STEP, REGISTRY, REVIEW_STEP, recommended_level
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.outage import database_unavailable_text
from immtrax_portal.ui.state.browser_gate import BrowserGateState

logger = logging.getLogger(__name__)

HEADING_ID = "wizard-step-heading"


def _label_of(enum_cls, value: str) -> str:
    return enum_cls(value).label if value in {m.value for m in enum_cls} else ""


class WizardState(BrowserGateState):
    loaded: bool = False
    form_revision: int = 0
    step: int = 1
    organizations: list[dict[str, str]] = []
    # The answers (services.wizard.answers.Answers holds their limits; a test keeps the two alike).
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
    note: str = ""
    q_inventory: str = ""
    q_records: str = ""
    q_lookup: str = ""
    # What is shown about them.
    subject_name: str = ""
    subject_email: str = ""
    subject_level: str = ""
    roster_query: str = ""
    roster_matches: list[dict[str, str]] = []
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
    _owner_id: int = 0
    _idempotency_key: str = ""

    # --- Display -------------------------------------------------------------------------------

    @rx.var
    def is_roster_type(self) -> bool:
        return self.request_type in registry.ROSTER_TYPES

    @rx.var
    def is_deletion(self) -> bool:
        return self.request_type == RequestType.ACCESS_DELETION.value

    @rx.var
    def type_label(self) -> str:
        return _label_of(RequestType, self.request_type)

    @rx.var
    def organization_name(self) -> str:
        return next((o["name"] for o in self.organizations if o["id"] == self.organization_id), "")

    @rx.var
    def has_several_organizations(self) -> bool:
        return len(self.organizations) > 1

    @rx.var
    def access_level_label(self) -> str:
        return _label_of(AccessLevel, self.access_level)

    @rx.var
    def subject_level_label(self) -> str:
        return _label_of(AccessLevel, self.subject_level)

    @rx.var
    def deletion_reason_label(self) -> str:
        return _label_of(DeletionReason, self.deletion_reason)

    @rx.var
    def recommended(self) -> str:
        return recommended_level(self.q_inventory, self.q_records, self.q_lookup)

    @rx.var
    def recommended_label(self) -> str:
        return _label_of(AccessLevel, self.recommended)

    @rx.var
    def advice_type_label(self) -> str:
        return _label_of(RequestType, self.advice_type)

    @rx.var
    def advice_request_link(self) -> str:
        return routes.request_url(self.advice_request_number) if self.advice_request_number else ""

    @rx.var
    def submitted_link(self) -> str:
        return routes.request_url(self.submitted_number) if self.submitted_number else ""

    @rx.var
    def third_step_title(self) -> str:
        return steps.step_title(3, self.request_type)

    @rx.var
    def step_heading(self) -> str:
        return steps.step_title(self.step, self.request_type)

    # --- Who is calling ------------------------------------------------------------------------

    def _caller(self, action: str) -> Actor | None:
        """The signed-in supervisor, re-read from the cookie; None (with a message) otherwise.

        A different person than the one whose draft is on screen gets their own draft instead,
        and the event that came in is ignored.
        """
        self.notice = ""
        try:
            actor = self._require_allowed(action, require_supervisor)
        except NotAllowed as refused:
            self.notice = str(refused)
            return None
        if actor.person_id != self._owner_id:
            self._load_for(actor)
            return None
        if self.organization_id and not self._allowed(actor, action, self.organization_id):
            self._forget_organization()
            self.notice = "You are no longer registered as a supervisor of that organization."
            return None
        return actor

    def _allowed(self, actor: Actor, action: str, organization_id: str) -> bool:
        """Whether ``actor`` supervises the organization; a refusal is recorded and shown."""
        try:
            require_supervisor_of(actor, record_id(organization_id))
        except NotAllowed as refused:
            self._deny(actor, action, str(refused), organization_id=str(organization_id)[:12])
            self.notice = str(refused)
            return False
        return True

    # --- The answers and the draft -------------------------------------------------------------

    def _answers(self) -> Answers:
        return Answers(**{name: getattr(self, name) for name in NAMES})

    def _show_answers(self, answers: Answers) -> None:
        for name, value in answers.as_dict().items():
            setattr(self, name, value)

    def _save(self, actor: Actor) -> None:
        drafts.save_draft(actor.person_id, {**self._answers().as_dict(), "step": str(self.step),
                                            "idempotency_key": self._idempotency_key})

    def _reset(self) -> None:
        self._show_answers(Answers())
        self._forget_subject()
        self._show_advice(None)
        self.step, self._idempotency_key, self.roster_query, self.errors = 1, "", "", {}
        self.confirm_cancel = self.submitting = self.return_to_review = False
        self.submitted_number, self.submitted_summary, self.submitted_steps = "", "", []

    def _load_for(self, actor: Actor) -> None:
        """Show ``actor``'s own saved draft (or a fresh one), checked against today's registry."""
        self._reset()
        self._owner_id = actor.person_id
        self.organizations = [{"id": str(org_id), "name": name}
                              for org_id, name in roster.organization_choices(actor.supervised_org_ids)]
        saved = drafts.load_draft(actor.person_id)
        self._show_answers(resumed(saved, [o["id"] for o in self.organizations]))
        self._pick_subject(actor, self.subject_person_id)
        self._idempotency_key = saved.get("idempotency_key", "")
        self.step = steps.reachable_step(self._answers(), record_id(saved.get("step", "")) or 1,
                                         self.subject_level, lambda: self._registry_problems(actor))
        self.errors, self.loaded = {}, True
        self.form_revision += 1

    def _forget_organization(self) -> None:
        self.organization_id = ""
        self._forget_subject()
        self._show_advice(None)

    def _forget_subject(self) -> None:
        self.subject_person_id = self.subject_name = self.subject_email = self.subject_level = ""
        self.roster_matches = []

    def _show_advice(self, advice: RegistryAdvice | None) -> None:
        self.advice_message = advice.message if advice else ""
        self.advice_type = advice.suggested_type.value if advice and advice.suggested_type else ""
        self.advice_request_number = (advice.open_request_number or "") if advice else ""

    def _registry_problems(self, actor: Actor) -> dict[str, str]:
        draft = self._answers().request_draft()
        check = registry.check_person(actor, draft, source_ip=self._client_ip()) if draft else None
        self._show_advice(check.advice if check else None)
        return check.problems if check else {}

    def _recheck(self, name: str) -> None:
        self.errors = steps.rechecked(self.errors, self._answers(), name, self.subject_level)

    def _pick_subject(self, actor: Actor, person_id: object) -> bool:
        entry = registry.pickable_user(actor, record_id(self.organization_id), record_id(person_id))
        if entry is None:
            self._forget_subject()
            return False
        self.subject_person_id, self.subject_name = str(entry.person_id), entry.full_name
        self.subject_email, self.subject_level = entry.email, entry.access_level
        return True

    def _search(self, actor: Actor, query: str) -> None:
        self.roster_query = query[: roster.MAX_QUERY_LENGTH]
        self.roster_matches = [
            {"person_id": str(m.person_id), "full_name": m.full_name, "email": m.email,
             "level": m.access_level_label}
            for m in registry.pickable_users(actor, record_id(self.organization_id), self.roster_query)]

    def _list_roster_if_choosing(self, actor: Actor) -> None:
        if self.step == 2 and self.request_type in registry.ROSTER_TYPES and not self.roster_matches:
            self._search(actor, "")

    def _set_answer(self, action: str, name: str, value: object) -> bool:
        """Take one chosen answer if it is one of its options, re-check it and save the draft."""
        actor = self._caller(action)
        if actor is None or not accepts(name, value):
            return False
        setattr(self, name, value)
        self._recheck(name)
        self._save(actor)
        return True

    # --- Page load -------------------------------------------------------------------------------

    @rx.event
    def open_wizard(self):
        """on_load: supervisors only; shows the caller's own draft, saved or fresh."""
        guarded = self._guard("supervisor")
        if not isinstance(guarded, Actor):
            return guarded
        self._load_for(guarded)
        self._start_from_roster(guarded)
        self._list_roster_if_choosing(guarded)
        return None

    def _start_from_roster(self, actor: Actor) -> None:
        """The dashboard roster's "Change level" / "Remove access" link; anything but such a request
        for one of the caller's current users leaves the wizard as it was, and a draft that already
        is this request is kept as it is, so reloading the page loses nothing."""
        params = self.router.url.query_parameters
        wanted = [str(params.get(key, ""))[:32] for key in ("type", "org", "person")]
        try:
            start = registry.roster_prefill(actor, *wanted)
        except NotAllowed as refused:
            self._deny(actor, "wizard.start_from_roster", str(refused), organization_id=wanted[1][:12])
            return
        chosen = (self.request_type, self.organization_id, self.subject_person_id)
        if start and (start.request_type, start.organization_id, start.subject_person_id) != chosen:
            drafts.save_draft(actor.person_id, {**start.as_dict(), "step": "3"})
            self._load_for(actor)

    # --- Steps 1 to 3 ----------------------------------------------------------------------------

    @rx.event
    def choose_organization(self, organization_id: str):
        actor = self._caller("wizard.choose_organization")
        if actor is None or not record_id(organization_id):
            return
        chosen = str(record_id(organization_id))
        if not self._allowed(actor, "wizard.choose_organization", chosen):
            return
        if chosen != self.organization_id:
            self._forget_organization()
            self.organization_id = chosen
        self._recheck("organization_id")
        self._save(actor)

    @rx.event
    def choose_type(self, request_type: str):
        if self._set_answer("wizard.choose_type", "request_type", request_type):
            self._show_advice(None)

    @rx.event
    def set_field(self, name: str, value: str):
        """The one setter for typed answers: known fields only, strings only, bounded length."""
        actor = self._caller("wizard.set_field")
        if actor is None or name not in TYPED or not isinstance(value, str):
            return
        setattr(self, name, bounded(name, value))
        if name == "email":
            self._show_advice(None)
            self.errors = {k: v for k, v in self.errors.items() if k != REGISTRY}
        self._recheck(name)
        self._save(actor)

    @rx.event
    def search_people(self, query: str):
        actor = self._caller("wizard.search_people")
        if actor is not None and isinstance(query, str) and self.organization_id:
            self._search(actor, query)

    @rx.event
    def search_form(self, form_data: dict):
        """The search box's Enter / Search button: the form data holds the query."""
        actor = self._caller("wizard.search_people")
        query = form_data.get("roster_query", "") if isinstance(form_data, dict) else ""
        if actor is not None and isinstance(query, str) and self.organization_id:
            self._search(actor, query)

    @rx.event
    def choose_person(self, person_id: str):
        actor = self._caller("wizard.choose_person")
        if actor is None or not record_id(person_id):
            return
        if not self._pick_subject(actor, person_id):
            # The page only offers the organization's roster without the supervisor: anything else
            # is a forged pick (yourself, another organization's user) and is recorded as such.
            self._deny(actor, "wizard.choose_person", "not on the organization's roster, or themselves",
                       organization_id=self.organization_id, person_id=str(person_id)[:12])
            self.errors = {**self.errors, "subject_person_id": "Choose someone from your organization's "
                                                               "current users (not yourself)."}
            return
        self._show_advice(None)
        self.errors = {k: v for k, v in self.errors.items() if k not in ("subject_person_id", REGISTRY)}
        self._save(actor)

    @rx.event
    def switch_type(self, request_type: str):
        """One click on the registry's advice: take the suggested type and carry on."""
        actor = self._caller("wizard.switch_type")
        if actor is None or not request_type or request_type != self.advice_type:
            return None
        self.request_type = request_type
        self._show_advice(None)
        if request_type in registry.ROSTER_TYPES:
            self._search(actor, self.email)
            email = self.email.strip().lower()
            if match := next((m for m in self.roster_matches if m["email"] == email), None):
                self._pick_subject(actor, match["person_id"])
        self.errors = {}
        self.form_revision += 1
        self._save(actor)
        return WizardState.continue_step({})

    @rx.event
    def choose_level(self, level: str):
        self._set_answer("wizard.choose_level", "access_level", level)

    @rx.event
    def answer_question(self, question: str, answer: str):
        self._set_answer("wizard.answer_question", question if question in QUESTIONS else "", answer)

    @rx.event
    def use_recommended_level(self):
        level = recommended_level(self.q_inventory, self.q_records, self.q_lookup)
        if self._set_answer("wizard.use_recommended_level", "access_level", level):
            self.form_revision += 1

    @rx.event
    def choose_deletion_reason(self, reason: str):
        self._set_answer("wizard.choose_deletion_reason", "deletion_reason", reason)

    # --- Moving between steps --------------------------------------------------------------------

    @rx.event
    def continue_step(self, form_data: dict):
        """Check this step on the server; on success move on, else show what to fix."""
        actor = self._caller("wizard.continue")
        if actor is None or self.step >= REVIEW_STEP:
            return None
        self._show_answers(self._answers().with_typed(form_data))
        problems = steps.step_problems(self._answers(), self.step, self.subject_level)
        if not problems and self.step == 2:
            problems = self._registry_problems(actor)
        self.errors = problems
        if problems:
            self._save(actor)
            return focus_error_summary()
        self.step = steps.step_after(self._answers(), self.step, self.subject_level, self.return_to_review)
        if self.step == REVIEW_STEP:
            self.return_to_review = False
            self._idempotency_key = self._idempotency_key or secrets.token_urlsafe(24)
        self._list_roster_if_choosing(actor)
        self._save(actor)
        return focus_element(HEADING_ID)

    @rx.event
    def go_back(self):
        actor = self._caller("wizard.back")
        if actor is None or not 1 < self.step < LAST_STEP:
            return None
        self.step, self.errors = self.step - 1, {}
        self._save(actor)
        return focus_element(HEADING_ID)

    @rx.event
    def edit_step(self, step: int):
        actor = self._caller("wizard.edit")
        if actor is None or self.step != REVIEW_STEP or step not in (1, 2, 3):
            return None
        self.step, self.return_to_review, self.errors = step, True, {}
        if step == 2 and self.request_type in registry.ROSTER_TYPES:
            self._search(actor, self.roster_query)
        self._save(actor)
        return focus_element(HEADING_ID)

    # --- Submit and cancel -----------------------------------------------------------------------

    @rx.event
    def submit(self):
        """Submit once: the key from the draft makes a double click or a resent event harmless."""
        actor = self._caller("wizard.submit")
        if actor is None or self.step != REVIEW_STEP or self.submitting:
            return
        draft = self._answers().request_draft()
        if draft is None:
            self.step = 1
            return
        try:
            check_rate("submit_request", person_id=actor.person_id, ip=self._client_ip(),
                       actor_role=actor.role)
        except RateLimited as limited:  # already an audit denial; the draft stays as it is
            self.notice = str(limited)
            yield focus_element(HEADING_ID)
            return
        if not self._idempotency_key:
            self._idempotency_key = secrets.token_urlsafe(24)
            self._save(actor)
        self.submitting = True
        yield
        try:
            request = submit_request(actor.person_id, draft, self._idempotency_key,
                                     source_ip=self._client_ip())
        except SubmissionRefused as refused:
            self.submitting = False
            yield self._show_refusal(refused)
            return
        except NotAllowed as refused:
            self.submitting = False
            self._deny(actor, "wizard.submit", str(refused), organization_id=self.organization_id)
            self.notice = str(refused)
            return
        except Exception as failure:
            # Nothing was committed (one transaction); the draft and its key are kept, so trying
            # again is safe and cannot make a second request.
            logger.exception("wizard submit failed for person %s", actor.person_id)
            self.submitting = False
            self.notice = database_unavailable_text() if is_database_unavailable(failure) else (
                "Your request could not be submitted just now. Nothing was sent and your "
                "answers are saved: try again in a moment.")
            return
        drafts.discard_draft(actor.person_id)
        person = self.subject_name or f"{self.first_name} {self.last_name}".strip()
        summary = f"{self.type_label} for {person} at {self.organization_name}."
        self._reset()
        self.submitted_number, self.submitted_summary = request.number, summary
        self.submitted_steps = [s.split(". ", 1)[-1] for s in next_steps(request.request_type)]
        self.step = LAST_STEP
        yield focus_element(HEADING_ID)

    def _show_refusal(self, refused: SubmissionRefused):
        if refused.advice:
            self.step = 2
            self._show_advice(refused.advice)
            self.errors = {REGISTRY: refused.message}
        elif refused.problems:
            self.step, self.errors = steps.step_of_problems(refused.problems), dict(refused.problems)
        else:
            self.notice = refused.message
            return focus_element(HEADING_ID)
        return focus_error_summary()

    @rx.event
    def ask_to_cancel(self):
        if self._caller("wizard.ask_to_cancel") is not None:
            self.confirm_cancel = True
            return focus_element("cancel-confirm")
        return None

    @rx.event
    def keep_editing(self):
        if self._caller("wizard.keep_editing") is not None:
            self.confirm_cancel = False

    @rx.event
    def cancel_request(self):
        actor = self._caller("wizard.cancel")
        if actor is None:
            return None
        drafts.cancel_draft(actor.person_id, actor_role=actor.role, source_ip=self._client_ip())
        self._load_for(actor)
        self.notice = "Your draft was discarded. Nothing was sent."
        return focus_element(HEADING_ID)

    @rx.event
    def start_over(self):
        actor = self._caller("wizard.start_over")
        if actor is not None:
            self._load_for(actor)
            return focus_element(HEADING_ID)
        return None
