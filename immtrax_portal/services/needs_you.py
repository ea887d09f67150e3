"""What waits on the signed-in person: the "Needs you" list of the dashboard, as typed entries.

One function builds it (``needs_you``) from a tuple of sources (``SOURCES``). Each source is one
object with a ``kind`` (a ``NeedsYouKind``) and ``entries(session, actor, now, limit)``, which
returns at most ``limit`` entries, oldest wait first, and how many there are in all; every query
is bounded and indexed. A source whose entries are requests also says which requests it claims
(``claims(actor, now)``, an SQL condition), so that the "In progress" and "Closed" lists leave
them out: a request is in exactly one of the three lists.

Adding a kind of entry (a roster review, access about to expire, someone idle for months) is:
a ``NeedsYouKind`` member, one source class here, one line in ``SOURCES``. The dashboard shows
any entry with its title, detail, since when and link; a kind that needs controls of its own on
its card (the question's answer box) adds them in the page's card by ``kind``.

Which actions an entry offers is the rulebook's (``permissions.open_actions``), exactly as the
request page and the services decide them; nothing here decides who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import AuditOutcome, RequestStatus
from immtrax_portal.domain.models import (
    AccessEnd,
    AccessRequest,
    AuditEvent,
    Grant,
    Organization,
    Person,
    RegistryActivity,
    RosterReview,
    RosterReviewItem,
    utcnow,
)
from immtrax_portal.domain.permissions import (
    RESEND,
    Actor,
    access_end_refusal,
    open_actions,
    review_answer_refusal,
)
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import program_date, program_time
from immtrax_portal.services import access_ends, inactivity
from immtrax_portal.services.reviews import PENDING as REVIEW_PENDING
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import routes

# How many entries the dashboard shows at once (oldest wait first); the rest follow as these go.
SHOWN = 20
# An expired invitation waits on its supervisor this long ("resend it or let it be"); after that
# it is simply closed.
EXPIRED_STAYS = timedelta(days=30)


class NeedsYouKind(StrEnum):
    QUESTION = "question"                      # the program asked the supervisor; answer on the card
    EXPIRED_INVITATION = "expired_invitation"  # the applicant never signed; resend or let it be
    ROSTER_REVIEW = "roster_review"            # an open roster review with people still to confirm
    EXPIRING_ACCESS = "expiring_access"        # access ends on a set day soon; extend or move it
    IDLE_PERSON = "idle_person"                # imMTrax reports them idle; confirm or remove them


@dataclass(frozen=True)
class NeedsYouEntry:
    """One thing waiting on the person, already in words. ``request_id``/``version`` are what an
    action from the card expects to change; they stay on the server."""

    kind: NeedsYouKind
    key: str                  # unique in the list: "<kind>:<what>"
    title: str
    detail: str
    waiting_since: datetime
    href: str = ""
    link_text: str = ""
    number: str = ""
    organization: str = ""
    question: str = ""
    asked_by: str = ""
    actions: frozenset[Action] = field(default_factory=frozenset)
    request_id: int = 0
    version: int = 0
    # Entries about a person's access rather than a request: the record an action from the card
    # changes (an access end to extend, a grant to confirm), kept on the server like the ids above.
    target_id: int = 0
    person: str = ""
    can_extend: bool = False
    can_confirm: bool = False
    remove_href: str = ""
    remove_text: str = ""

    def as_dict(self) -> dict[str, str | bool]:
        """What the browser receives: text and which controls to draw, no ids or versions."""
        return {"kind": self.kind.value, "key": self.key, "title": self.title, "detail": self.detail,
                "since": program_time(self.waiting_since), "href": self.href,
                "link_text": self.link_text, "number": self.number,
                "organization": self.organization, "question": self.question,
                "asked_by": self.asked_by,
                "can_answer": Action.ANSWER_INFO in self.actions,
                "can_resend": RESEND in self.actions,
                "person": self.person, "can_extend": self.can_extend, "can_confirm": self.can_confirm,
                "remove_href": self.remove_href, "remove_text": self.remove_text}


@dataclass(frozen=True)
class NeedsYou:
    entries: list[NeedsYouEntry]
    total: int                # across every source; may be more than ``entries``

    @property
    def requests(self) -> dict[str, tuple[int, int]]:
        """number -> (request id, version) of the requests the entries are about."""
        return {e.number: (e.request_id, e.version) for e in self.entries if e.number}

    @property
    def targets(self) -> dict[str, int]:
        """key -> the record an action from the card changes (entries about access, not requests)."""
        return {e.key: e.target_id for e in self.entries if e.target_id}


class Source(Protocol):
    kind: NeedsYouKind

    def entries(self, session: Session, actor: Actor, now: datetime, limit: int
                ) -> tuple[list[NeedsYouEntry], int]: ...

    def claims(self, actor: Actor, now: datetime):
        """The requests this source lists, as an SQL condition (``sa.false()``: none)."""
        ...


def _supervised(actor: Actor):
    return AccessRequest.organization_id.in_(sorted(actor.supervised_org_ids))  # type: ignore[attr-defined]


def _not_about(actor: Actor):
    # A request about oneself never waits on oneself (the rulebook refuses every move on it).
    return AccessRequest.subject_person_id != actor.person_id


class _RequestSource:
    """Requests of the supervised organizations in one status, waiting on their supervisors."""

    kind: NeedsYouKind
    status: RequestStatus

    def claims(self, actor: Actor, now: datetime):
        if not actor.supervised_org_ids:
            return sa.false()
        return sa.and_(_supervised(actor), _not_about(actor), AccessRequest.status == self.status,
                       self._extra(now))

    def _extra(self, now: datetime):
        return sa.true()

    def entries(self, session: Session, actor: Actor, now: datetime, limit: int
                ) -> tuple[list[NeedsYouEntry], int]:
        condition = self.claims(actor, now)
        if not actor.supervised_org_ids:
            return [], 0
        total = session.exec(select(sa.func.count()).select_from(AccessRequest).where(condition)).one()
        subject = aliased(Person)
        listed = session.exec(
            select(AccessRequest, subject.first_name, subject.last_name, Organization.name)
            .join(subject, subject.id == AccessRequest.subject_person_id)
            .join(Organization, Organization.id == AccessRequest.organization_id)
            .where(condition)
            .order_by(AccessRequest.status_changed_at, AccessRequest.id)  # type: ignore[arg-type]
            .limit(limit)
        ).all()
        extras = self._extras(session, [r.id for r, *_ in listed])
        return [self._entry(actor, request, f"{first} {last}", org, extras)
                for request, first, last, org in listed], total

    def _extras(self, session: Session, request_ids: list[int]) -> dict:
        return {}

    def _entry(self, actor, request, person, org, extras) -> NeedsYouEntry:  # pragma: no cover
        raise NotImplementedError


class QuestionsToAnswer(_RequestSource):
    """The program asked a question about a request; the supervisor answers it on the card."""

    kind = NeedsYouKind.QUESTION
    status = RequestStatus.NEEDS_INFO

    def _extras(self, session: Session, request_ids: list[int]) -> dict:
        """Per request: the program's latest question and who asked it."""
        if not request_ids:
            return {}
        asked = session.exec(
            select(AuditEvent.request_id, AuditEvent.reason, Person.first_name, Person.last_name)
            .join(Person, Person.id == AuditEvent.actor_id, isouter=True)
            .where(AuditEvent.request_id.in_(request_ids),  # type: ignore[union-attr]
                   AuditEvent.action == Action.ASK_FOR_INFO.value,
                   AuditEvent.outcome == AuditOutcome.SUCCESS)
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        ).all()
        return {request_id: (reason, f"{first} {last}" if first else "The program")
                for request_id, reason, first, last in asked}

    def _entry(self, actor, request, person, org, extras) -> NeedsYouEntry:
        question, asked_by = extras.get(request.id, ("", "The program"))
        return NeedsYouEntry(
            kind=self.kind, key=f"{self.kind}:{request.number}",
            title=f"Answer the program's question about {person}",
            detail=f"{request.request_type.label} at {org}. The review continues once you answer.",
            waiting_since=request.status_changed_at, href=routes.request_url(request.number),
            link_text=f"Open request {request.number}", number=request.number, organization=org,
            question=question, asked_by=asked_by, actions=open_actions(actor, request),
            request_id=request.id, version=request.version)


