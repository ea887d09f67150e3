"""A request's history in words: each audit event as one sentence a supervisor or staff member reads.

The one place that turns an ``AuditAction`` (and the lifecycle move it records) into text for
people. No code (``in_review``, ``name_mismatch``) reaches a page; an event this module does not
know still reads as a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from immtrax_portal.domain.audit_actions import AuditAction as A
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus, RequestType, Role

# Why a signing attempt was refused (``services.signing.REASON_CODES``), as the history says it.
SIGNING_REFUSALS = {
    "expired": "the invitation had expired",
    "used": "the invitation had already been used",
    "revoked": "a newer invitation had replaced that link",
    "unknown": "the link was not recognised",
    "wrong_identity": "the person signed in with an account whose email is not the invited one",
    "name_mismatch": "the typed name did not match the invited name",
    "acknowledgements_missing": "not every statement of the agreement was ticked",
    "agreement_changed": "the agreement was updated while it was being read",
    "request_changed": "the request changed while it was being signed",
    "unavailable": "the agreement was not available",
}

# Sentences for "{who} …"; a "{text}" is the question, answer or reason given with the event.
_DONE = {
    A.SUBMIT: "{who} submitted this {type} request.",
    A.SEND_INVITATION: "{who} emailed the invitation to sign the User Agreement.",
    A.QUEUE_FOR_REVIEW: "{who} started the review.",
    A.SIGN_AGREEMENT: "{who} signed the User Agreement.",
    A.EXPIRE_INVITATION: "The invitation expired before the User Agreement was signed.",
    A.REISSUE_INVITATION: "{who} sent a new invitation.",
    A.RESEND_INVITATION: "{who} sent the invitation again.",
    A.INVITATION_REMINDER: "{who} emailed a reminder to sign the User Agreement.",
    A.ASK_FOR_INFO: "{who} asked: {text}",
    A.ANSWER_INFO: "{who} answered: {text}",
    A.PROVISION: "{who} marked the login credentials sent and completed the request.",
    A.APPLY_LEVEL: "{who} applied the new access level and completed the request.",
    A.CONFIRM_DELETION: "{who} confirmed the access is removed and completed the request.",
    A.REJECT: "{who} rejected the request. Reason: {text}",
    A.CANCEL: "{who} cancelled the request.",
    A.SUSPEND_GRANT: "The person's access was suspended until the program confirms the removal.",
    A.GRANT_PROVISION: "The person's access is now active.",
    A.GRANT_APPLY_LEVEL: "The person's access level is changed.",
    A.GRANT_REJECT: "The person's access is restored.",
    A.GRANT_CANCEL: "The person's access is restored.",
    A.STAFF_NOTE_ADDED: "{who} added an internal note.",
    A.ASSIGN_OWNER: "{who} changed who on the program's staff owns this request.",
    A.CLOCK_NOTICE: "The program's clock passed {text}; the owner was told.",
}
# With a text where the plain sentence has none, and without one where it expects one.
_DONE_WITH_TEXT = {
    A.CANCEL: "{who} cancelled the request. Reason: {text}",
    A.ASSIGN_OWNER: "{who} changed who on the program's staff owns this request. Note: {text}",
}
_DONE_WITHOUT_TEXT = {
    A.ASK_FOR_INFO: "{who} asked the supervisor a question.",
    A.ANSWER_INFO: "{who} answered the program's question.",
    A.REJECT: "{who} rejected the request.",
}


@dataclass(frozen=True)
class EventFacts:
    """What the history knows of one audit event."""

    action: str
    actor_name: str          # "" when no person acted (the portal itself, or unknown)
    actor_role: str
    outcome: str = AuditOutcome.SUCCESS.value
    reason: str = ""
    to_status: str | None = None
    request_type: str = ""


def who(facts: EventFacts) -> str:
    if facts.actor_name.strip():
        return facts.actor_name.strip()
    if facts.actor_role == Role.SYSTEM.value or not facts.actor_role:
        return "The portal"
    return {Role.STAFF.value: "Program staff", Role.ADMIN.value: "Program staff",
            Role.SUPERVISOR.value: "A supervisor", Role.APPLICANT.value: "The applicant"}.get(
        facts.actor_role, "Someone")


def _type_label(value: str) -> str:
    try:
        return RequestType(value).label
    except ValueError:
        return "access"


def sentence(facts: EventFacts) -> str:
    """The event as one sentence."""
    action = A.parse(facts.action)
    actor, text = who(facts), facts.reason.strip()
    if action == A.SIGN_AGREEMENT_REFUSED:
        why = SIGNING_REFUSALS.get(text, "the attempt could not be accepted")
        return f"{actor} tried to sign the User Agreement, but {why}. Nothing was signed."
    if facts.outcome != AuditOutcome.SUCCESS.value:
        return f"{actor} tried to act on the request and was refused. Nothing changed."
    if action is None or action not in _DONE:
        return f"{actor} updated the request."
    template = _DONE[action]
    if text and action in _DONE_WITH_TEXT:
        template = _DONE_WITH_TEXT[action]
    elif not text and action in _DONE_WITHOUT_TEXT:
        template = _DONE_WITHOUT_TEXT[action]
    return template.format(who=actor, text=text, type=_type_label(facts.request_type))


def status_after(facts: EventFacts) -> str:
    """"Now: In review" for a move of the lifecycle, "" otherwise."""
    if not facts.to_status or facts.outcome != AuditOutcome.SUCCESS.value:
        return ""
    try:
        return f"Status now: {RequestStatus(facts.to_status).label}"
    except ValueError:
        return ""
