"""One supervisor's way through the wizard: every move they can make, and what the page then shows.

Why a plain object: the Reflex state (``ui/state/wizard.py``) only checks the caller, copies its
vars into a ``View``, calls one move on a ``Wizard`` and copies the view back. Every decision
(which answer is taken, which step comes next, what is saved, what is refused and recorded) is
made here, where it runs without Reflex. The caller given to a ``Wizard`` has been re-derived
from the session cookie for this very event; ``deny`` records a refusal of theirs in the audit log.

Moves return what should take the keyboard focus afterwards (``HEADING``, ``ERRORS``,
``CANCEL_CONFIRM`` or ``STAY``), so the page can announce the change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AccessLevel, DeletionReason, RequestType
from immtrax_portal.domain.models import AccessRequest
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_supervisor_of
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.domain.validation import parse_date, shown_phone
from immtrax_portal.program_time import calendar_day
from immtrax_portal.services import drafts, roster
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.requests import SubmissionRefused, next_steps
from immtrax_portal.services.wizard import registry, steps
from immtrax_portal.services.wizard.answers import QUESTIONS, TYPED, Answers, RequestDraft, accepts, resumed
from immtrax_portal.services.wizard.registry import RegistryAdvice
from immtrax_portal.services.wizard.steps import LAST_STEP, REGISTRY, REVIEW_STEP, recommended_level

HEADING, ERRORS, CANCEL_CONFIRM, STAY = "heading", "errors", "cancel-confirm", ""
SUBMIT_FAILED = ("Your request could not be submitted just now. Nothing was sent and your answers are "
                 "saved: try again in a moment.")
NOT_ON_ROSTER = "Choose someone from your organization's current users (not yourself)."
NEWER_DRAFT = ("This request was changed in another tab or window, so your last change here was not "
               "saved. You now see the newest version: check it, then carry on.")
DRAFT_GONE = ("This request was submitted or discarded in another tab or window. Your last change "
              "here was not saved; you can start a new request.")
Deny = Callable[..., None]  # deny(action, reason, **what_was_aimed_at)


@dataclass
class View:
    """What the wizard page shows, as plain values (the state has one var of each name, the
    answers spread into one var each, and the idempotency key backend-only)."""

    answers: Answers = field(default_factory=Answers)
    idempotency_key: str = ""
    draft_id: int = 0
    draft_version: int = 0
    step: int = 1
    loaded: bool = False
    form_revision: int = 0
    organizations: list[dict[str, str]] = field(default_factory=list)
    subject_name: str = ""
    subject_email: str = ""
    subject_level: str = ""
    roster_query: str = ""
    roster_matches: list[dict[str, str]] = field(default_factory=list)
    colleague_name: str = ""
    colleague_level: str = ""
    colleague_query: str = ""
    colleague_matches: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    advice_message: str = ""
    advice_type: str = ""
    advice_request_number: str = ""
    notice: str = ""
    confirm_cancel: bool = False
    submitting: bool = False
    return_to_review: bool = False
    submitted_number: str = ""
    submitted_summary: str = ""
    submitted_steps: list[str] = field(default_factory=list)
    # The type of the request just submitted: the confirmation's stepper names its steps.
    submitted_type: str = ""


BACKEND_ONLY = ("answers", "idempotency_key", "draft_id", "draft_version")
SHOWN = tuple(name for name in View.__dataclass_fields__ if name not in BACKEND_ONLY)


def _label_of(enum_cls, value: str) -> str:
    return enum_cls(value).label if value in {m.value for m in enum_cls} else ""


def _day_label(value: str) -> str:
    """A typed date as every page writes days ("December 1, 2026"), or as typed if it is none."""
    day = parse_date(value) if value else None
    return calendar_day(day) if day else value


def derived(view: View) -> dict[str, str | bool]:
    """What the page shows that follows from the view (labels, titles, the recommendation); the
    state has one var of each name, set with every change."""
    a = view.answers
    recommended = recommended_level(a.q_inventory, a.q_records, a.q_lookup)
    organization = next((o["name"] for o in view.organizations if o["id"] == a.organization_id), "")
    return {
        "is_roster_type": a.request_type in registry.ROSTER_TYPES,
        "is_deletion": a.request_type == RequestType.ACCESS_DELETION.value,
        "type_label": _label_of(RequestType, a.request_type),
        "organization_name": organization,
        "has_several_organizations": len(view.organizations) > 1,
        "access_level_label": _label_of(AccessLevel, a.access_level),
        "subject_level_label": _label_of(AccessLevel, view.subject_level),
        "deletion_reason_label": _label_of(DeletionReason, a.deletion_reason),
        "recommended": recommended,
        "recommended_label": _label_of(AccessLevel, recommended),
        "colleague_level_label": _label_of(AccessLevel, view.colleague_level),
        "colleague_note": steps.colleague_note(view.colleague_name, view.colleague_level, recommended),
        "advice_type_label": _label_of(RequestType, view.advice_type),
        "start_date_label": _day_label(a.start_date),
        "last_day_label": _day_label(a.last_day),
        "phone_label": shown_phone(a.phone),
        "third_step_title": steps.step_title(3, a.request_type or view.submitted_type),
        "step_heading": steps.step_title(view.step, a.request_type or view.submitted_type),
    }


class Wizard:
    """The wizard of one caller (``actor``, from the cookie of this event) over the page's ``view``.

    Each public method is one move a handler makes; it changes ``view`` (or replaces it) and says
    where the focus goes.
    """

    def __init__(self, actor: Actor, view: View, *, deny: Deny, source_ip: str = "") -> None:
        self.actor, self.view, self.deny, self.source_ip = actor, view, deny, source_ip
        # Set when another tab had changed the draft: the page then shows the newer one and says so.
        self.overtaken = False

    # --- The draft -------------------------------------------------------------------------------

    def save(self) -> bool:
        """Store the view's answers over the version this tab read; when another tab changed the
        draft meanwhile, nothing is stored and the newer draft is shown instead (False)."""
        data = {**self.view.answers.as_dict(), "step": str(self.view.step),
                "idempotency_key": self.view.idempotency_key}
        try:
            stored = drafts.save_if_unchanged(self.actor.person_id, data, draft_id=self.view.draft_id,
                                              version=self.view.draft_version)
        except drafts.DraftChanged as changed:
            self._show_newer(changed.newer)
            return False
        self.view.draft_id, self.view.draft_version = stored.draft_id, stored.version
        return True

    def unchanged_elsewhere(self) -> bool:
        """Whether the stored draft is still the version on screen; if not, the newer one is shown."""
        stored = drafts.read_draft(self.actor.person_id)
        if (stored.draft_id, stored.version) == (self.view.draft_id, self.view.draft_version):
            return True
        self._show_newer(stored)
        return False

    def _show_newer(self, newer: drafts.Draft) -> None:
        self.load(newer)
        self.view.notice = NEWER_DRAFT if newer.draft_id else DRAFT_GONE
        self.overtaken = True

    def load(self, saved: drafts.Draft | None = None) -> None:
        """Show the caller's own saved draft (or a fresh one), checked against today's registry."""
        revision = self.view.form_revision
        organizations = [{"id": str(org_id), "name": name}
                         for org_id, name in roster.organization_choices(self.actor.supervised_org_ids)]
        stored = saved if saved is not None else drafts.read_draft(self.actor.person_id)
        saved_data = stored.data
        self.view = View(answers=resumed(saved_data, [o["id"] for o in organizations]),
                         organizations=organizations, idempotency_key=saved_data.get("idempotency_key", ""),
                         draft_id=stored.draft_id, draft_version=stored.version)
        self._pick_subject(self.view.answers.subject_person_id)
        self._pick_colleague(self.view.answers.colleague_person_id)
        self.view.step = steps.reachable_step(self.view.answers, record_id(saved_data.get("step", "")) or 1,
                                              self.view.subject_level, self._registry_problems)
        self.view.errors, self.view.loaded, self.view.form_revision = {}, True, revision + 1

    def keeps_organization(self, action: AuditAction) -> bool:
        """Whether the caller still supervises the draft's organization; if not, it is forgotten."""
        chosen = self.view.answers.organization_id
        if not chosen or self._supervises(action, chosen):
            return True
        self._forget_organization()
        self.view.notice = "You are no longer registered as a supervisor of that organization."
        return False

    def start_from_roster(self, kind: str, organization: str, person: str) -> None:
        """The dashboard roster's "Change level" / "Remove access" link: used only for one of the
        caller's current users, and a draft that already is this request is kept as it is."""
        try:
            start = registry.roster_prefill(self.actor, kind, organization, person)
        except NotAllowed as refused:
            self.deny(AuditAction.WIZARD_START_FROM_ROSTER, str(refused), organization_id=organization[:12])
            return
        now = self.view.answers
        if start and (start.request_type, start.organization_id, start.subject_person_id) != (
                now.request_type, now.organization_id, now.subject_person_id):
            self.view.answers, self.view.step, self.view.idempotency_key = start, 3, ""
            if self.save():
                self.load()

    # --- Steps 1 to 3 ----------------------------------------------------------------------------

    def choose_organization(self, organization_id: object) -> str:
        if not record_id(organization_id):
            return STAY
        chosen = str(record_id(organization_id))
        if not self._supervises(AuditAction.WIZARD_CHOOSE_ORGANIZATION, chosen):
            return STAY
        if chosen != self.view.answers.organization_id:
            self._forget_organization()
            self._answer("organization_id", chosen)
        return self._checked_and_saved("organization_id")

    def choose(self, name: str, value: object) -> bool:
        """One chosen answer (type, level, reason), taken only if it is one of its options."""
        if not accepts(name, value):
            return False
        self._answer(name, str(value))
        if name == "request_type":
            self._show_advice(None)
        self._checked_and_saved(name)
        return True

    def answer_question(self, question: object, answer: object) -> str:
        self.choose(question if isinstance(question, str) and question in QUESTIONS else "", answer)
        return STAY

    def use_recommended_level(self) -> str:
        a = self.view.answers
        if self.choose("access_level", recommended_level(a.q_inventory, a.q_records, a.q_lookup)):
            self.view.form_revision += 1
        return STAY

    def set_field(self, name: object, value: object) -> str:
        """The one setter for typed answers: known fields only, strings only, bounded length."""
        if not isinstance(name, str) or name not in TYPED or not isinstance(value, str):
            return STAY
        self._answer(name, value)
        if name == "email":
            self._show_advice(None)
            self.view.errors = {k: v for k, v in self.view.errors.items() if k != REGISTRY}
        return self._checked_and_saved(name)

    def search(self, query: object) -> str:
        if isinstance(query, str) and self.view.answers.organization_id:
            self._search(query)
        return STAY

    def choose_person(self, person_id: object) -> str:
        if not record_id(person_id):
            return STAY
        if not self._pick_subject(person_id):
            # The page only offers the organization's roster without the supervisor: anything else
            # is a forged pick (yourself, another organization's user) and is recorded as such.
            self.deny(AuditAction.WIZARD_CHOOSE_PERSON, "not on the organization's roster, or themselves",
                      organization_id=self.view.answers.organization_id, person_id=str(person_id)[:12])
            self.view.errors = {**self.view.errors, "subject_person_id": NOT_ON_ROSTER}
            return STAY
        self._show_advice(None)
        self.view.errors = {k: v for k, v in self.view.errors.items()
                            if k not in ("subject_person_id", REGISTRY)}
        self.save()
        return STAY

    def search_colleagues(self, query: object) -> str:
        if isinstance(query, str) and self.view.answers.organization_id:
            self._search_colleagues(query)
        return STAY

    def choose_colleague(self, person_id: object) -> str:
        """"Same level as a colleague": a current user of the organization (not the supervisor) whose
        level is suggested; the level itself is not set (the questions decide). "" clears it."""
        if person_id == "":
            self._pick_colleague("")
            self.save()
            return STAY
        if not record_id(person_id) or not self._pick_colleague(person_id):
            self.deny(AuditAction.WIZARD_CHOOSE_COLLEAGUE, "not on the organization's roster, or themselves",
                      organization_id=self.view.answers.organization_id, person_id=str(person_id)[:12])
            return STAY
        self.view.errors = {k: v for k, v in self.view.errors.items() if k != "access_level"}
        self.save()
        return STAY

    def switch_type(self, request_type: object) -> bool:
        """One click on the registry's advice: take the suggested type (and, for a roster type, the
        user with the typed email). True when the page should continue at once."""
        if not request_type or not isinstance(request_type, str) or request_type != self.view.advice_type:
            return False
        self._answer("request_type", request_type)
        self._show_advice(None)
        if request_type in registry.ROSTER_TYPES:
            email = self.view.answers.email
            self._search(email)
            match = next((m for m in self.view.roster_matches if m["email"] == email.strip().lower()), None)
            if match:
                self._pick_subject(match["person_id"])
        self.view.errors = {}
        self.view.form_revision += 1
        self.save()
        return True

    # --- Moving between steps --------------------------------------------------------------------

    def continue_step(self, form: object) -> str:
        """Check this step (with whatever typed fields the form holds); move on, or show what to fix."""
        view = self.view
        if view.step >= REVIEW_STEP:
            return STAY
        view.answers = view.answers.with_typed(form)
        problems = steps.step_problems(view.answers, view.step, view.subject_level)
        if not problems and view.step == 2:
            problems = self._registry_problems()
        if not problems and view.step == 3:
            problems = steps.colleague_problem(view.answers, view.colleague_level)
        view.errors = problems
        if problems:
            self.save()
            return ERRORS
        view.step = steps.step_after(view.answers, view.step, view.subject_level, view.return_to_review)
        if view.step == REVIEW_STEP:
            view.return_to_review = False
            view.idempotency_key = view.idempotency_key or secrets.token_urlsafe(24)
        self.list_roster_if_choosing()
        self.save()
        return HEADING

    def go_back(self) -> str:
        if not 1 < self.view.step < LAST_STEP:
            return STAY
        self.view.step, self.view.errors = self.view.step - 1, {}
        self.list_roster_if_choosing()
        self.save()
        return HEADING

    def go_to(self, wanted: int) -> None:
        """The address names another step (the browser's Back or Forward button): show it when
        every step before it holds, else the first one that does not."""
        if not 1 <= wanted <= REVIEW_STEP or wanted == self.view.step or self.view.step >= LAST_STEP:
            return
        step = steps.reachable_step(self.view.answers, wanted, self.view.subject_level,
                                    self._registry_problems)
        if step != self.view.step:
            self.view.step, self.view.errors, self.view.return_to_review = step, {}, False
            self.list_roster_if_choosing()
            self.save()

    def edit_step(self, step: object) -> str:
        if self.view.step != REVIEW_STEP or step not in (1, 2, 3) or isinstance(step, bool):
            return STAY
        self.view.step, self.view.return_to_review, self.view.errors = int(step), True, {}  # type: ignore[arg-type]
        if step == 2 and self.view.answers.request_type in registry.ROSTER_TYPES:
            self._search(self.view.roster_query)
        self.list_roster_if_choosing()
        self.save()
        return HEADING

    def list_roster_if_choosing(self) -> None:
        """The lists a step picks from: the roster at step 2, colleagues at the level step."""
        if (self.view.step == 2 and self.view.answers.request_type in registry.ROSTER_TYPES
                and not self.view.roster_matches):
            self._search("")
        if (self.view.step == 3 and self.view.answers.request_type != RequestType.ACCESS_DELETION.value
                and not self.view.colleague_matches):
            self._search_colleagues(self.view.colleague_query)

    # --- Submit and cancel -----------------------------------------------------------------------

    def submission(self) -> RequestDraft | None:
        """The request to submit from the review step, its idempotency key kept in the draft so a
        resent submit finds the same request; None (with any reason shown) when there is none."""
        view = self.view
        if view.step != REVIEW_STEP or view.submitting:
            return None
        draft = view.answers.request_draft()
        if draft is None:
            view.step = 1
            return None
        try:
            check_rate("submit_request", person_id=self.actor.person_id, ip=self.source_ip,
                       actor_role=self.actor.role)
        except RateLimited as limited:  # already an audit denial; the draft stays as it is
            view.notice = str(limited)
            return None
        if not self.unchanged_elsewhere():
            return None
        if not view.idempotency_key:
            view.idempotency_key = secrets.token_urlsafe(24)
            if not self.save():
                return None
        view.submitting = True
        return draft

    def submitted(self, request: AccessRequest) -> str:
        drafts.discard_draft(self.actor.person_id)
        answers, view, shown = self.view.answers, self.view, derived(self.view)
        person = view.subject_name or f"{answers.first_name} {answers.last_name}".strip()
        summary = f"{shown['type_label']} for {person} at {shown['organization_name']}."
        self.view = View(organizations=view.organizations, loaded=view.loaded,
                         form_revision=view.form_revision, step=LAST_STEP,
                         submitted_number=request.number, submitted_summary=summary,
                         submitted_steps=[s.split(". ", 1)[-1]
                                          for s in next_steps(request.request_type, request.last_day)],
                         submitted_type=request.request_type.value)
        return HEADING

    def refused(self, refused: SubmissionRefused | NotAllowed) -> str:
        """The submission was refused: by the registry or the rules (shown at the step to fix), or
        because the caller may not make it (recorded)."""
        view, view.submitting = self.view, False
        if isinstance(refused, NotAllowed):
            self.deny(AuditAction.WIZARD_SUBMIT, str(refused), organization_id=view.answers.organization_id)
            view.notice = str(refused)
            return STAY
        if refused.advice:
            view.step, view.errors = 2, {REGISTRY: refused.message}
            self._show_advice(refused.advice)
        elif refused.problems:
            view.step, view.errors = steps.step_of_problems(refused.problems), dict(refused.problems)
        else:
            view.notice = str(refused)
            return HEADING
        return ERRORS

    def failed(self, message: str = "") -> str:
        """Nothing was committed (one transaction); the draft and its key are kept, so trying again
        is safe and cannot make a second request."""
        self.view.submitting, self.view.notice = False, message or SUBMIT_FAILED
        return STAY

    def ask_to_cancel(self) -> str:
        self.view.confirm_cancel = True
        return CANCEL_CONFIRM

    def keep_editing(self) -> str:
        self.view.confirm_cancel = False
        return STAY

    def cancel(self) -> str:
        try:
            drafts.cancel_draft(self.actor.person_id, actor_role=self.actor.role, source_ip=self.source_ip,
                                draft_id=self.view.draft_id, version=self.view.draft_version)
        except drafts.DraftChanged as changed:  # nothing discarded: show what the other tab made
            self._show_newer(changed.newer)
            return STAY
        self.load()
        self.view.notice = "Your draft was discarded. Nothing was sent."
        return HEADING

    def start_over(self) -> str:
        self.load()
        return HEADING

    # --- Helpers ---------------------------------------------------------------------------------

    def _answer(self, name: str, value: str) -> None:
        self.view.answers = self.view.answers.with_answer(name, value)

    def _checked_and_saved(self, name: str) -> str:
        """Once a field has shown an error it is re-checked as the supervisor corrects it."""
        self.view.errors = steps.rechecked(self.view.errors, self.view.answers, name, self.view.subject_level)
        self.save()
        return STAY

    def _supervises(self, action: AuditAction, organization_id: str) -> bool:
        try:
            require_supervisor_of(self.actor, record_id(organization_id))
        except NotAllowed as refused:
            self.deny(action, str(refused), organization_id=str(organization_id)[:12])
            self.view.notice = str(refused)
            return False
        return True

    def _forget_organization(self) -> None:
        self._answer("organization_id", "")
        self._forget_subject()
        self._pick_colleague("")
        self.view.colleague_matches = []
        self._show_advice(None)

    def _pick_colleague(self, person_id: object) -> bool:
        entry = registry.pickable_user(self.actor, record_id(self.view.answers.organization_id),
                                       record_id(person_id)) if record_id(person_id) else None
        if entry is None or str(entry.person_id) == self.view.answers.subject_person_id:
            self._answer("colleague_person_id", "")
            self.view.colleague_name = self.view.colleague_level = ""
            return False
        self._answer("colleague_person_id", str(entry.person_id))
        self.view.colleague_name, self.view.colleague_level = entry.full_name, entry.access_level
        return True

    def _search_colleagues(self, query: str) -> None:
        self.view.colleague_query = query[: roster.MAX_QUERY_LENGTH]
        organization_id = record_id(self.view.answers.organization_id)
        self.view.colleague_matches = [
            {"person_id": str(m.person_id), "label": f"{m.full_name} ({m.access_level_label})"}
            for m in registry.pickable_users(self.actor, organization_id, self.view.colleague_query)
            if str(m.person_id) != self.view.answers.subject_person_id]

    def _forget_subject(self) -> None:
        self._answer("subject_person_id", "")
        self.view.subject_name = self.view.subject_email = self.view.subject_level = ""
        self.view.roster_matches = []

    def _pick_subject(self, person_id: object) -> bool:
        entry = registry.pickable_user(self.actor, record_id(self.view.answers.organization_id),
                                       record_id(person_id))
        if entry is None:
            self._forget_subject()
            return False
        self._answer("subject_person_id", str(entry.person_id))
        self.view.subject_name, self.view.subject_email = entry.full_name, entry.email
        self.view.subject_level = entry.access_level
        return True

    def _search(self, query: str) -> None:
        self.view.roster_query = query[: roster.MAX_QUERY_LENGTH]
        organization_id = record_id(self.view.answers.organization_id)
        self.view.roster_matches = [
            {"person_id": str(m.person_id), "full_name": m.full_name, "email": m.email,
             "level": m.access_level_label}
            for m in registry.pickable_users(self.actor, organization_id, self.view.roster_query)]

    def _registry_problems(self) -> dict[str, str]:
        draft = self.view.answers.request_draft()
        check = registry.check_person(self.actor, draft, source_ip=self.source_ip) if draft else None
        self._show_advice(check.advice if check else None)
        return check.problems if check else {}

    def _show_advice(self, advice: RegistryAdvice | None) -> None:
        self.view.advice_message = advice.message if advice else ""
        self.view.advice_type = advice.suggested_type.value if advice and advice.suggested_type else ""
        self.view.advice_request_number = (advice.open_request_number or "") if advice else ""


