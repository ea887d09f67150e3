"""The re-signing link's page (/renew/<token>): sign in as the person, sign the agreement again.

Opening only reads (``renewals.open_renewal``); ``sign`` signs with the identity from the session
cookie, never from state, and the service re-checks everything. The token stays backend-only.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import SESSION_ENDED, Actor, Rule
from immtrax_portal.services import renewals
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_error_summary
from immtrax_portal.ui.state.agreement import FIELD_OF_REFUSAL, MAX_ACKNOWLEDGEMENTS, paragraphs
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.session import guarded, runs_off_loop


def token_from_path(path: str) -> str:
    prefix = f"{routes.RENEWAL}/"
    return path[len(prefix):].strip("/")[:200] if path.startswith(prefix) else ""


class RenewalState(BrowserGateState):
    # loading | valid | expired | used | revoked | unknown | wrong_identity | signed
    status: str = "loading"
    message: str = ""
    person_name: str = ""
    email_hint: str = ""
    due_label: str = ""
    lapsed: bool = False
    agreement_label: str = ""
    agreement_title: str = ""
    agreement_paragraphs: list[str] = []
    acknowledgements: list[str] = []
    errors: dict[str, str] = {}
    problem: str = ""
    _token: str = ""
    _agreement_version_id: int = 0

    @rx.var
    def sign_in_link(self) -> str:
        return routes.sign_in_url(routes.renewal_url(self._token)) if self._token else routes.SIGN_IN

    @rx.var
    def name_error(self) -> str:
        return self.errors.get("typed_name", "")

    @rx.var
    def acknowledgement_error(self) -> str:
        return self.errors.get("acknowledgements", "")

    @rx.event
    @runs_off_loop
    def load(self):
        person, actor = self._resolve_caller()
        self._show_identity(actor, person)
        self._token = token_from_path(self.router.url.path or "")
        self.errors, self.problem = {}, ""
        self._show(person)

    def _show(self, person) -> None:
        view = renewals.open_renewal(self._token, signed_in_email=person.email if person else None)
        self.status, self.message = view.status, view.message
        self.person_name, self.email_hint = view.person_name, view.email_hint
        self.due_label, self.lapsed = view.due_label, view.lapsed
        self._agreement_version_id = view.agreement_version_id or 0
        self.agreement_label, self.agreement_title = view.agreement_label, view.agreement_title
        self.agreement_paragraphs = paragraphs(view.agreement_body)
        self.acknowledgements = list(view.acknowledgements)[:MAX_ACKNOWLEDGEMENTS]

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = ("Your session has ended. Sign in again, then sign the agreement."
                        if message == SESSION_ENDED else message)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.RENEWAL_SIGN)
    def sign(self, actor: Actor, form: dict):
        person = self._caller_person()
        form = form if isinstance(form, dict) else {}
        acknowledged = [i for i in range(MAX_ACKNOWLEDGEMENTS) if form.get(f"ack-{i}")]
        typed_name = str(form.get("typed_name", ""))[:200]
        errors = {}
        if len(acknowledged) < len(self.acknowledgements):
            errors["acknowledgements"] = "Tick every statement to confirm that you agree to it."
        if not typed_name.strip():
            errors["typed_name"] = "Type your full name to sign."
        if errors:
            self.errors, self.problem = errors, ""
            return focus_error_summary()
        try:
            check_rate("redeem_invitation", person_id=person.id, ip=self._client_ip(), actor_role="applicant")
        except RateLimited as limited:
            self.problem = str(limited)
            return None
        try:
            signed = renewals.sign_renewal(
                self._token, person_id=person.id, okta_subject=person.okta_subject or "",
                verified_email=person.email, typed_name=typed_name, acknowledged=acknowledged,
                ip_address=self._client_ip(), user_agent=self._user_agent()[:512],
                agreement_version_id=self._agreement_version_id or None)
        except renewals.RenewalRefused as refused:
            field = FIELD_OF_REFUSAL.get(refused.code)
            if field:
                self.errors, self.problem = {field: refused.message}, ""
                return focus_error_summary()
            self.errors = {}
            self._show(person)
            self.problem = refused.message
            return None
        self.errors, self.problem = {}, ""
        self.status = "signed"
        restored = (" Your imMTrax access is restored; program staff reactivate your imMTrax account."
                    if signed.restored else "")
        self.message = (f"You signed the imMTrax User Agreement, version {self.agreement_label}, again. "
                        f"Next time it is due by {signed.next_due_label}.{restored}")
        self.agreement_paragraphs, self.acknowledgements = [], []
        return None
