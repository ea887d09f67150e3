"""The supervisor request wizard's state. Thin: read input, call a service, set display vars.

Every handler re-derives the caller from the session cookie (``_caller``) and re-checks that they
supervise the organization in the draft, because any client can call any handler with any
arguments. The draft lives on the server (``services.drafts``) keyed by the caller, so a reload,
a restart or another person in the same tab never shows one supervisor's draft to another. The
idempotency key of the submission is backend-only and kept in the draft.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date

import reflex as rx

from immtrax_portal.db import is_database_unavailable
from immtrax_portal.domain.enums import AccessLevel, DeletionReason, RequestType
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_not_about_self
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import drafts, roster
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.requests import (
    RequestDraft,
    SubmissionRefused,
    draft_problems,
    next_steps,
    submit_request,
)
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.outage import database_unavailable_text
from immtrax_portal.ui.state.browser_gate import BrowserGateState

logger = logging.getLogger(__name__)

LAST_STEP = 5
TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "job_title", "start_date", "last_day", "note")
STEP_FIELDS = {
    1: ("organization_id", "request_type"),
    2: ("first_name", "last_name", "email", "phone", "job_title", "start_date", "subject_person_id",
        "registry"),
    3: ("access_level", "deletion_reason", "last_day", "note"),
}
QUESTIONS = ("q_inventory", "q_records", "q_lookup")
HEADING_ID = "wizard-step-heading"


def recommended_level(inventory: str, records: str, lookup: str) -> str:
    """The least access level that fits the answers, or "" until one answer says yes."""
    if inventory == "yes":
        return AccessLevel.VACCINE_MANAGEMENT.value
    if records == "yes":
        return AccessLevel.RECORD_MAINTENANCE.value
    if lookup == "yes":
        return AccessLevel.READ_ONLY_CONSENT.value
    return ""


def request_link(number: str) -> str:
    """Where a supervisor sees one of their requests."""
    return routes.request_url(number)


def _label_of(enum_cls, value: str) -> str:
    return enum_cls(value).label if value in {m.value for m in enum_cls} else ""


class WizardState(BrowserGateState):
    loaded: bool = False
    form_revision: int = 0
    step: int = 1
    organizations: list[dict[str, str]] = []
    organization_id: str = ""
    request_type: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    start_date: str = ""
    access_level: str = ""
    deletion_reason: str = ""
    last_day: str = ""
    note: str = ""
    q_inventory: str = ""
    q_records: str = ""
    q_lookup: str = ""
    subject_person_id: str = ""
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
        return self.request_type in (RequestType.PERMISSIONS_CHANGE.value, RequestType.ACCESS_DELETION.value)

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
        return request_link(self.advice_request_number) if self.advice_request_number else ""

    @rx.var
    def submitted_link(self) -> str:
        return request_link(self.submitted_number) if self.submitted_number else ""

    @rx.var
    def third_step_title(self) -> str:
        return "Reason and last day" if self.is_deletion else "Access level"

    @rx.var
    def step_heading(self) -> str:
        titles = {1: "Organization and request type",
                  2: "The person" if not self.is_roster_type else "Choose the user",
                  3: self.third_step_title, 4: "Check your request", 5: "Request submitted"}
        return titles.get(self.step, "")

    # --- Who is calling ------------------------------------------------------------------------

    def _caller(self, action: str) -> Actor | None:
        """The signed-in supervisor, re-read from the cookie; None (with a message) otherwise.

        A different person than the one whose draft is on screen gets their own draft instead,
        and the event that came in is ignored.
        """
        self.notice = ""
        try:
            actor = self._require_actor(action)
        except NotAllowed as refused:
            self.notice = str(refused)
            return None
        if not actor.supervised_org_ids:
            self._deny(actor, action, "not a supervisor")
            self.notice = "Only supervisors registered with the program can submit requests."
            return None
        if actor.person_id != self._owner_id:
            self._load_for(actor)
            return None
        if self.organization_id and int(self.organization_id) not in actor.supervised_org_ids:
            self._deny(actor, action, "not a supervisor of the draft's organization",
                       organization_id=self.organization_id)
            self._forget_organization()
            self.notice = "You are no longer registered as a supervisor of that organization."
            return None
        return actor

    # --- The draft -------------------------------------------------------------------------------

    def _draft_data(self) -> dict[str, str]:
        data = {name: getattr(self, name) for name in drafts.DRAFT_FIELDS
                if name not in ("step", "idempotency_key")}
        data["step"] = str(self.step)
        data["idempotency_key"] = self._idempotency_key
        return data

    def _save(self, actor: Actor) -> None:
        drafts.save_draft(actor.person_id, self._draft_data())

    def _reset(self) -> None:
        for name in drafts.DRAFT_FIELDS:
            if name not in ("step", "idempotency_key"):
                setattr(self, name, "")
        self.step, self._idempotency_key = 1, ""
        self.subject_name = self.subject_email = self.subject_level = self.roster_query = ""
        self.roster_matches, self.errors = [], {}
        self._clear_advice()
        self.confirm_cancel = self.submitting = self.return_to_review = False
        self.submitted_number, self.submitted_summary, self.submitted_steps = "", "", []

    def _load_for(self, actor: Actor) -> None:
        """Show ``actor``'s own saved draft (or a fresh one), checked against today's registry."""
        self._reset()
        self._owner_id = actor.person_id
        self.organizations = [{"id": str(org_id), "name": name}
                              for org_id, name in roster.organization_choices(actor.supervised_org_ids)]
        data = drafts.load_draft(actor.person_id)
        for name, value in data.items():
            if name in TEXT_FIELDS or name in ("access_level", "deletion_reason", *QUESTIONS):
                setattr(self, name, value)
        if data.get("organization_id") in {o["id"] for o in self.organizations}:
            self.organization_id = data["organization_id"]
        elif len(self.organizations) == 1:
            self.organization_id = self.organizations[0]["id"]
        if data.get("request_type") in {t.value for t in RequestType}:
            self.request_type = data["request_type"]
        if record_id(data.get("subject_person_id", "")):
            self._pick_subject(actor, record_id(data["subject_person_id"]))
        self._idempotency_key = data.get("idempotency_key", "")
        wanted = record_id(data.get("step", "")) or 1
        self.step = self._furthest_reachable(actor, min(max(wanted, 1), LAST_STEP - 1))
        self.errors = {}
        self.loaded = True
        self.form_revision += 1

    def _furthest_reachable(self, actor: Actor, wanted: int) -> int:
        for step in range(1, wanted):
            if self._problems(step) or (step == 2 and self._registry_refusal(actor)):
                return step
        return wanted

    def _forget_organization(self) -> None:
        self.organization_id = ""
        self._forget_subject()
        self._clear_advice()

    def _forget_subject(self) -> None:
        self.subject_person_id = self.subject_name = self.subject_email = self.subject_level = ""
        self.roster_matches = []

    def _clear_advice(self) -> None:
        self.advice_message = self.advice_type = self.advice_request_number = ""

    # --- Rules -----------------------------------------------------------------------------------

    def _request_draft(self) -> RequestDraft | None:
        if not self.organization_id.isdigit() or self.request_type not in {t.value for t in RequestType}:
            return None
        kind = RequestType(self.request_type)
        roster_pick = kind.picks_from_roster
        return RequestDraft(
            organization_id=int(self.organization_id), request_type=kind,
            first_name="" if roster_pick else self.first_name,
            last_name="" if roster_pick else self.last_name,
            email="" if roster_pick else self.email, phone="" if roster_pick else self.phone,
            job_title="" if roster_pick else self.job_title,
            start_date="" if roster_pick else self.start_date,
            access_level="" if kind == RequestType.ACCESS_DELETION else self.access_level,
            subject_person_id=int(self.subject_person_id) if roster_pick and self.subject_person_id else None,
            deletion_reason=self.deletion_reason if kind == RequestType.ACCESS_DELETION else "",
            last_day=self.last_day if kind == RequestType.ACCESS_DELETION else "",
            note=self.note,
        )

    def _problems(self, step: int) -> dict[str, str]:
        """What is wrong with one step's own answers (no registry look-ups)."""
        if step == 1:
            problems = {}
            if not self.organization_id:
                problems["organization_id"] = "Choose the organization the request is for."
            if self.request_type not in {t.value for t in RequestType}:
                problems["request_type"] = "Choose what kind of request this is."
            return problems
        draft = self._request_draft()
        if draft is None:
            return {"request_type": "Choose what kind of request this is."}
        wanted = STEP_FIELDS.get(step, ())
        problems = {k: v for k, v in draft_problems(draft, date.today()).items() if k in wanted}
        if (step == 3 and draft.request_type == RequestType.PERMISSIONS_CHANGE
                and self.access_level and self.access_level == self.subject_level):
            problems["access_level"] = (f"They already have {self.subject_level_label}. "
                                        "Choose another level.")
        return problems

    def _registry_refusal(self, actor: Actor) -> dict[str, str]:
        """Step 2's look-ups: self-requests, the person's access elsewhere, open requests."""
        self._clear_advice()
        draft = self._request_draft()
        if draft is None:
            return {}
        try:
            require_not_about_self(actor, draft.subject_person_id, draft.email)
        except NotAllowed as refused:
            return {"subject_person_id" if draft.subject_person_id else "email": str(refused)}
        if draft.request_type.picks_from_roster:
            number = roster.open_request_number(draft.organization_id, draft.subject_person_id or 0)
            if number:
                self.advice_request_number = number
                self.advice_message = (f"There is already an open request ({number}) for this person at "
                                       "this organization. Follow that request instead of starting another.")
        else:
            advice = roster.advice_for_new_person(draft.organization_id, draft.request_type, draft.email)
            if advice:
                self.advice_message = advice.message
                self.advice_type = advice.suggested_type.value if advice.suggested_type else ""
                self.advice_request_number = advice.open_request_number or ""
        return {"registry": self.advice_message} if self.advice_message else {}

    def _recheck_field(self, name: str) -> None:
        """Once a field has shown an error, re-check it as the supervisor corrects it."""
        if name not in self.errors:
            return
        problem = next((p.get(name) for s in (1, 2, 3) if name in (p := self._problems(s))), None)
        errors = {k: v for k, v in self.errors.items() if k != name}
        if problem:
            errors[name] = problem
        self.errors = errors

    def _pick_subject(self, actor: Actor, person_id: int) -> bool:
        entry = roster.roster_entry(int(self.organization_id), person_id) if self.organization_id else None
        if entry is None or entry.person_id == actor.person_id:
            self._forget_subject()
            return False
        self.subject_person_id, self.subject_name = str(entry.person_id), entry.full_name
        self.subject_email, self.subject_level = entry.email, entry.access_level
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
        if self.step == 2 and self.is_roster_type and not self.roster_matches:
            self._search(guarded, "")
        return None

    def _start_from_roster(self, actor: Actor) -> None:
        """The dashboard roster's "Change level" / "Remove access": ``?type=&org=&person=``.

        Used only when the organization is the caller's and the person is on its roster today
        (and is not the caller); anything else leaves the normal wizard as it was. A draft that is
        already this request is kept as it is, so reloading the page loses nothing.
        """
        params = self.router.url.query_parameters
        kind = str(params.get("type", ""))[:32]
        org, person = str(params.get("org", ""))[:12], str(params.get("person", ""))[:12]
        if kind not in (RequestType.PERMISSIONS_CHANGE.value, RequestType.ACCESS_DELETION.value):
            return
        if not record_id(org) or not record_id(person):
            return
        org, person = str(record_id(org)), str(record_id(person))
        if int(org) not in actor.supervised_org_ids:
            self._deny(actor, "wizard.start_from_roster", "not a supervisor of that organization",
                       organization_id=org)
            return
        entry = roster.roster_entry(int(org), int(person))
        if entry is None or entry.person_id == actor.person_id:
            return
        if (self.request_type, self.organization_id, self.subject_person_id) == (kind, org, person):
            return
        drafts.save_draft(actor.person_id, {"organization_id": org, "request_type": kind,
                                            "subject_person_id": person, "step": "3"})
        self._load_for(actor)

    # --- Step 1 ----------------------------------------------------------------------------------

    @rx.event
    def choose_organization(self, organization_id: str):
        actor = self._caller("wizard.choose_organization")
        if actor is None or not record_id(organization_id):
            return
        organization_id = str(record_id(organization_id))
        if int(organization_id) not in actor.supervised_org_ids:
            self._deny(actor, "wizard.choose_organization", "not a supervisor of that organization",
                       organization_id=organization_id)
            self.notice = "You are not registered as a supervisor of that organization."
            return
        if organization_id != self.organization_id:
            self._forget_organization()
            self.organization_id = organization_id
        self._recheck_field("organization_id")
        self._save(actor)

    @rx.event
    def choose_type(self, request_type: str):
        actor = self._caller("wizard.choose_type")
        if actor is None or request_type not in {t.value for t in RequestType}:
            return
        self.request_type = request_type
        self._clear_advice()
        self._recheck_field("request_type")
        self._save(actor)

    # --- Step 2 ----------------------------------------------------------------------------------

    @rx.event
    def set_field(self, name: str, value: str):
        """The one setter for typed answers: known fields only, strings only, bounded length."""
        actor = self._caller("wizard.set_field")
        if actor is None or name not in TEXT_FIELDS or not isinstance(value, str):
            return
        setattr(self, name, value[: drafts.DRAFT_FIELDS[name]])
        if name == "email":
            self._clear_advice()
            self.errors = {k: v for k, v in self.errors.items() if k != "registry"}
        self._recheck_field(name)
        self._save(actor)

    def _search(self, actor: Actor, query: str) -> None:
        self.roster_query = query[: roster.MAX_QUERY_LENGTH]
        matches = roster.search_roster(int(self.organization_id), self.roster_query)
        self.roster_matches = [
            {"person_id": str(m.person_id), "full_name": m.full_name, "email": m.email,
             "level": m.access_level_label}
            for m in matches if m.person_id != actor.person_id
        ]

    @rx.event
    def search_people(self, query: str):
        actor = self._caller("wizard.search_people")
        if actor is None or not isinstance(query, str) or not self.organization_id:
            return
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
        if not self._pick_subject(actor, record_id(person_id)):
            # The page only offers the organization's roster without the supervisor: anything else
            # is a forged pick (yourself, another organization's user) and is recorded as such.
            self._deny(actor, "wizard.choose_person", "not on the organization's roster, or themselves",
                       organization_id=self.organization_id, person_id=person_id[:12])
            self.errors = {**self.errors, "subject_person_id": "Choose someone from your organization's "
                                                               "current users (not yourself)."}
            return
        self._clear_advice()
        self.errors = {k: v for k, v in self.errors.items() if k not in ("subject_person_id", "registry")}
        self._save(actor)

    @rx.event
    def switch_type(self, request_type: str):
        """One click on the registry's advice: take the suggested type and carry on."""
        actor = self._caller("wizard.switch_type")
        if actor is None or request_type != self.advice_type or not request_type:
            return None
        email = self.email
        self.request_type = request_type
        self._clear_advice()
        if RequestType(request_type).picks_from_roster:
            self._search(actor, email)
            match = next((m for m in self.roster_matches if m["email"] == email.strip().lower()), None)
            if match:
                self._pick_subject(actor, int(match["person_id"]))
        self.errors = {}
        self.form_revision += 1
        self._save(actor)
        return WizardState.continue_step({})

    # --- Step 3 ----------------------------------------------------------------------------------

    @rx.event
    def choose_level(self, level: str):
        actor = self._caller("wizard.choose_level")
        if actor is None or level not in {m.value for m in AccessLevel}:
            return
        self.access_level = level
        self._recheck_field("access_level")
        self._save(actor)

    @rx.event
    def answer_question(self, question: str, answer: str):
        actor = self._caller("wizard.answer_question")
        if actor is None or question not in QUESTIONS or answer not in ("yes", "no"):
            return
        setattr(self, question, answer)
        self._save(actor)

    @rx.event
    def use_recommended_level(self):
        actor = self._caller("wizard.use_recommended_level")
        if actor is None or not self.recommended:
            return
        self.access_level = self.recommended
        self.form_revision += 1
        self._recheck_field("access_level")
        self._save(actor)

    @rx.event
    def choose_deletion_reason(self, reason: str):
        actor = self._caller("wizard.choose_deletion_reason")
        if actor is None or reason not in {m.value for m in DeletionReason}:
            return
        self.deletion_reason = reason
        self._recheck_field("deletion_reason")
        self._save(actor)

    # --- Moving between steps --------------------------------------------------------------------

    @rx.event
    def continue_step(self, form_data: dict):
        """Check this step on the server; on success move on, else show what to fix."""
        actor = self._caller("wizard.continue")
        if actor is None or self.step >= 4:
            return None
        if isinstance(form_data, dict):
            for name in TEXT_FIELDS:
                if isinstance(form_data.get(name), str):
                    setattr(self, name, form_data[name][: drafts.DRAFT_FIELDS[name]])
        problems = self._problems(self.step)
        if not problems and self.step == 2:
            problems = self._registry_refusal(actor)
        self.errors = problems
        if problems:
            self._save(actor)
            return focus_error_summary()
        self.step = self._next_step_after(self.step)
        if self.step == 4:
            self.return_to_review = False
            self._idempotency_key = self._idempotency_key or secrets.token_urlsafe(24)
        if self.step == 2 and self.is_roster_type and not self.roster_matches:
            self._search(actor, "")
        self._save(actor)
        return focus_element(HEADING_ID)

    def _next_step_after(self, step: int) -> int:
        if self.return_to_review and step >= 2 and not any(self._problems(s) for s in range(step + 1, 4)):
            return 4
        return step + 1

    @rx.event
    def go_back(self):
        actor = self._caller("wizard.back")
        if actor is None or not 1 < self.step < LAST_STEP:
            return None
        self.step -= 1
        self.errors = {}
        self._save(actor)
        return focus_element(HEADING_ID)

    @rx.event
    def edit_step(self, step: int):
        actor = self._caller("wizard.edit")
        if actor is None or self.step != 4 or step not in (1, 2, 3):
            return None
        self.step, self.return_to_review, self.errors = step, True, {}
        if step == 2 and self.is_roster_type:
            self._search(actor, self.roster_query)
        self._save(actor)
        return focus_element(HEADING_ID)

    # --- Submit and cancel -----------------------------------------------------------------------

    @rx.event
    def submit(self):
        """Submit once: the key from the draft makes a double click or a resent event harmless."""
        actor = self._caller("wizard.submit")
        if actor is None or self.step != 4 or self.submitting:
            return
        draft = self._request_draft()
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
            self.notice = ("Your request could not be submitted just now. Nothing was sent and your "
                           "answers are saved: try again in a moment.")
            if is_database_unavailable(failure):
                self.notice = database_unavailable_text()
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
            self.advice_message = refused.advice.message
            self.advice_type = refused.advice.suggested_type.value if refused.advice.suggested_type else ""
            self.advice_request_number = refused.advice.open_request_number or ""
            self.errors = {"registry": refused.message}
        elif refused.problems:
            self.step = min((s for s, names in STEP_FIELDS.items() for name in refused.problems
                             if name in names), default=4)
            self.errors = dict(refused.problems)
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
