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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from immtrax_portal.domain.enums import DelegationKind, RequestStatus, Role
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
    # Whom this person stands in for today: (kind, delegator's person id, organization id or 0),
    # from the delegations that name them directly (``covering_today``), read fresh every time.
    covering: frozenset[tuple[str, int, int]] = field(default_factory=frozenset)

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
        if action == Action.CANCEL and not may_act_for(actor, request.submitter_id,
                                                        DelegationKind.SUPERVISOR, request.organization_id):
            return ("Only the supervisor who submitted a request, or their backup while they are "
                    "away, can cancel it.")
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


# --- Owning a request, and deciding on many at once (the staff queue) --------------------------

NOT_STAFF_ASSIGNEE = "Requests can be assigned only to program staff."
ASSIGNEE_FOUR_EYES = ("{name} submitted this request or it is about them, so they cannot work on it. "
                      "Choose another member of program staff.")
NOT_OPEN_TO_ASSIGN = "This request is closed; only open requests can be assigned."
NOT_FOR_BULK_REJECT = ("Only expired requests and likely duplicates can be rejected together; open "
                       "this request to decide on it.")


def assign_refusal(actor: Actor, request: RequestFacts, *, request_is_open: bool,
                   assignee_id: int, assignee_is_staff: bool, assignee_name: str,
                   subject_email: str = "", assignee_email: str = "") -> str | None:
    """Why ``actor`` may not make ``assignee`` the owner of ``request`` (None: they may). The owner
    decides on the request, so the four-eyes rule holds for them, and for whoever assigns it."""
    if not actor.is_program_staff:
        return _RULE_REFUSALS[Rule.STAFF]
    if _is_about(actor, request, subject_email) or request.submitter_id == actor.person_id:
        return FOUR_EYES
    if not request_is_open:
        return NOT_OPEN_TO_ASSIGN
    if not assignee_is_staff:
        return NOT_STAFF_ASSIGNEE
    if (request.subject_person_id == assignee_id or request.submitter_id == assignee_id
            or bool(subject_email) and subject_email.strip().lower() == assignee_email.strip().lower()):
        return ASSIGNEE_FOUR_EYES.format(name=assignee_name or "That person")
    return None


def bulk_reject_refusal(actor: Actor, request, *, is_expired: bool, is_likely_duplicate: bool,
                        subject_email: str = "") -> str | None:
    """Why ``actor`` may not reject ``request`` as one of several (None: they may): the four-eyes
    rule of every rejection, and only for the housekeeping cases (expired, likely duplicate)."""
    refusal = request_action_refusal(actor, Action.REJECT, request, subject_email)
    if refusal is not None:
        return refusal
    if not (is_expired or is_likely_duplicate):
        return NOT_FOR_BULK_REJECT
    if not status_allows(Action.REJECT, request):
        return "This request can no longer be rejected: it is closed."
    return None


# --- Standing in for someone: backups while away -----------------------------------------------

# The longest range one delegation may cover, and how far ahead it may start.
MAX_COVER_DAYS = 92
MAX_COVER_LEAD_DAYS = 366


@dataclass(frozen=True)
class Cover:
    """One delegation, as the rules need it: ``delegate`` stands in for ``delegator`` from
    ``starts_on`` to ``ends_on`` (program days, both included), for their requests at
    ``organization_id`` (kind supervisor) or their assigned requests (kind staff, organization 0)."""

    kind: DelegationKind
    delegator_id: int
    delegate_id: int
    starts_on: date
    ends_on: date
    organization_id: int = 0
    ended: bool = False

    def is_active(self, today: date) -> bool:
        """In force on ``today``: ends by itself after ``ends_on``, or when ended early."""
        return not self.ended and self.starts_on <= today <= self.ends_on


def covering_today(person_id: int, covers: Iterable[Cover], today: date) -> frozenset[tuple[str, int, int]]:
    """Whom ``person_id`` stands in for on ``today``: only delegations that name them directly.

    It does not pass on: a backup's own backup gets nothing of the first supervisor's, because
    only the delegator's own requests are covered, never what the delegator covers in turn."""
    return frozenset((c.kind.value, c.delegator_id, c.organization_id) for c in covers
                     if c.delegate_id == person_id and c.delegator_id != person_id and c.is_active(today))


def may_act_for(actor: Actor, person_id: int, kind: DelegationKind = DelegationKind.SUPERVISOR,
                organization_id: int = 0) -> bool:
    """Whether ``actor`` may act as ``person_id`` does on their own work: they are that person, or
    that person named them for ``kind`` (at ``organization_id``) and the range covers today.

    The staff side passes the request's owner and ``DelegationKind.STAFF``."""
    return person_id == actor.person_id or (kind.value, person_id, organization_id) in actor.covering


def acting_for(actor: Actor, request: RequestFacts) -> int | None:
    """The absent person ``actor`` acts for on ``request`` (None when it is their own, or not
    covered): what an action's audit event names beside the actor. A supervisor's backup acts for
    the submitter; a member of staff's backup for the request's owner."""
    if request.submitter_id != actor.person_id:
        covered = (DelegationKind.SUPERVISOR.value, request.submitter_id, request.organization_id)
        if covered in actor.covering:
            return request.submitter_id
    return covering_owner(actor, getattr(request, "owner_id", None))


