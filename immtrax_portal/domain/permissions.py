"""Who may do what to which request: the only place those rules live.

Callers pass what they know about the actor (an ``Actor``), built from the database on every
call, never from client state. The same rules decide which buttons a page shows and whether the
action behind a button is allowed (``request_action_refusal`` serves both), so a button is never
shown for an action that would be refused, nor hidden for one that would be allowed.

Two kinds of rule:
- ``Rule``: who may call a page or handler at all (signed in, supervisor, staff, admin). Event
  handlers name one with ``@guarded(Rule.X, ...)`` (``ui/state/session.py``).
- Rules about one thing (a request, an organization, a staff member): functions below that raise
  ``NotAllowed``; services call them before they change anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from immtrax_portal.domain.enums import RequestStatus, Role
from immtrax_portal.domain.workflow import Action, legal_actions


class NotAllowed(PermissionError):
    """The caller may not do this; the message is safe to show them.

    ``target_type``/``target_id`` name what the caller aimed at, when known (it goes into the
    refusal's audit row)."""

    def __init__(self, message: str, *, target_type: str = "", target_id: str | int = "") -> None:
        super().__init__(message)
        self.target_type, self.target_id = target_type, str(target_id)


@dataclass(frozen=True)
class Actor:
    person_id: int
    email: str
    is_staff: bool = False
    is_admin: bool = False
    supervised_org_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def role(self) -> Role:
        if self.is_admin:
            return Role.ADMIN
        if self.is_staff:
            return Role.STAFF
        if self.supervised_org_ids:
            return Role.SUPERVISOR
        return Role.APPLICANT

    @property
    def is_program_staff(self) -> bool:
        return self.is_staff or self.is_admin


class Rule(StrEnum):
    """Who may call a handler at all; a handler names one, the guard applies it."""

    SIGNED_IN = "signed_in"
    SUPERVISOR = "supervisor"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def audit_reason(self) -> str:
        """The short reason an audited page refusal gives ("needs staff")."""
        return "not signed in" if self is Rule.SIGNED_IN else f"needs {self.value}"


SESSION_ENDED = "Your session has ended. Sign in again to continue."
_RULE_REFUSALS = {
    Rule.SUPERVISOR: "Only supervisors registered with the Montana Immunization Program can do this.",
    Rule.STAFF: "Only Montana Immunization Program staff can do this.",
    Rule.ADMIN: "Only program administrators can do this.",
}


def rule_refusal(rule: Rule, actor: Actor | None) -> str | None:
    """Why ``actor`` may not call a handler guarded by ``rule`` (None: they may)."""
    if actor is None:
        return SESSION_ENDED
    allowed = {
        Rule.SIGNED_IN: True,
        Rule.SUPERVISOR: bool(actor.supervised_org_ids),
        Rule.STAFF: actor.is_program_staff,
        Rule.ADMIN: actor.is_admin,
    }[rule]
    return None if allowed else _RULE_REFUSALS[rule]


def require_supervisor_of(actor: Actor, organization_id: int) -> None:
    if organization_id not in actor.supervised_org_ids:
        raise NotAllowed("You are not registered as a supervisor of that organization.")


def require_not_about_self(actor: Actor, subject_person_id: int | None, subject_email: str) -> None:
    """A supervisor can never request, approve or act on their own access."""
    if subject_person_id == actor.person_id or subject_email.strip().lower() == actor.email:
        raise NotAllowed(ABOUT_SELF)


def require_staff(actor: Actor) -> None:
    if not actor.is_program_staff:
        raise NotAllowed(_RULE_REFUSALS[Rule.STAFF])


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed(_RULE_REFUSALS[Rule.ADMIN])


def may_remove_staff_role(actor: Actor, target_is_admin: bool) -> bool:
    """What the staff page shows: a "Remove" button exactly where the removal would be allowed."""
    return actor.is_admin and not target_is_admin


def require_may_remove_staff_role(actor: Actor, target_person_id: int, target_is_admin: bool) -> None:
    """Admins keep the staff role: another admin cannot take it away here."""
    require_admin(actor)
    if not may_remove_staff_role(actor, target_is_admin):
        raise NotAllowed("Administrators keep the staff role; ask another administrator.",
                         target_type="person", target_id=target_person_id)


def require_may_link_supervisor(actor: Actor, organization_id: int, email: str) -> None:
    """Staff link supervisors, never themselves (four eyes on who may submit requests)."""
    require_staff(actor)
    if email.strip().lower() == actor.email:
        raise NotAllowed("You cannot make yourself a supervisor; ask another staff member.",
                         target_type="organization", target_id=organization_id)


def require_roster_reader(actor: Actor, organization_id: int) -> None:
    """An organization's roster: its supervisors, and program staff."""
    if not actor.is_program_staff:
        require_supervisor_of(actor, organization_id)


# --- Actions on a request ---------------------------------------------------------------------

class RequestFacts(Protocol):
    """What the rules need to know about a request (``AccessRequest`` has it)."""

    organization_id: int
    subject_person_id: int
    submitter_id: int


# Decisions that program staff take: four eyes, never on a request one submitted or is about.
REVIEW_ACTIONS = frozenset({Action.QUEUE_FOR_REVIEW, Action.ASK_FOR_INFO, Action.PROVISION,
                            Action.APPLY_LEVEL, Action.CONFIRM_DELETION, Action.REJECT})
# What a supervisor of the request's organization does.
SUPERVISOR_ACTIONS = frozenset({Action.CANCEL, Action.ANSWER_INFO})
# Sending the applicant a new invitation link (a plain resend while the invitation is open, the
# reissue move once it expired): the organization's supervisors, and program staff.
RESEND = Action.REISSUE_INVITATION
RESENDABLE = frozenset({RequestStatus.AWAITING_AGREEMENT, RequestStatus.EXPIRED})
PEOPLE_ACTIONS = REVIEW_ACTIONS | SUPERVISOR_ACTIONS | {RESEND}

FOUR_EYES = ("You cannot decide on a request that you submitted or that is about you, whatever "
             "your roles. Another member of program staff must do it.")
ABOUT_SELF = ("You cannot submit or act on a request about your own access. Ask another supervisor "
              "or the program.")


def _is_about(actor: Actor, request: RequestFacts, subject_email: str) -> bool:
    return (request.subject_person_id == actor.person_id
            or bool(subject_email) and subject_email.strip().lower() == actor.email)


def request_action_refusal(actor: Actor, action: Action, request: RequestFacts,
                           subject_email: str = "") -> str | None:
    """Why ``actor`` may not take ``action`` on ``request`` (None: they may), whatever its
    status (the lifecycle table says which moves exist from which status)."""
    if action in REVIEW_ACTIONS:
        if not actor.is_program_staff:
            return _RULE_REFUSALS[Rule.STAFF]
        if _is_about(actor, request, subject_email) or request.submitter_id == actor.person_id:
            return FOUR_EYES
        return None
    if _is_about(actor, request, subject_email):
        return ABOUT_SELF
    if action == RESEND:
        if actor.is_program_staff or request.organization_id in actor.supervised_org_ids:
            return None
        return "You are not registered as a supervisor of that organization."
    if action in SUPERVISOR_ACTIONS:
        if request.organization_id not in actor.supervised_org_ids:
            return "You are not a supervisor of this request's organization."
        if action == Action.CANCEL and request.submitter_id != actor.person_id:
            return "Only the supervisor who submitted a request can cancel it."
        return None
    return "That action is not available here."


def require_request_action(actor: Actor, action: Action, request: RequestFacts,
                           subject_email: str = "") -> None:
    refusal = request_action_refusal(actor, action, request, subject_email)
    if refusal is not None:
        raise NotAllowed(refusal, target_type="access_request",
                         target_id=getattr(request, "number", "") or "")


def status_allows(action: Action, request) -> bool:
    """Whether the request's status lets ``action`` happen now (the lifecycle's part)."""
    if action == RESEND:
        return request.status in RESENDABLE
    return action in legal_actions(request.request_type, request.status)


def open_actions(actor: Actor, request) -> frozenset[Action]:
    """The people's actions ``actor`` may take on ``request`` now: what buttons show, and exactly
    what the services allow."""
    return frozenset(action for action in PEOPLE_ACTIONS
                     if status_allows(action, request)
                     and request_action_refusal(actor, action, request) is None)


def decisions_withheld(actor: Actor, request, subject_email: str = "") -> str:
    """Why a member of staff sees no decision buttons on a request that is waiting for one: the
    four-eyes rule, said in words instead of buttons that silently went away ("" otherwise)."""
    waiting = [action for action in REVIEW_ACTIONS if status_allows(action, request)]
    if actor.is_program_staff and waiting and all(
            request_action_refusal(actor, action, request, subject_email) == FOUR_EYES
            for action in waiting):
        return FOUR_EYES
    return ""


def may_view_request(actor: Actor, organization_id: int, subject_person_id: int,
                     submitter_id: int) -> bool:
    return (
        actor.is_program_staff
        or organization_id in actor.supervised_org_ids
        or subject_person_id == actor.person_id
        or submitter_id == actor.person_id
    )