class InvitationsToResend(_RequestSource):
    """The applicant never opened the invitation in time: send a new one, or let it be."""

    kind = NeedsYouKind.EXPIRED_INVITATION
    status = RequestStatus.EXPIRED

    def _extra(self, now: datetime):
        return AccessRequest.status_changed_at >= now - EXPIRED_STAYS

    def _entry(self, actor, request, person, org, extras) -> NeedsYouEntry:
        return NeedsYouEntry(
            kind=self.kind, key=f"{self.kind}:{request.number}",
            title=f"The invitation for {person} expired",
            detail=(f"{request.request_type.label} at {org}. {person} did not sign the User Agreement "
                    "in time. Send a new invitation if they still need access; otherwise leave it: "
                    f"it leaves this list {EXPIRED_STAYS.days} days after it expired."),
            waiting_since=request.status_changed_at, href=routes.request_url(request.number),
            link_text=f"Open request {request.number}", number=request.number, organization=org,
            actions=open_actions(actor, request), request_id=request.id, version=request.version)


class _AccessSource:
    """Entries about people's access (not requests): they claim no request."""

    kind: NeedsYouKind

    def claims(self, actor: Actor, now: datetime):
        return sa.false()


def _count(session: Session, statement) -> int:
    return session.exec(select(sa.func.count()).select_from(statement.order_by(None).subquery())).one()


