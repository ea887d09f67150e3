"""Where a request stands, in words: its stages, and whom it is waiting on, for the person looking.

A request's status alone does not tell a supervisor what to do next; the tracker says it: "waiting
on the applicant" or "waiting on you". The words are relative to the viewer (the supervisor of the
organization or the applicant the request is about), so the same request reads right for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from immtrax_portal.domain.enums import RequestStatus, RequestType

S = RequestStatus


class Viewer(StrEnum):
    SUPERVISOR = "supervisor"
    APPLICANT = "applicant"


class Party(StrEnum):
    """Whose move it is."""

    YOU = "you"
    APPLICANT = "applicant"
    SUPERVISOR = "supervisor"
    PROGRAM = "program"
    NOBODY = "nobody"


@dataclass(frozen=True)
class Stage:
    label: str
    state: str  # "done", "current", "stopped" or "todo"

    @property
    def state_text(self) -> str:
        """Said in words too, so the tracker never depends on colour."""
        return {"done": "done", "current": "current stage", "stopped": "stopped here",
                "todo": "not yet"}[self.state]


AGREEMENT_STAGES = ("Submitted", "User Agreement", "Program review", "Complete")
DIRECT_STAGES = ("Submitted", "Program review", "Complete")


def stage_index(request_type: RequestType, status: RequestStatus, reached: int = 0) -> int:
    """Index of the stage a request in ``status`` is at; ``reached`` for the closed ones."""
    with_agreement = request_type.needs_agreement
    review = 2 if with_agreement else 1
    return {
        S.SUBMITTED: 0,
        S.AWAITING_AGREEMENT: 1,
        S.EXPIRED: 1,
        S.IN_REVIEW: review,
        S.NEEDS_INFO: review,
        S.COMPLETED: review + 1,
    }.get(status, reached)


def stages(request_type: RequestType, status: RequestStatus, *, reached: int = 0) -> list[Stage]:
    """Every stage of this type of request with its state. ``reached`` is the stage a rejected or
    cancelled request had come to (their status alone does not say)."""
    labels = AGREEMENT_STAGES if request_type.needs_agreement else DIRECT_STAGES
    at = min(stage_index(request_type, status, reached), len(labels) - 1)
    closed_early = status in (S.REJECTED, S.CANCELLED, S.EXPIRED)
    result = []
    for index, label in enumerate(labels):
        if status == S.COMPLETED or index < at:
            state = "done"
        elif index == at:
            state = "stopped" if closed_early else "current"
        else:
            state = "todo"
        result.append(Stage(label, state))
    return result


def waiting_on(status: RequestStatus, viewer: Viewer) -> Party:
    """Whose move it is, from the viewer's side."""
    if not status.is_open and status != S.EXPIRED:
        return Party.NOBODY
    if status in (S.SUBMITTED, S.IN_REVIEW):
        return Party.PROGRAM
    if viewer == Viewer.SUPERVISOR:
        return {S.AWAITING_AGREEMENT: Party.APPLICANT, S.NEEDS_INFO: Party.YOU, S.EXPIRED: Party.YOU}[status]
    return {S.AWAITING_AGREEMENT: Party.YOU, S.NEEDS_INFO: Party.SUPERVISOR,
            S.EXPIRED: Party.SUPERVISOR}[status]


_WAITING_TEXT = {
    (Viewer.SUPERVISOR, S.AWAITING_AGREEMENT): "Waiting on the applicant to sign the User Agreement",
    (Viewer.SUPERVISOR, S.NEEDS_INFO): "Waiting on you: answer the program's question",
    (Viewer.SUPERVISOR, S.EXPIRED): "Waiting on you: the invitation expired; resend it or let it be",
    (Viewer.APPLICANT, S.AWAITING_AGREEMENT): "Waiting on you: sign the User Agreement",
    (Viewer.APPLICANT, S.NEEDS_INFO): "Waiting on your supervisor to answer the program's question",
    (Viewer.APPLICANT, S.EXPIRED): "The invitation expired; your supervisor can send a new one",
}


def waiting_text(status: RequestStatus, viewer: Viewer) -> str:
    if (viewer, status) in _WAITING_TEXT:
        return _WAITING_TEXT[(viewer, status)]
    if status in (S.SUBMITTED, S.IN_REVIEW):
        return "Waiting on the program to review"
    return f"Closed: {status.label.lower()}"
