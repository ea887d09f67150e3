"""A request's history reads as sentences: no status code, action code or refusal code reaches a
supervisor or staff member (``domain/event_sentences.py`` is the one place that words them)."""

from __future__ import annotations

import re

import pytest

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.event_sentences import SIGNING_REFUSALS, EventFacts, sentence, status_after
from immtrax_portal.services.signing import REASON_CODES

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|→")


def facts(action, name="Pat O'Connor", role="staff", **more) -> EventFacts:
    return EventFacts(action=str(action), actor_name=name, actor_role=role, **more)


def test_a_question_reads_as_who_asked_what():
    assert sentence(facts(AuditAction.ASK_FOR_INFO, reason="Which clinic will she work at?")) == \
        "Pat O'Connor asked: Which clinic will she work at?"


def test_an_answer_and_a_rejection_carry_their_text():
    assert sentence(facts(AuditAction.ANSWER_INFO, "Dana Whitfield", "supervisor",
                          reason="The Bozeman one.")) == "Dana Whitfield answered: The Bozeman one."
    assert sentence(facts(AuditAction.REJECT, reason="Duplicate.")) == \
        "Pat O'Connor rejected the request. Reason: Duplicate."


def test_a_refused_signature_says_why_in_words():
    text = sentence(facts(AuditAction.SIGN_AGREEMENT_REFUSED, "Nina Newhire", "applicant",
                          outcome=AuditOutcome.DENIED.value, reason="name_mismatch"))
    assert "the typed name did not match the invited name" in text
    assert "name_mismatch" not in text


@pytest.mark.parametrize("code", REASON_CODES)
def test_every_signing_refusal_code_has_words(code):
    assert code in SIGNING_REFUSALS
    assert SIGNING_REFUSALS[code] in sentence(facts(AuditAction.SIGN_AGREEMENT_REFUSED,
                                                    outcome=AuditOutcome.DENIED.value, reason=code))


@pytest.mark.parametrize("action", list(AuditAction))
@pytest.mark.parametrize("outcome", list(AuditOutcome))
def test_every_audit_action_reads_as_a_sentence_without_codes(action, outcome):
    for role, name in (("system", ""), ("staff", "Pat O'Connor"), ("supervisor", "")):
        text = sentence(facts(action, name, role, outcome=outcome.value, reason="", to_status="needs_info",
                              request_type="new_access"))
        assert text[0].isupper() and text.endswith("."), text
        assert not CODE.search(text), text
        assert "{" not in text


def test_the_portal_is_named_when_nobody_acted():
    assert sentence(facts(AuditAction.SEND_INVITATION, "", "system")) == \
        "The portal emailed the invitation to sign the User Agreement."


def test_the_status_after_a_move_is_its_label():
    assert status_after(facts(AuditAction.ASK_FOR_INFO, to_status="needs_info")) == \
        f"Status now: {RequestStatus.NEEDS_INFO.label}"
    assert status_after(facts(AuditAction.STAFF_NOTE_ADDED)) == ""