def covering_owner(actor: Actor, owner_id: int | None) -> int | None:
    """``owner_id`` when ``actor`` is program staff standing in for that colleague today (their
    assigned requests are the actor's to work meanwhile: shown under "Mine", marked, acted on with
    both names recorded); None for one's own requests, nobody's, or a colleague not covered."""
    if not owner_id or owner_id == actor.person_id or not actor.is_program_staff:
        return None
    return owner_id if may_act_for(actor, owner_id, DelegationKind.STAFF) else None


def covered_owner_ids(actor: Actor) -> frozenset[int]:
    """The colleagues whose assigned requests ``actor`` looks after today (staff backups only)."""
    if not actor.is_program_staff:
        return frozenset()
    return frozenset(delegator for kind, delegator, _ in actor.covering if kind == DelegationKind.STAFF.value)


def cover_refusal(actor: Actor, kind: DelegationKind, delegate: Actor | None, starts_on: date | None,
                  ends_on: date | None, today: date, organization_id: int = 0) -> tuple[str, str] | None:
    """Why ``actor`` may not name ``delegate`` as their backup for this range, as (the field to
    fix, the message); None: they may.

    A supervisor names another supervisor of the same organization; staff name other staff;
    nobody names themselves; the range is whole days from today on, at most ``MAX_COVER_DAYS``."""
    if kind == DelegationKind.SUPERVISOR:
        if organization_id not in actor.supervised_org_ids:
            return "organization_id", "You are not registered as a supervisor of that organization."
    elif not actor.is_program_staff:
        return "delegate_id", _RULE_REFUSALS[Rule.STAFF]
    if delegate is None:
        return "delegate_id", "Choose who stands in for you."
    if delegate.person_id == actor.person_id:
        return "delegate_id", "You cannot be your own backup. Choose someone else."
    if kind == DelegationKind.SUPERVISOR and organization_id not in delegate.supervised_org_ids:
        return "delegate_id", "Your backup must be another supervisor of the same organization."
    if kind == DelegationKind.STAFF and not delegate.is_program_staff:
        return "delegate_id", "Your backup must be another member of program staff."
    if starts_on is None:
        return "starts_on", "Enter the first day you are away."
    if ends_on is None:
        return "ends_on", "Enter the last day you are away."
    if starts_on < today:
        return "starts_on", "The first day cannot be in the past."
    if starts_on > today + timedelta(days=MAX_COVER_LEAD_DAYS):
        return "starts_on", "The first day must be within a year from today."
    if ends_on < starts_on:
        return "ends_on", "The last day cannot be before the first day."
    if (ends_on - starts_on).days + 1 > MAX_COVER_DAYS:
        return "ends_on", f"A backup can stand in for at most {MAX_COVER_DAYS} days at a time."
    return None


def may_end_cover(actor: Actor, cover: Cover) -> bool:
    """The person who named the backup ends it early, and so may the backup themselves."""
    return actor.person_id in (cover.delegator_id, cover.delegate_id)


# --- Roster reviews and idle people (services/reviews.py, services/inactivity.py) ---------------

CONFIRM_SELF = ("You cannot confirm your own access. Another supervisor of your organization or the "
                "program must do it.")


def review_answer_refusal(actor: Actor, organization_id: int, person_id: int) -> str | None:
    """Why ``actor`` may not answer for ``person_id``'s access at ``organization_id`` in a review
    or on the idle list (None: they may). The page shows the buttons exactly where this is None."""
    if organization_id not in actor.supervised_org_ids:
        return "You are not registered as a supervisor of that organization."
    if person_id == actor.person_id:
        return CONFIRM_SELF
    return None


def require_review_answer(actor: Actor, organization_id: int, person_id: int, *,
                          target_type: str = "", target_id: str | int = "") -> None:
    refusal = review_answer_refusal(actor, organization_id, person_id)
    if refusal is not None:
        raise NotAllowed(refusal, target_type=target_type, target_id=target_id)


# --- Access over time: scheduled ends, supervisor succession (issue 16) --------------------------

def access_end_refusal(actor: Actor, organization_id: int, subject_person_id: int) -> str | None:
    """Why ``actor`` may not move, extend or cancel the scheduled end of someone's access (None:
    they may): a supervisor of the organization, never about their own access."""
    if organization_id not in actor.supervised_org_ids:
        return "You are not registered as a supervisor of that organization."
    if subject_person_id == actor.person_id:
        return ABOUT_SELF
    return None


def require_may_change_access_end(actor: Actor, organization_id: int, subject_person_id: int) -> None:
    refusal = access_end_refusal(actor, organization_id, subject_person_id)
    if refusal is not None:
        raise NotAllowed(refusal, target_type="organization", target_id=organization_id)


def require_may_nominate_supervisor(actor: Actor, organization_id: int, email: str) -> None:
    """A supervisor asks for another supervisor of their own organization (not themselves)."""
    require_supervisor_of(actor, organization_id)
    if email.strip().lower() == actor.email:
        raise NotAllowed("You are already a supervisor of this organization.",
                         target_type="organization", target_id=organization_id)


def nomination_refusal(actor: Actor, nominated_by_id: int, email: str) -> str | None:
    """Staff decide on a supervisor nomination, never on one they made or that names them."""
    if not actor.is_program_staff:
        return _RULE_REFUSALS[Rule.STAFF]
    if nominated_by_id == actor.person_id or email.strip().lower() == actor.email:
        return FOUR_EYES
    return None


def require_may_decide_nomination(actor: Actor, nomination_id: int, nominated_by_id: int,
                                  email: str) -> None:
    refusal = nomination_refusal(actor, nominated_by_id, email)
    if refusal is not None:
        raise NotAllowed(refusal, target_type="supervisor_nomination", target_id=nomination_id)
