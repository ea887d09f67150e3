"""A signed User Agreement, for the person who signed it (and program staff)."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services.signed_agreements import signed_agreement_of_request
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.agreement import paragraphs
from immtrax_portal.ui.state.session import SessionState, guarded


class SignedAgreementState(SessionState):
    number: str = ""
    found: bool = False
    problem: str = ""
    facts: list[list[str]] = []
    title: str = ""
    label: str = ""
    text_paragraphs: list[str] = []
    acknowledgements: list[str] = []
    text_verified: bool = False
    pdf_link: str = ""

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.found, self.problem = False, message

    @rx.event
    @guarded(Rule.SIGNED_IN, AuditAction.SIGNED_AGREEMENT_OPEN, page=True)
    def load(self, actor: Actor):
        self.number = self.router.url.query_parameters.get("number", "")[:20]
        signed = signed_agreement_of_request(actor.person_id, self.number)   # NotAllowed: the guard
        if signed is None:
            self.found = False
            self.problem = f"The User Agreement for request {self.number} is not signed yet."
            return None
        self.found, self.problem = True, ""
        self.title, self.label = signed.title, signed.agreement_label
        self.text_paragraphs, self.acknowledgements = paragraphs(signed.body), signed.acknowledgements
        self.text_verified = signed.text_verified
        self.pdf_link = routes.signed_agreement_pdf_url(signed.signature_id)
        self.facts = [["Request", f"{signed.request_number}, {signed.organization_name}"],
                      ["Signed by (typed name)", signed.typed_name],
                      ["Signed on", signed.signed_at_text],
                      ["Okta account", signed.okta_subject], ["From IP address", signed.ip_address],
                      ["Browser", signed.user_agent],
                      ["Agreement text fingerprint (SHA-256)", signed.text_hash]]
        return None
