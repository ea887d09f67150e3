"""The one rulebook: every (person, request type, status, action) walked, and for each the button a
page shows equals what the service behind the button allows. No database: the pages' and the
services' own decision functions are called on plain request objects."""

from __future__ import annotations

import itertools

import pytest

from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.models import AccessRequest, Person
from immtrax_portal.domain.permissions import (
    FOUR_EYES,
    RESEND,
    REVIEW_ACTIONS,
    Actor,
    NotAllowed,
    Rule,
    decisions_withheld,
    open_actions,
    request_action_refusal,
    rule_refusal,
)
from immtrax_portal.domain.tracker import Viewer
from immtrax_portal.domain.workflow import Action, IllegalTransition, next_status
from immtrax_portal.services.dashboards import row_buttons
from immtrax_portal.services.reminders import require_may_resend, require_resendable
from immtrax_portal.services.request_actions import may_act
from immtrax_portal.services.request_detail import _allowed_actions

ORG, OTHER_ORG = 1, 2
SUBMITTER, SUBJECT = 10, 20
SUBJECT_EMAIL = "subject@alpha.example"

PEOPLE = {
    "the submitting supervisor": Actor(SUBMITTER, "sub@alpha.example", supervised_org_ids=frozenset({ORG})),
    "another supervisor of the organization": Actor(11, "other@alpha.example",
                                                    supervised_org_ids=frozenset({ORG})),
    "a supervisor elsewhere": Actor(12, "far@beta.example", supervised_org_ids=frozenset({OTHER_ORG})),
    "the applicant": Actor(SUBJECT, SUBJECT_EMAIL),
    "staff": Actor(30, "staff@mt.example", is_staff=True),
    "an admin": Actor(31, "admin@mt.example", is_admin=True),
    "staff who submitted it": Actor(SUBMITTER, "sub@alpha.example", is_staff=True,
                                    supervised_org_ids=frozenset({ORG})),
    "staff it is about": Actor(SUBJECT, SUBJECT_EMAIL, is_staff=True),
    "an admin who supervises the organization": Actor(32, "boss@alpha.example", is_admin=True,
                                                      supervised_org_ids=frozenset({ORG})),
}
SUBJECT_PERSON = Person(id=SUBJECT, email=SUBJECT_EMAIL, first_name="Sub", last_name="Ject")


def request(request_type: RequestType, status: RequestStatus) -> AccessRequest:
    return AccessRequest(id=5, number="IMR-2026-000005", organization_id=ORG, submitter_id=SUBMITTER,
                         subject_person_id=SUBJECT, request_type=request_type, status=status, version=1)


def service_allows(actor: Actor, action: Action, req: AccessRequest) -> bool:
    """What the service behind a button decides, up to the point where it would write."""
    try:
        if action == RESEND:
            require_may_resend(actor, req, SUBJECT_PERSON)
            require_resendable(req)
        else:
            may_act(actor, req, action)
            next_status(req.request_type, req.status, action)
    except (NotAllowed, IllegalTransition):
        return False
    return True


WALK = list(itertools.product(PEOPLE, RequestType, RequestStatus))


@pytest.mark.parametrize(("who", "request_type", "status"), WALK)
def test_a_dashboard_shows_a_button_exactly_when_its_action_is_allowed(who, request_type, status):
    actor, req = PEOPLE[who], request(request_type, status)
    shown = row_buttons(actor, Viewer.SUPERVISOR, req)
    assert shown == {"can_cancel": service_allows(actor, Action.CANCEL, req),
                     "can_resend": service_allows(actor, RESEND, req),
                     "can_answer": service_allows(actor, Action.ANSWER_INFO, req)}


@pytest.mark.parametrize(("who", "request_type", "status"), WALK)
def test_a_request_page_offers_exactly_the_actions_it_would_allow(who, request_type, status):
    actor, req = PEOPLE[who], request(request_type, status)
    offered = {Action(a["action"]) for a in _allowed_actions(actor, req)}
    allowed = {a for a in Action if a != RESEND and service_allows(actor, a, req)}
    assert offered == allowed


@pytest.mark.parametrize("who", ["staff who submitted it", "staff it is about"])
def test_nobody_decides_on_a_request_they_submitted_or_that_is_about_them(who):
    actor = PEOPLE[who]
    for request_type, status in itertools.product(RequestType, RequestStatus):
        req = request(request_type, status)
        assert not open_actions(actor, req) & REVIEW_ACTIONS
        for action in REVIEW_ACTIONS:
            assert request_action_refusal(actor, action, req) == FOUR_EYES
            assert not service_allows(actor, action, req)


def test_another_member_of_staff_may_decide_the_same_request():
    req = request(RequestType.PERMISSIONS_CHANGE, RequestStatus.IN_REVIEW)
    assert {Action.APPLY_LEVEL, Action.ASK_FOR_INFO, Action.REJECT} <= open_actions(PEOPLE["staff"], req)


def test_the_subject_is_recognised_by_email_too():
    stranger_id = Actor(99, SUBJECT_EMAIL, is_staff=True)
    req = request(RequestType.NEW_ACCESS, RequestStatus.IN_REVIEW)
    assert request_action_refusal(stranger_id, Action.PROVISION, req, SUBJECT_EMAIL) == FOUR_EYES


@pytest.mark.parametrize(("rule", "who", "allowed"), [
    (Rule.SIGNED_IN, "the applicant", True), (Rule.SUPERVISOR, "the applicant", False),
    (Rule.SUPERVISOR, "a supervisor elsewhere", True), (Rule.STAFF, "a supervisor elsewhere", False),
    (Rule.STAFF, "an admin", True), (Rule.ADMIN, "staff", False), (Rule.ADMIN, "an admin", True),
])
def test_each_rule_admits_exactly_its_people(rule, who, allowed):
    assert (rule_refusal(rule, PEOPLE[who]) is None) is allowed


@pytest.mark.parametrize("rule", list(Rule))
def test_every_rule_refuses_someone_who_is_not_signed_in(rule):
    assert "session has ended" in rule_refusal(rule, None)


@pytest.mark.parametrize("who", ["staff who submitted it", "staff it is about"])
def test_staff_told_why_they_cannot_decide_on_their_own_request(who):
    req = request(RequestType.PERMISSIONS_CHANGE, RequestStatus.IN_REVIEW)
    assert decisions_withheld(PEOPLE[who], req, SUBJECT_EMAIL) == FOUR_EYES


@pytest.mark.parametrize("who", ["staff", "the submitting supervisor", "the applicant"])
def test_nobody_else_is_told_decisions_are_withheld(who):
    req = request(RequestType.PERMISSIONS_CHANGE, RequestStatus.IN_REVIEW)
    assert decisions_withheld(PEOPLE[who], req, SUBJECT_EMAIL) == ""


def test_no_withheld_note_on_a_closed_request():
    req = request(RequestType.PERMISSIONS_CHANGE, RequestStatus.COMPLETED)
    assert decisions_withheld(PEOPLE["staff who submitted it"], req, SUBJECT_EMAIL) == ""
