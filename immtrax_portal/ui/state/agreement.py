"""The invitation link's page: open it, sign in as the invited person, sign the User Agreement.

Opening only reads (``signing.open_invitation``), so mail scanners that follow the link cannot burn
it; only ``sign`` consumes the invitation, and the service re-checks everything it is given. The
token stays backend-only once read from the address; the signer's identity comes from the session
cookie on every call, never from state.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import SESSION_ENDED, Actor, NotAllowed, Rule
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.signed_agreements import SignedAgreement, signed_agreement_for
from immtrax_portal.services.signing import InvitationView, SigningRefused, open_invitation, sign_agreement
from immtrax_portal.ui import routes
from immtrax_portal.ui.components.error_summary import focus_error_summary
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.session import guarded, runs_off_loop

MAX_ACKNOWLEDGEMENTS = 20
# Refusals that belong next to a field; every other one changes what the whole page says.
FIELD_OF_REFUSAL = {"acknowledgements_missing": "acknowledgements", "name_mismatch": "typed_name"}


def token_from_path(path: str) -> str:
    """The token is the last segment of /agreement/<token>; anything else is no token at all."""
    prefix = f"{routes.AGREEMENT}/"
    return path[len(prefix):].strip("/")[:200] if path.startswith(prefix) else ""


def paragraphs(body: str) -> list[str]:
    """The agreement text as paragraphs (blank lines separate them)."""
    return [" ".join(block.split()) for block in body.split("\n\n") if block.strip()]


class AgreementState(BrowserGateState):
    # valid | expired | used | revoked | unknown | signed | loading
    status: str = "loading"
    message: str = ""
    identity: str = ""  # "": nobody signed in; "ok"; "wrong"
    request_number: str = ""
    organization_name: str = ""
    invited_name: str = ""
    invited_email_hint: str = ""
    expires_on: str = ""
    agreement_label: str = ""
    agreement_title: str = ""
    agreement_paragraphs: list[str] = []
    acknowledgements: list[str] = []
    errors: dict[str, str] = {}
    problem: str = ""
    signing: bool = False
    signed_at: str = ""
    signed_name: str = ""
    signature_id: int = 0
    _token: str = ""
    _agreement_version_id: int = 0

    @rx.var
    def sign_in_link(self) -> str:
        return routes.sign_in_url(f"{routes.AGREEMENT}/{self._token}") if self._token else routes.SIGN_IN

    @rx.var
    def pdf_link(self) -> str:
        return routes.signed_agreement_pdf_url(self.signature_id) if self.signature_id else ""

    @rx.var
    def signed_agreement_link(self) -> str:
        return routes.signed_agreement_url(self.request_number) if self.request_number else ""

    @rx.event
    @runs_off_loop
    def load(self):
        person, actor = self._resolve_caller()
        self._show_identity(actor, person)
        self._token = token_from_path(self.router.url.path or "")
        self.errors, self.problem, self.signing = {}, "", False
        self._show(open_invitation(self._token, signed_in_email=person.email if person else None), person)

    def _show(self, view: InvitationView, person) -> None:
        self.status, self.message = view.status, view.message
        self.request_number, self.organization_name = view.request_number, view.organization_name
        self.invited_name = f"{view.first_name} {view.last_name}".strip()
        self.invited_email_hint, self.expires_on = view.invited_email_hint, view.expires_on
        self.identity = "" if view.identity_ok is None else ("ok" if view.identity_ok else "wrong")
        self._agreement_version_id = view.agreement_version_id or 0
        self.agreement_label, self.agreement_title = view.agreement_label, view.agreement_title
        self.agreement_paragraphs = paragraphs(view.agreement_body)
        self.acknowledgements = list(view.acknowledgements)[:MAX_ACKNOWLEDGEMENTS]
        if view.status == "used" and person is not None and view.request_id:
            self._show_receipt_if_signer(person.id, view.request_id)

    def _show_receipt_if_signer(self, person_id: int, request_id: int) -> None:
        """A used link opened by the one who signed it shows their receipt, not a dead end."""
        try:
            signed = signed_agreement_for(person_id, request_id)
        except NotAllowed:
            return
        if signed is not None and signed.signer_person_id == person_id:
            self._show_signed(signed)

    def _show_signed(self, signed: SignedAgreement) -> None:
        self.status = "signed"
        self.message = (f"You signed the imMTrax User Agreement, version {signed.agreement_label}, on "
                        f"{signed.signed_at_text}. A receipt is on its way to your email.")
        self.request_number, self.organization_name = signed.request_number, signed.organization_name
        self.signed_at, self.signed_name = signed.signed_at_text, signed.typed_name
        self.signature_id = signed.signature_id
        self.agreement_paragraphs, self.acknowledgements = [], []

    @rx.var
    def name_error(self) -> str:
        return self.errors.get("typed_name", "")

    @rx.var
    def acknowledgement_error(self) -> str:
        return self.errors.get("acknowledgements", "")

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = ("Your session has ended. Sign in again, then sign the agreement."
                        if message == SESSION_ENDED else message)

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.AGREEMENT_SIGN)
    def sign(self, actor: Actor, form: dict):
        """Shows "Signing…" at once, then signs; a second click meanwhile is refused by the service."""
        self.signing = True
        yield
        try:
            follow_up = self._sign(self._caller_person(), form)
        finally:
            self.signing = False
        yield follow_up

    def _sign(self, person, form):
        form = form if isinstance(form, dict) else {}
        acknowledged = [i for i in range(MAX_ACKNOWLEDGEMENTS) if form.get(f"ack-{i}")]
        typed_name = str(form.get("typed_name", ""))[:200]
        errors = self._answer_problems(acknowledged, typed_name)
        if errors:  # costs nothing, so not counted against anyone's budget
            self.errors, self.problem = errors, ""
            return focus_error_summary()
        try:
            check_rate("redeem_invitation", person_id=person.id, ip=self._client_ip(), actor_role="applicant")
        except RateLimited as limited:  # already audited
            self.problem = str(limited)
            return None
        try:
            result = sign_agreement(
                self._token, person_id=person.id, okta_subject=person.okta_subject or "",
                verified_email=person.email, typed_name=typed_name, acknowledged=acknowledged,
                ip_address=self._client_ip(), user_agent=self._user_agent()[:512],
                agreement_version_id=self._agreement_version_id or None)
        except SigningRefused as refused:
            return self._after_refusal(refused, person)
        self.errors, self.problem = {}, ""
        signed = signed_agreement_for(person.id, result.request_id)
        if signed is not None:
            self._show_signed(signed)

    def _answer_problems(self, acknowledged: list[int], typed_name: str) -> dict[str, str]:
        errors = {}
        if len(acknowledged) < len(self.acknowledgements):
            errors["acknowledgements"] = "Tick every statement to confirm that you agree to it."
        if not typed_name.strip():
            errors["typed_name"] = "Type your full name to sign."
        return errors

    def _after_refusal(self, refused: SigningRefused, person):
        field = FIELD_OF_REFUSAL.get(refused.reason_code)
        if field:
            self.errors, self.problem = {field: refused.message}, ""
            return focus_error_summary()
        self.errors = {}
        self._show(open_invitation(self._token, signed_in_email=person.email), person)
        if self.status != "signed":
            self.problem = refused.message
        return None