class RosterReviewsToAnswer(_AccessSource):
    """An open roster review of a supervised organization with people still to confirm: one entry
    per review, linking to the review page (the answers are given there, person by person)."""

    kind = NeedsYouKind.ROSTER_REVIEW

    def entries(self, session: Session, actor: Actor, now: datetime, limit: int
                ) -> tuple[list[NeedsYouEntry], int]:
        if not actor.supervised_org_ids:
            return [], 0
        waiting = sa.func.count(RosterReviewItem.id).label("waiting")
        statement = (
            select(RosterReview, Organization.name, waiting)
            .join(RosterReviewItem, RosterReviewItem.review_id == RosterReview.id)
            .join(Organization, Organization.id == RosterReview.organization_id)
            .where(RosterReview.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
                   RosterReview.closed_at.is_(None),  # type: ignore[union-attr]
                   RosterReviewItem.outcome == REVIEW_PENDING,
                   # Nobody confirms their own access: their own line never waits on them.
                   RosterReviewItem.person_id != actor.person_id)
            .group_by(RosterReview.id, Organization.name)
            .order_by(RosterReview.started_at, RosterReview.id))  # type: ignore[arg-type]
        total = _count(session, statement)
        rows = session.exec(statement.limit(limit)).all()
        return [self._entry(review, org, count) for review, org, count in rows], total

    def _entry(self, review: RosterReview, org: str, count: int) -> NeedsYouEntry:
        people = "1 person" if count == 1 else f"{count} people"
        return NeedsYouEntry(
            kind=self.kind, key=f"{self.kind}:{review.id}",
            title=f"Roster review at {org}: {people} to confirm",
            detail=(f"Confirm that each person still works at {org} and still needs their access "
                    f"level, or remove them or change their level. The review ends on "
                    f"{program_date(_aware(review.ends_at))}; anyone not confirmed by then is "
                    "flagged to the program."),
            waiting_since=review.started_at, href=routes.REVIEWS,
            link_text=f"Open the roster review of {org}", organization=org)


class AccessEndingSoon(_AccessSource):
    """Access at a supervised organization that ends on a set day within ``SOON_DAYS`` (time-limited
    access, or a scheduled removal): extend it from the card, or move the day on the dashboard."""

    kind = NeedsYouKind.EXPIRING_ACCESS

    def entries(self, session: Session, actor: Actor, now: datetime, limit: int
                ) -> tuple[list[NeedsYouEntry], int]:
        if not actor.supervised_org_ids:
            return [], 0
        statement = (
            select(AccessEnd, Grant.person_id, Person.first_name, Person.last_name, Organization.name,
                   AccessRequest.number)
            .join(Grant, Grant.id == AccessEnd.grant_id)
            .join(AccessRequest, AccessRequest.id == AccessEnd.request_id, isouter=True)
            .join(Person, Person.id == Grant.person_id)
            .join(Organization, Organization.id == AccessEnd.organization_id)
            .where(AccessEnd.done_at.is_(None), AccessEnd.cancelled_at.is_(None),  # type: ignore[union-attr]
                   AccessEnd.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
                   AccessEnd.ends_at <= now + timedelta(days=access_ends.SOON_DAYS),
                   Grant.person_id != actor.person_id)
            .order_by(AccessEnd.ends_at, AccessEnd.id))  # type: ignore[arg-type]
        total = _count(session, statement)
        rows = session.exec(statement.limit(limit)).all()
        return [self._entry(actor, end, person_id, f"{first} {last}", org, number or "")
                for end, person_id, first, last, org, number in rows], total

    def _entry(self, actor: Actor, end: AccessEnd, person_id: int, person: str, org: str,
               number: str) -> NeedsYouEntry:
        day = end.last_day.strftime("%B %-d, %Y")
        time_limited = end.kind == access_ends.END_DATE
        may_change = access_end_refusal(actor, end.organization_id, person_id) is None
        if time_limited:
            title = f"{person}'s time-limited access ends on {day}"
            detail = (f"{person} has access at {org} until the end of {day}, Montana time. Extend it "
                      f"by {get_settings().access_extension_days} days with one click if they still "
                      "need it, or move the last day under “Access over time” on this page; "
                      "otherwise it ends by itself.")
        else:
            title = f"{person}'s access ends on {day} (scheduled removal)"
            detail = (f"The Access Deletion for {person} at {org} takes effect at the end of {day}, "
                      "Montana time. If the day changed, move it under “Access over time” on "
                      "this page.")
        return NeedsYouEntry(
            kind=self.kind, key=f"{self.kind}:{end.id}", title=title, detail=detail,
            # It waits on the supervisor from the day it became "soon".
            waiting_since=_aware(end.ends_at) - timedelta(days=access_ends.SOON_DAYS),
            organization=org, person=person, target_id=end.id, can_extend=time_limited and may_change,
            # The request that set the day, if any (its number is not an action key here).
            href=routes.request_url(number) if number else "",
            link_text=f"Open request {number}" if number else "")


