"""The request lifecycle (DESIGN.md, "Lifecycle"): which moves are legal, and what a move records.

The expected table below is written out by hand from DESIGN.md and the team's decisions; it is
deliberately not derived from ``workflow.TRANSITIONS``, so a wrong entry there fails here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from immtrax_portal.domain.enums import RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest
from immtrax_portal.domain.workflow import (
    Action,
    IllegalTransition,
    ReasonRequired,
    legal_actions,
    next_status,
    transition,
)

S = RequestStatus
T = RequestType
A = Action

NUMBER = "IMR-2026-000001"
LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

AGREEMENT_TYPES = {T.NEW_ACCESS, T.CHANGE_EMPLOYER}
PERMISSIONS_CHANGE = {T.PERMISSIONS_CHANGE}
ACCESS_DELETION = {T.ACCESS_DELETION}
DIRECT_TYPES = PERMISSIONS_CHANGE | ACCESS_DELETION
EVERY_TYPE = AGREEMENT_TYPES | DIRECT_TYPES

# (from status, action) -> (to status, the request types that may make the move).
# Every triple not listed here must be refused.
EXPECTED_MOVES: dict[tuple[RequestStatus, Action], tuple[RequestStatus, set[RequestType]]] = {
    # submitted: agreement types invite the applicant, the others go straight to staff.
    (S.SUBMITTED, A.SEND_INVITATION): (S.AWAITING_AGREEMENT, AGREEMENT_TYPES),
    (S.SUBMITTED, A.QUEUE_FOR_REVIEW): (S.IN_REVIEW, DIRECT_TYPES),
    (S.SUBMITTED, A.REJECT): (S.REJECTED, EVERY_TYPE),
    (S.SUBMITTED, A.CANCEL): (S.CANCELLED, EVERY_TYPE),
    # awaiting_agreement: signed -> staff review; unused -> expired; any open state may end.
    (S.AWAITING_AGREEMENT, A.SIGN_AGREEMENT): (S.IN_REVIEW, AGREEMENT_TYPES),
    (S.AWAITING_AGREEMENT, A.EXPIRE_INVITATION): (S.EXPIRED, AGREEMENT_TYPES),
    (S.AWAITING_AGREEMENT, A.REJECT): (S.REJECTED, EVERY_TYPE),
    (S.AWAITING_AGREEMENT, A.CANCEL): (S.CANCELLED, EVERY_TYPE),
    # expired: only a new invitation brings it back.
    (S.EXPIRED, A.REISSUE_INVITATION): (S.AWAITING_AGREEMENT, AGREEMENT_TYPES),
    # in_review: staff finish it the way its type needs, ask a question, or end it.
    (S.IN_REVIEW, A.ASK_FOR_INFO): (S.NEEDS_INFO, EVERY_TYPE),
    (S.IN_REVIEW, A.PROVISION): (S.COMPLETED, AGREEMENT_TYPES),
    (S.IN_REVIEW, A.APPLY_LEVEL): (S.COMPLETED, PERMISSIONS_CHANGE),
    (S.IN_REVIEW, A.CONFIRM_DELETION): (S.COMPLETED, ACCESS_DELETION),
    (S.IN_REVIEW, A.REJECT): (S.REJECTED, EVERY_TYPE),
    (S.IN_REVIEW, A.CANCEL): (S.CANCELLED, EVERY_TYPE),
    # needs_info: the supervisor answers, or it ends.
    (S.NEEDS_INFO, A.ANSWER_INFO): (S.IN_REVIEW, EVERY_TYPE),
    (S.NEEDS_INFO, A.REJECT): (S.REJECTED, EVERY_TYPE),
    (S.NEEDS_INFO, A.CANCEL): (S.CANCELLED, EVERY_TYPE),
    # expired: a new invitation, or staff close it for good with a reason (bulk in the queue).
    (S.EXPIRED, A.REJECT): (S.REJECTED, AGREEMENT_TYPES),
    # completed, rejected, cancelled: nothing.
}

REASON_REQUIRED = {A.REJECT, A.ASK_FOR_INFO, A.ANSWER_INFO}
TERMINAL = [S.COMPLETED, S.REJECTED, S.CANCELLED]


def expected_to(request_type: RequestType, status: RequestStatus, action: Action):
    move = EXPECTED_MOVES.get((status, action))
    if move is None or request_type not in move[1]:
        return None
    return move[0]


def expected_actions(request_type: RequestType, status: RequestStatus) -> set[Action]:
    return {a for a in Action if expected_to(request_type, status, a) is not None}


def make_request(request_type: RequestType, status: RequestStatus, *, version: int = 3):
    return AccessRequest(
        id=1,
        number=NUMBER,
        request_type=request_type,
        status=status,
        organization_id=1,
        submitter_id=1,
        subject_person_id=2,
        idempotency_key="k",
        version=version,
        created_at=LONG_AGO,
        updated_at=LONG_AGO,
        status_changed_at=LONG_AGO,
    )


def act(request: AccessRequest, action: Action, reason: str = "Checked with the supervisor"):
    return transition(request, action, actor_id=7, actor_role=Role.STAFF, reason=reason)


def snapshot(request: AccessRequest) -> dict:
    return {
        "status": request.status,
        "version": request.version,
        "updated_at": request.updated_at,
        "status_changed_at": request.status_changed_at,
        "completed_at": request.completed_at,
        "rejection_reason": request.rejection_reason,
    }


ALL_TRIPLES = [(t, s, a) for t in RequestType for s in RequestStatus for a in Action]
WRONG_TYPE_TRIPLES = [
    (t, s, a)
    for (t, s, a) in ALL_TRIPLES
    if (s, a) in EXPECTED_MOVES and t not in EXPECTED_MOVES[(s, a)][1]
]


def triple_id(triple) -> str:
    t, s, a = triple
    return f"{t.value}-{s.value}-{a.value}"


# --- The whole table, triple by triple -------------------------------------------------------


def test_the_walk_covers_every_request_type_status_and_action():
    assert (len(RequestType), len(RequestStatus), len(Action)) == (4, 8, 12)
    assert len(ALL_TRIPLES) == 384


@pytest.mark.parametrize("triple", ALL_TRIPLES, ids=triple_id)
def test_every_state_and_action_pair_is_legal_only_where_design_allows(triple):
    request_type, status, action = triple
    request = make_request(request_type, status)
    before = snapshot(request)
    to = expected_to(request_type, status, action)

    if to is None:
        with pytest.raises(IllegalTransition) as refused:
            act(request, action)
        message = str(refused.value)
        assert action.value in message
        if (status, action) in EXPECTED_MOVES:
            # The move exists, but not for this kind of request: the message says the type.
            assert request_type.label in message
        else:
            assert status.value in message or status.label in message
        assert snapshot(request) == before
        with pytest.raises(IllegalTransition):
            next_status(request_type, status, action)
        return

    assert next_status(request_type, status, action).to == to
    event = act(request, action)

    assert request.status == to
    assert request.version == before["version"] + 1
    assert request.status_changed_at is not None
    assert request.status_changed_at > LONG_AGO
    assert request.status_changed_at.utcoffset().total_seconds() == 0
    assert request.updated_at == request.status_changed_at
    if to == S.COMPLETED:
        assert request.completed_at == request.status_changed_at
    else:
        assert request.completed_at is None
    if action == A.REJECT:
        assert request.rejection_reason == "Checked with the supervisor"
    else:
        assert request.rejection_reason == ""

    assert event.from_status == status.value
    assert event.to_status == to.value
    assert event.action == action.value
    assert event.actor_id == 7
    assert event.actor_role == Role.STAFF.value
    assert event.request_id == 1
    assert event.organization_id == 1
    assert event.target_type == "access_request"
    assert event.target_id == NUMBER
    assert event.reason == "Checked with the supervisor"
    assert event.occurred_at == request.status_changed_at


@pytest.mark.parametrize("triple", WRONG_TYPE_TRIPLES, ids=triple_id)
def test_refusal_for_the_wrong_request_type_also_names_the_current_status(triple):
    request_type, status, action = triple
    request = make_request(request_type, status)
    with pytest.raises(IllegalTransition) as refused:
        act(request, action)
    message = str(refused.value)
    assert action.value in message
    assert request_type.label in message
    assert status.value in message or status.label in message


@pytest.mark.parametrize(
    ("request_type", "status"),
    [(t, s) for t in RequestType for s in RequestStatus],
    ids=lambda v: v.value,
)
def test_legal_actions_lists_exactly_the_buttons_to_show(request_type, status):
    actions = legal_actions(request_type, status)
    assert len(actions) == len(set(actions))
    assert set(actions) == expected_actions(request_type, status)


# --- The journeys DESIGN.md describes ----------------------------------------------------------


def test_new_access_waits_for_agreement_after_invitation():
    request = make_request(T.NEW_ACCESS, S.SUBMITTED)
    act(request, A.SEND_INVITATION)
    assert request.status == S.AWAITING_AGREEMENT
    assert set(legal_actions(T.NEW_ACCESS, S.AWAITING_AGREEMENT)) == {
        A.SIGN_AGREEMENT,
        A.EXPIRE_INVITATION,
        A.REJECT,
        A.CANCEL,
    }
    with pytest.raises(IllegalTransition):
        act(request, A.PROVISION)


@pytest.mark.parametrize("request_type", sorted(AGREEMENT_TYPES), ids=lambda t: t.value)
def test_agreement_requests_reach_review_only_once_the_agreement_is_signed(request_type):
    request = make_request(request_type, S.SUBMITTED, version=1)
    act(request, A.SEND_INVITATION)
    act(request, A.SIGN_AGREEMENT)
    assert request.status == S.IN_REVIEW
    act(request, A.ASK_FOR_INFO, reason="Which clinic site?")
    act(request, A.ANSWER_INFO, reason="The Helena site")
    event = act(request, A.PROVISION)
    assert request.status == S.COMPLETED
    assert request.version == 6
    assert request.completed_at is not None
    assert (event.from_status, event.to_status) == ("in_review", "completed")


def test_agreement_requests_cannot_skip_the_agreement_and_go_straight_to_review():
    for request_type in AGREEMENT_TYPES:
        with pytest.raises(IllegalTransition, match="queue_for_review"):
            act(make_request(request_type, S.SUBMITTED), A.QUEUE_FOR_REVIEW)


def test_permissions_change_goes_straight_to_review_without_an_agreement():
    request = make_request(T.PERMISSIONS_CHANGE, S.SUBMITTED)
    with pytest.raises(IllegalTransition, match="User Permissions Change"):
        act(request, A.SEND_INVITATION)
    act(request, A.QUEUE_FOR_REVIEW)
    assert request.status == S.IN_REVIEW
    with pytest.raises(IllegalTransition):
        act(request, A.CONFIRM_DELETION)
    act(request, A.APPLY_LEVEL)
    assert request.status == S.COMPLETED


def test_access_deletion_is_completed_when_staff_confirm():
    request = make_request(T.ACCESS_DELETION, S.SUBMITTED)
    act(request, A.QUEUE_FOR_REVIEW)
    with pytest.raises(IllegalTransition):
        act(request, A.APPLY_LEVEL)
    with pytest.raises(IllegalTransition):
        act(request, A.PROVISION)
    act(request, A.CONFIRM_DELETION)
    assert request.status == S.COMPLETED
    assert request.completed_at is not None


def test_an_unused_invitation_expires_and_a_new_one_can_be_sent():
    request = make_request(T.CHANGE_EMPLOYER, S.AWAITING_AGREEMENT)
    event = transition(request, A.EXPIRE_INVITATION, actor_id=None, actor_role=Role.SYSTEM)
    assert request.status == S.EXPIRED
    assert (event.actor_id, event.actor_role) == (None, "system")
    assert legal_actions(T.CHANGE_EMPLOYER, S.EXPIRED) == [A.REISSUE_INVITATION, A.REJECT]
    act(request, A.REISSUE_INVITATION)
    assert request.status == S.AWAITING_AGREEMENT


def test_an_expired_request_is_no_longer_open_so_it_cannot_be_cancelled():
    request = make_request(T.NEW_ACCESS, S.EXPIRED)
    with pytest.raises(IllegalTransition, match="expired"):
        act(request, A.CANCEL)
    assert request.status == S.EXPIRED


def test_staff_close_an_expired_request_for_good_by_rejecting_it_with_a_reason():
    request = make_request(T.NEW_ACCESS, S.EXPIRED)
    with pytest.raises(IllegalTransition, match="reason"):
        transition(request, A.REJECT, actor_id=1, actor_role=Role.STAFF)
    transition(request, A.REJECT, actor_id=1, actor_role=Role.STAFF, reason="No answer in 14 days")
    assert (request.status, request.rejection_reason) == (S.REJECTED, "No answer in 14 days")


@pytest.mark.parametrize("status", TERMINAL, ids=lambda s: s.value)
@pytest.mark.parametrize("request_type", list(RequestType), ids=lambda t: t.value)
def test_terminal_states_allow_nothing(request_type, status):
    assert legal_actions(request_type, status) == []
    for action in Action:
        request = make_request(request_type, status)
        with pytest.raises(IllegalTransition, match=status.value):
            act(request, action)
        assert (request.status, request.version) == (status, 3)


# --- Reasons ------------------------------------------------------------------------------------

REASON_MOVES = [
    (t, s, a)
    for (s, a), (_, types) in EXPECTED_MOVES.items()
    if a in REASON_REQUIRED
    for t in sorted(types)
]


def test_the_reason_requiring_moves_are_reject_ask_for_info_and_answer_info():
    assert {a for _, _, a in REASON_MOVES} == REASON_REQUIRED


@pytest.mark.parametrize("reason", ["", "   ", " \t\n "], ids=["empty", "spaces", "whitespace"])
@pytest.mark.parametrize("triple", REASON_MOVES, ids=triple_id)
def test_reject_and_questions_and_answers_need_a_real_reason(triple, reason):
    request_type, status, action = triple
    request = make_request(request_type, status)
    before = snapshot(request)
    with pytest.raises(ReasonRequired, match="^Enter ") as refused:
        act(request, action, reason=reason)
    assert "_" not in str(refused.value) and "needs a reason" not in str(refused.value)  # no codes
    assert isinstance(refused.value, IllegalTransition)
    assert snapshot(request) == before


def test_rejection_stores_the_reason_the_supervisor_will_see():
    request = make_request(T.NEW_ACCESS, S.IN_REVIEW)
    event = act(request, A.REJECT, reason="  Applicant is not employed by this organization  ")
    assert request.status == S.REJECTED
    assert request.rejection_reason == "Applicant is not employed by this organization"
    assert event.reason == request.rejection_reason


def test_cancel_is_the_submitters_choice_and_needs_no_reason():
    request = make_request(T.ACCESS_DELETION, S.SUBMITTED)
    event = transition(request, A.CANCEL, actor_id=1, actor_role=Role.SUPERVISOR)
    assert request.status == S.CANCELLED
    assert (event.actor_id, event.actor_role, event.reason) == (1, "supervisor", "")
    assert request.rejection_reason == ""


def test_the_audit_event_keeps_the_source_address_and_details():
    request = make_request(T.NEW_ACCESS, S.IN_REVIEW)
    event = transition(
        request,
        A.PROVISION,
        actor_id=7,
        actor_role=Role.STAFF,
        source_ip="203.0.113.9",
        details={"immtrax_username": "jdoe"},
    )
    assert event.source_ip == "203.0.113.9"
    assert json.loads(event.details) == {"immtrax_username": "jdoe"}
    assert event.id is None  # the caller persists it, in the same transaction as the request
