"""Staff pages for organizations and their supervisors. Thin: every handler re-derives the caller
from the session cookie, refuses (and audits) anyone who is not program staff, bounds its
arguments and calls ``services.organizations``."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.organization_rules import OrganizationFields
from immtrax_portal.domain.permissions import Actor, NotAllowed
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import organizations
from immtrax_portal.services.organizations import OrganizationInvalid
from immtrax_portal.ui import routes
from immtrax_portal.ui.client_input import form_text
from immtrax_portal.ui.components.error_summary import focus_error_summary
from immtrax_portal.ui.state.session import SessionState

STAFF_ONLY = "Only Montana Immunization Program staff can manage organizations."


def _require_organization_staff(actor: Actor) -> None:
    if not actor.is_program_staff:
        raise NotAllowed(STAFF_ONLY)


def staff_caller(state: SessionState, action: str) -> Actor | str:
    """The caller if they are program staff now; otherwise the message to show (refusal audited)."""
    try:
        return state._require_allowed(action, _require_organization_staff)
    except NotAllowed as refused:
        return str(refused)


class OrganizationsState(SessionState):
    """The list: search, pages of 20, counts per organization."""

    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    search_term: str = ""
    message: str = ""

    @rx.event
    def load(self):
        outcome = self._guard("staff")
        if not isinstance(outcome, Actor):
            return outcome
        self.message = ""
        self._refresh(outcome)

    def _refresh(self, actor: Actor) -> None:
        listed = organizations.list_organizations(actor, self.search_term, self.page)
        self.rows = [r.as_dict() for r in listed.rows]
        self.total, self.page, self.pages = listed.total, listed.page, listed.pages

    def _run(self, action: str, change) -> None:
        outcome = staff_caller(self, action)
        if isinstance(outcome, str):
            self.message, self.rows = outcome, []
            return
        change()
        self._refresh(outcome)

    @rx.event
    def search(self, form: dict):
        def apply():
            self.search_term = " ".join(form_text(form, "q", organizations.SEARCH_MAX).split())
            self.page = 1
        self._run("organizations.search", apply)

    @rx.event
    def clear_search(self):
        def apply():
            self.search_term, self.page = "", 1
        self._run("organizations.clear_search", apply)

    @rx.event
    def next_page(self):
        self._run("organizations.next_page", lambda: setattr(self, "page", self.page + 1))

    @rx.event
    def previous_page(self):
        self._run("organizations.previous_page", lambda: setattr(self, "page", max(1, self.page - 1)))


class OrganizationState(SessionState):
    """One organization: create or edit its fields; link and unlink its supervisors."""

    org_id: int = 0
    found: bool = True
    code: str = ""
    name: str = ""
    city: str = ""
    active: bool = True
    heading: str = "Add an organization"
    revision: int = 0
    errors: dict[str, str] = {}
    message: str = ""
    problem: str = ""
    open_requests: str = ""
    supervisors: list[dict] = []
    link_errors: dict[str, str] = {}
    link_revision: int = 0
    unlink_person_id: int = 0
    unlink_name: str = ""
    unlink_warning: str = ""

    @rx.event
    def load(self):
        outcome = self._guard("staff")
        if not isinstance(outcome, Actor):
            return outcome
        query = self.router.url.query_parameters
        self.org_id = record_id(query.get("id", ""))
        self.errors, self.link_errors, self.problem = {}, {}, ""
        self.message = "Organization added. Now link its supervisors." if query.get("created") else ""
        self._forget_unlink()
        self._show(outcome)

    def _show(self, actor: Actor) -> None:
        self.revision += 1
        if not self.org_id:
            self.found, self.heading = True, "Add an organization"
            self.code, self.name, self.city, self.active = "", "", "", True
            self.supervisors, self.open_requests = [], ""
            return
        try:
            detail = organizations.organization_detail(actor, self.org_id)
        except LookupError as missing:
            self.found, self.problem, self.supervisors = False, str(missing), []
            return
        self.found = True
        f = detail.fields
        self.code, self.name, self.city, self.active = f.code, f.name, f.city, f.active
        self.heading = f"{f.name} ({f.code})"
        self.open_requests = (organizations.describe_open_requests(detail.open_requests,
                                                                   detail.open_request_total)
                              if detail.open_request_total else "")
        self.supervisors = [{"person_id": s.person_id, "name": s.name, "email": s.email,
                             "signed_in": "Yes" if s.has_signed_in else "Not yet",
                             "linked_on": s.linked_on} for s in detail.supervisors]

    def _forget_unlink(self) -> None:
        self.unlink_person_id, self.unlink_name, self.unlink_warning = 0, "", ""

    def _caller(self, action: str) -> Actor | None:
        outcome = staff_caller(self, action)
        if isinstance(outcome, str):
            self.problem = outcome
            return None
        return outcome

    @rx.event
    def save(self, form: dict):
        actor = self._caller("organizations.save")
        if actor is None:
            return
        given = OrganizationFields(code=form_text(form, "code", 64), name=form_text(form, "name", 400),
                                   city=form_text(form, "city", 200),
                                   active=bool(form_text(form, "active", 10)))
        self.message, self.problem, self.link_errors = "", "", {}
        try:
            if not self.org_id:
                new_id = organizations.create_organization(actor, given, source_ip=self._client_ip())
                return rx.redirect(routes.organization_url(new_id, created=True))
            changed = organizations.update_organization(actor, self.org_id, given,
                                                        source_ip=self._client_ip())
        except OrganizationInvalid as invalid:
            self.errors = invalid.problems
            return focus_error_summary()
        except LookupError as missing:
            self.problem = str(missing)
            return
        self.errors = {}
        self.message = "Changes saved." if changed else "Nothing changed."
        self._show(actor)

    @rx.event
    def link_supervisor(self, form: dict):
        actor = self._caller("organizations.link_supervisor")
        if actor is None or not self.org_id:
            return
        self.message, self.problem, self.errors = "", "", {}
        try:
            linked = organizations.link_supervisor(
                actor, self.org_id, form_text(form, "email", 254), form_text(form, "first_name", 100),
                form_text(form, "last_name", 100), source_ip=self._client_ip())
        except OrganizationInvalid as invalid:
            self.link_errors = invalid.problems
            return focus_error_summary()
        except (NotAllowed, LookupError) as refused:
            self._deny(actor, "organizations.link_supervisor", str(refused), organization=self.org_id)
            self.link_errors = {"email": str(refused)}
            return
        self.link_errors = {}
        self.link_revision += 1
        self.message = (f"{linked.name} is now a supervisor of this organization"
                        + (". They become one in the portal when they first sign in with Okta using "
                           "that email." if linked.created_person else "."))
        self._show(actor)

    @rx.event
    def ask_unlink(self, person_id: int):
        actor = self._caller("organizations.ask_unlink")
        if actor is None:
            return
        person_id = record_id(person_id)
        chosen = next((s for s in self.supervisors if s["person_id"] == person_id), None)
        if chosen is None:
            self._forget_unlink()
            return
        self.unlink_person_id, self.unlink_name = person_id, chosen["name"]
        self.unlink_warning = organizations.unlink_warning(actor, self.org_id, person_id)

    @rx.event
    def cancel_unlink(self):
        self._forget_unlink()

    @rx.event
    def unlink_supervisor(self, person_id: int):
        actor = self._caller("organizations.unlink_supervisor")
        if actor is None:
            return
        person_id = record_id(person_id)
        self.message, self.problem = "", ""
        try:
            organizations.unlink_supervisor(actor, self.org_id, person_id, source_ip=self._client_ip())
        except LookupError as missing:
            self.problem = str(missing)
        else:
            self.message = f"{self.unlink_name or 'The person'} is no longer a supervisor here."
        self._forget_unlink()
        self._show(actor)
