"""Staff pages for organizations and their supervisors. Thin: every handler declares its rule
(``@guarded(Rule.STAFF, ...)``: the caller from the session cookie, a refusal audited once), bounds
its arguments and calls ``services.organizations``. Both pages keep their counts, open requests
and supervisors current by themselves (``LiveUpdates``); a live re-read never redraws a form."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.organization_rules import OrganizationFields
from immtrax_portal.domain.permissions import Actor, NotAllowed, Rule
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import organizations
from immtrax_portal.services.change_feed import Change, Scope, Shows
from immtrax_portal.services.organizations import OrganizationInvalid
from immtrax_portal.ui import routes
from immtrax_portal.ui.client_input import form_text
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded

UNLINK_CONFIRM_ID = "unlink-confirm-heading"
STATUS_ID = "organization-status"


class OrganizationsState(LiveUpdates, SessionState):
    """The list: search, pages of 20, counts per organization."""

    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    search_term: str = ""
    message: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.message, self.rows = message, []

    @rx.var
    def count_text(self) -> str:
        return f"{self.total:,} organization" + ("" if self.total == 1 else "s")

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.message = ""
        self._refresh(actor)
        return OrganizationsState.watch_live

    def _live_rule(self) -> Rule:
        return Rule.STAFF

    def _live_scope(self, actor: Actor) -> Scope:
        # Names, supervisor and active-user counts: organizations, links and grants.
        return Scope(everything=True, shows=frozenset({Shows.ROSTER}))

    def _refresh(self, actor: Actor) -> None:
        listed = organizations.list_organizations(actor, self.search_term, self.page)
        self.rows = [r.as_dict() for r in listed.rows]
        self.total, self.page, self.pages = listed.total, listed.page, listed.pages

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_SEARCH)
    def search(self, actor: Actor, form: dict):
        self.search_term = " ".join(form_text(form, "q", organizations.SEARCH_MAX).split())
        self.page = 1
        self._refresh(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_CLEAR_SEARCH)
    def clear_search(self, actor: Actor):
        self.search_term, self.page = "", 1
        self._refresh(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_NEXT_PAGE)
    def next_page(self, actor: Actor):
        self.page += 1
        self._refresh(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_PREVIOUS_PAGE)
    def previous_page(self, actor: Actor):
        self.page = max(1, self.page - 1)
        self._refresh(actor)


class OrganizationState(LiveUpdates, SessionState):
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

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        if message not in self.link_errors.values():   # already shown beside its field
            self.problem = message

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        query = self.router.url.query_parameters
        self.org_id = record_id(query.get("id", ""))
        self.errors, self.link_errors, self.problem = {}, {}, ""
        self.message = "Organization added. Now link its supervisors." if query.get("created") else ""
        self._forget_unlink()
        self._show(actor)
        return OrganizationState.watch_live if self.org_id else None

    def _live_rule(self) -> Rule:
        return Rule.STAFF

    def _live_scope(self, actor: Actor) -> Scope:
        # Its open requests and its supervisors (nothing, while adding a new one).
        return Scope(organization_ids=frozenset({self.org_id}) if self.org_id else frozenset(),
                     shows=frozenset({Shows.REQUESTS, Shows.ROSTER}))

    def _refresh_live(self, actor: Actor, changes: list[Change]) -> None:
        """Re-read what others change here (open requests, supervisors), never the edit form."""
        if not self.org_id:
            return
        try:
            detail = organizations.organization_detail(actor, self.org_id)
        except LookupError:
            return
        self._show_related(detail)

    def _refresh(self, actor: Actor) -> None:
        self._show(actor)

    def _show_related(self, detail) -> None:
        self.open_requests = (organizations.describe_open_requests(detail.open_requests,
                                                                   detail.open_request_total)
                              if detail.open_request_total else "")
        self.supervisors = [{"person_id": s.person_id, "name": s.name, "email": s.email,
                             "signed_in": "Yes" if s.has_signed_in else "Not yet",
                             "linked_on": s.linked_on} for s in detail.supervisors]

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
        self._show_related(detail)

    def _forget_unlink(self) -> None:
        self.unlink_person_id, self.unlink_name, self.unlink_warning = 0, "", ""

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_SAVE)
    def save(self, actor: Actor, form: dict):
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
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_LINK_SUPERVISOR)
    def link_supervisor(self, actor: Actor, form: dict):
        if not self.org_id:
            return
        self.message, self.problem, self.errors = "", "", {}
        try:
            linked = organizations.link_supervisor(
                actor, self.org_id, form_text(form, "email", 254), form_text(form, "first_name", 100),
                form_text(form, "last_name", 100), source_ip=self._client_ip())
        except OrganizationInvalid as invalid:
            self.link_errors = invalid.problems
            return focus_error_summary()
        except NotAllowed as refused:   # shown beside the email; the guard records it
            self.link_errors = {"email": str(refused)}
            raise
        except LookupError as missing:
            self.link_errors = {"email": str(missing)}
            return
        self.link_errors = {}
        self.link_revision += 1
        self.message = (f"{linked.name} is now a supervisor of this organization"
                        + (". They become one in the portal when they first sign in with Okta using "
                           "that email." if linked.created_person else "."))
        self._show(actor)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_ASK_UNLINK)
    def ask_unlink(self, actor: Actor, person_id: int):
        person_id = record_id(person_id)
        chosen = next((s for s in self.supervisors if s["person_id"] == person_id), None)
        if chosen is None:
            self._forget_unlink()
            return
        self.unlink_person_id, self.unlink_name = person_id, chosen["name"]
        self.unlink_warning = organizations.unlink_warning(actor, self.org_id, person_id)
        return focus_element(UNLINK_CONFIRM_ID)

    @rx.event
    def cancel_unlink(self):
        """"No": nothing changes; focus goes back to the person's "Unlink" button."""
        person_id = self.unlink_person_id
        self._forget_unlink()
        return focus_element(f"unlink-{person_id}") if person_id else None

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_UNLINK_SUPERVISOR)
    def unlink_supervisor(self, actor: Actor, person_id: int):
        person_id = record_id(person_id)
        self.message, self.problem = "", ""
        try:
            organizations.unlink_supervisor(actor, self.org_id, person_id, source_ip=self._client_ip())
        except LookupError as missing:
            self.problem = str(missing)
        else:
            self.message = (f"{self.unlink_name or 'The person'} is no longer a supervisor of "
                            f"{self.name}. They cannot see its requests or submit new ones.")
        self._forget_unlink()
        self._show(actor)
        return focus_element(STATUS_ID)