class IdlePeopleToConfirm(_AccessSource):
    """People at a supervised organization imMTrax reports idle for ``idle_confirm_days``, not yet
    confirmed for that login: "Still needed" on the card, or "Remove access" (the wizard, prefilled)."""

    kind = NeedsYouKind.IDLE_PERSON

    def entries(self, session: Session, actor: Actor, now: datetime, limit: int
                ) -> tuple[list[NeedsYouEntry], int]:
        if not actor.supervised_org_ids:
            return [], 0
        days = get_settings().idle_confirm_days
        statement = (
            select(Grant, RegistryActivity.last_login_at, Person.first_name, Person.last_name,
                   Organization.name)
            .join(RegistryActivity, RegistryActivity.username == sa.func.lower(Grant.immtrax_username))
            .join(Person, Person.id == Grant.person_id)
            .join(Organization, Organization.id == Grant.organization_id)
            .where(Grant.active, Grant.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
                   Grant.person_id != actor.person_id,
                   RegistryActivity.last_login_at <= now - timedelta(days=days),
                   sa.or_(RegistryActivity.confirmed_for.is_(None),  # type: ignore[union-attr]
                          RegistryActivity.confirmed_for != RegistryActivity.last_login_at))
            .order_by(RegistryActivity.last_login_at, Grant.id))  # type: ignore[arg-type]
        total = _count(session, statement)
        rows = session.exec(statement.limit(limit)).all()
        return [self._entry(actor, grant, _aware(last), f"{first} {last_name}", org, now, days)
                for grant, last, first, last_name, org in rows], total

    def _entry(self, actor: Actor, grant: Grant, last_login: datetime, person: str, org: str,
               now: datetime, days: int) -> NeedsYouEntry:
        idle = inactivity.idle_days(last_login, now)
        may = review_answer_refusal(actor, grant.organization_id, grant.person_id) is None
        return NeedsYouEntry(
            kind=self.kind, key=f"{self.kind}:{grant.id}",
            title=f"{person} has not used imMTrax for {idle} days",
            detail=(f"imMTrax reports {person}'s last sign-in at {org} on {program_date(last_login)} "
                    f"({grant.access_level.label}). Confirm they still need access, or remove it. "
                    "Long-idle access is removed: program staff are asked to confirm."),
            waiting_since=last_login + timedelta(days=days), organization=org, person=person,
            target_id=grant.id, can_confirm=may,
            remove_href=routes.wizard_prefill_url("access_deletion", grant.organization_id,
                                                  grant.person_id) if may else "",
            remove_text=f"Remove access of {person}" if may else "")


# Every kind of thing that can wait on someone. Add a source here to add a kind of entry.
SOURCES: tuple[Source, ...] = (QuestionsToAnswer(), InvitationsToResend(), RosterReviewsToAnswer(),
                               AccessEndingSoon(), IdlePeopleToConfirm())


def claimed_requests(actor: Actor, now: datetime | None = None):
    """The requests some "Needs you" source lists for ``actor`` (an SQL condition)."""
    now = now or utcnow()
    return sa.or_(sa.false(), *(source.claims(actor, now) for source in SOURCES))


def needs_you(actor: Actor, *, limit: int = SHOWN, now: datetime | None = None) -> NeedsYou:
    """Everything waiting on ``actor``, oldest wait first: at most ``limit`` entries, and the total."""
    now = now or utcnow()
    found: list[NeedsYouEntry] = []
    total = 0
    with session_scope() as session:
        for source in SOURCES:
            entries, count = source.entries(session, actor, now, limit)
            found.extend(entries)
            total += count
    found.sort(key=lambda e: (_aware(e.waiting_since), e.key))
    return NeedsYou(found[:limit], total)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
