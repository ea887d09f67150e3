"""The request lifecycle: one table of legal moves, one function through which every move passes.

``transition`` changes the request's status in memory and returns the audit event that records
the move; the caller persists both in one transaction (see services.requests, which also applies
the optimistic-lock check on ``version``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from immtrax_portal.domain.enums import RequestStatus, RequestType, Role
from immtrax_portal.domain.models import AccessRequest, AuditEvent, utcnow

S = RequestStatus
T = RequestType
AGREEMENT_TYPES = frozenset({T.NEW_ACCESS, T.CHANGE_EMPLOYER})
DIRECT_TYPES = frozenset({T.PERMISSIONS_CHANGE, T.ACCESS_DELETION})
ALL_TYPES = AGREEMENT_TYPES | DIRECT_TYPES


class Action(StrEnum):
    SEND_INVITATION = "send_invitation"
    QUEUE_FOR_REVIEW = "queue_for_review"
    SIGN_AGREEMENT = "sign_agreement"
    EXPIRE_INVITATION = "expire_invitation"
    REISSUE_INVITATION = "reissue_invitation"
    ASK_FOR_INFO = "ask_for_info"
    ANSWER_INFO = "answer_info"
    PROVISION = "provision"
    APPLY_LEVEL = "apply_level"
    CONFIRM_DELETION = "confirm_deletion"
    REJECT = "reject"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Move:
    to: RequestStatus
    types: frozenset[RequestType]
    needs_reason: bool = False


_OPEN = (S.SUBMITTED, S.AWAITING_AGREEMENT, S.IN_REVIEW, S.NEEDS_INFO)

# (from status, action) -> the move, and which request types may make it.
TRANSITIONS: dict[tuple[RequestStatus, Action], Move] = {
    (S.SUBMITTED, Action.SEND_INVITATION): Move(S.AWAITING_AGREEMENT, AGREEMENT_TYPES),
    (S.SUBMITTED, Action.QUEUE_FOR_REVIEW): Move(S.IN_REVIEW, DIRECT_TYPES),
    (S.AWAITING_AGREEMENT, Action.SIGN_AGREEMENT): Move(S.IN_REVIEW, AGREEMENT_TYPES),
    (S.AWAITING_AGREEMENT, Action.EXPIRE_INVITATION): Move(S.EXPIRED, AGREEMENT_TYPES),
    (S.EXPIRED, Action.REISSUE_INVITATION): Move(S.AWAITING_AGREEMENT, AGREEMENT_TYPES),
    (S.IN_REVIEW, Action.ASK_FOR_INFO): Move(S.NEEDS_INFO, ALL_TYPES, needs_reason=True),
    (S.NEEDS_INFO, Action.ANSWER_INFO): Move(S.IN_REVIEW, ALL_TYPES, needs_reason=True),
    (S.IN_REVIEW, Action.PROVISION): Move(S.COMPLETED, AGREEMENT_TYPES),
    (S.IN_REVIEW, Action.APPLY_LEVEL): Move(S.COMPLETED, frozenset({T.PERMISSIONS_CHANGE})),
    (S.IN_REVIEW, Action.CONFIRM_DELETION): Move(S.COMPLETED, frozenset({T.ACCESS_DELETION})),
    **{(s, Action.REJECT): Move(S.REJECTED, ALL_TYPES, needs_reason=True) for s in _OPEN},
    **{(s, Action.CANCEL): Move(S.CANCELLED, ALL_TYPES) for s in _OPEN},
    # Staff close an expired invitation's request for good (the queue's bulk rejection).
    (S.EXPIRED, Action.REJECT): Move(S.REJECTED, AGREEMENT_TYPES, needs_reason=True),
}


class IllegalTransition(ValueError):
    """A move the lifecycle does not allow; the message says which move and why."""


class ReasonRequired(IllegalTransition):
    """A move that needs a written reason (a question, an answer, a rejection) came without one;
    the message asks for it in plain words, for the field where it is typed."""


def legal_actions(request_type: RequestType, status: RequestStatus) -> list[Action]:
    """The actions the lifecycle allows next, in table order (for showing buttons)."""
    return [
        action
        for (from_status, action), move in TRANSITIONS.items()
        if from_status == status and request_type in move.types
    ]


def next_status(request_type: RequestType, status: RequestStatus, action: Action) -> Move:
    """The move for ``action``, or IllegalTransition explaining why there is none."""
    move = TRANSITIONS.get((status, action))
    if move is None:
        allowed = ", ".join(a.value for a in legal_actions(request_type, status)) or "none"
        raise IllegalTransition(
            f"cannot {action.value}: this {request_type.label} request is {status.value}, "
            f"and from {status.value} the allowed actions are {allowed}"
        )
    if request_type not in move.types:
        kinds = ", ".join(sorted(t.label for t in move.types))
        raise IllegalTransition(
            f"cannot {action.value}: this {request_type.label} request is {status.value}, "
            f"and {action.value} applies only to {kinds} requests"
        )
    return move


# What a person is told when a move that needs words gets none: the request page shows it at the
# field before anything is asked, and ``transition`` refuses with it whoever the caller is.
REASON_WANTED = {
    Action.ASK_FOR_INFO: "Enter the question for the supervisor.",
    Action.ANSWER_INFO: "Enter your answer to the program's question.",
    Action.REJECT: "Enter the reason for rejecting the request. The supervisor will read it.",
}
_WORDS_NEEDED = frozenset(action for (_, action), move in TRANSITIONS.items() if move.needs_reason)


def reason_wanted(action: Action) -> str | None:
    """The message for ``action`` taken without words, or None when it needs none."""
    if action not in _WORDS_NEEDED:
        return None
    return REASON_WANTED.get(action, "Enter the reason for this step.")


def transition(
    request: AccessRequest,
    action: Action,
    *,
    actor_id: int | None,
    actor_role: Role,
    reason: str = "",
    source_ip: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Move ``request`` by ``action`` and return the audit event for the move.

    The version is bumped here so that whoever persists the change can guard it with
    ``WHERE version = <old>``; the event is not added to any session.
    """
    move = next_status(request.request_type, request.status, action)
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise ReasonRequired(reason_wanted(action))
    from_status = request.status
    now = utcnow()
    request.status = move.to
    request.version += 1
    request.updated_at = now
    request.status_changed_at = now
    if move.to == S.COMPLETED:
        request.completed_at = now
    if action == Action.REJECT:
        request.rejection_reason = reason
    return AuditEvent(
        occurred_at=now,
        actor_id=actor_id,
        actor_role=actor_role.value,
        organization_id=request.organization_id,
        request_id=request.id,
        action=action.value,
        target_type="access_request",
        target_id=request.number,
        from_status=from_status.value,
        to_status=move.to.value,
        reason=reason,
        source_ip=source_ip,
        details=json.dumps(details or {}, sort_keys=True),
    )
