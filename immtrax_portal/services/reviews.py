"""Roster reviews (attestation): each organization's supervisors confirm who still needs access.

The schedule (set by staff on /staff/reviews, else the settings' defaults: read through
``review_schedule.current_schedule``): every person's access is reviewed again a number of months
after it was last answered for in a review (or granted): 3 for Vaccine Management, 12 for the other
levels by default. When anyone at an organization is due, a review starts for it with everyone due;
staff can also start an extra review of everyone at one organization. A review has a window (14
days) with reminders before its end (7 and 2 days), and a grace period after it (7 days); the
window's end and the grace's end are kept on the review when it starts, so a changed schedule
applies to the reviews started afterwards (the reminders of an open review follow the schedule as
it is when they come due).

Each person in a review is answered by a supervisor: "still needed" (``confirm_item``), or a
Permissions Change or Access Deletion made through the wizard (found by ``_settle``: any request
about them at that organization opened during the review, or still open). Nobody unanswered
loses access silently: at the end of the window staff are told; at the end of the grace period an
Access Deletion is opened for each (services/automatic_deletion.py) for staff to confirm.

The time-based part is ``run_roster_reviews(now)``: each effect is one transaction (the change,
its audit event with the system as actor and the rule, and its emails), guarded by a conditional
UPDATE or a unique index, so two runs at once, or a run after one that died half-way, do each thing
once.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    Grant,
    Organization,
    RosterReview,
    RosterReviewItem,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor, NotAllowed, require_review_answer, require_staff
from immtrax_portal.services import audit, emails
from immtrax_portal.services.automatic_deletion import open_automatic_deletion, supervisor_emails
from immtrax_portal.services.review_schedule import Schedule, current_schedule

PENDING, CONFIRMED, CHANGE_REQUESTED, ACCESS_ENDED, AUTO_DELETION = (
    "pending", "confirmed", "change_requested", "access_ended", "auto_deletion")
OUTCOME_LABELS = {PENDING: "Waiting for your answer", CONFIRMED: "Confirmed: still needed",
                  CHANGE_REQUESTED: "Change requested", ACCESS_ENDED: "Access ended",
                  AUTO_DELETION: "Not confirmed: Access Deletion opened"}
SCHEDULED, EXTRA = "scheduled", "extra"
STARTS_PER_RUN = 100

_reviews = RosterReview.__table__  # type: ignore[attr-defined]
_items = RosterReviewItem.__table__  # type: ignore[attr-defined]


class ReviewRefused(ValueError):
    """A review cannot be started or answered as asked; the message says why."""


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (or earlier), the day clamped to the month's end."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def months_between_reviews(level: AccessLevel, schedule: Schedule | None = None) -> int:
    return (schedule or current_schedule()).months_for(level)


def schedule_rule(level: AccessLevel, schedule: Schedule | None = None) -> str:
    return f"{level.label}: reviewed every {months_between_reviews(level, schedule)} months"


# --- Who is due ---------------------------------------------------------------------------------

def _last_answered():
    """When each grant was last answered for in a review (correlated to ``Grant``)."""
    return (select(sa.func.max(RosterReviewItem.answered_at))
            .where(RosterReviewItem.grant_id == Grant.id).correlate(Grant).scalar_subquery())


def _due(now: datetime, schedule: Schedule):
    """Active grants of active organizations whose next review is due at ``now``."""
    last = sa.func.coalesce(_last_answered(), Grant.since)
    vaccine = AccessLevel.VACCINE_MANAGEMENT
    return sa.and_(
        Grant.active, Organization.active,
        sa.or_(sa.and_(Grant.access_level == vaccine,
                       last <= add_months(now, -schedule.every_months_vaccine_management)),
               sa.and_(Grant.access_level != vaccine,
                       last <= add_months(now, -schedule.every_months_other_levels))))


def _no_open_review():
    return ~sa.exists().where(RosterReview.organization_id == Grant.organization_id,
                              RosterReview.closed_at.is_(None))  # type: ignore[union-attr]


# --- Starting a review --------------------------------------------------------------------------

def _start(session: Session, organization: Organization, grants: list[Grant], *, kind: str, rule: str,
           now: datetime, started_by: Actor | None, source_ip: str = "") -> RosterReview:
    schedule = current_schedule(session)
    ends_at = now + timedelta(days=schedule.window_days)
    review = RosterReview(organization_id=organization.id, kind=kind, rule=rule, started_at=now,
                          ends_at=ends_at, grace_ends_at=ends_at + timedelta(days=schedule.grace_days),
                          started_by_id=started_by.person_id if started_by else None)
    session.add(review)
    session.flush()  # the unique index refuses a second open review of this organization here
    session.add_all(RosterReviewItem(review_id=review.id, grant_id=g.id, person_id=g.person_id,
                                     access_level=g.access_level) for g in grants)
    audit.record(session, action=AuditAction.REVIEW_STARTED,
                 actor_id=started_by.person_id if started_by else None,
                 actor_role=started_by.role if started_by else Role.SYSTEM,
                 organization_id=organization.id, target_type="roster_review", target_id=review.id,
                 reason=rule, source_ip=source_ip, details={"kind": kind, "people": len(grants),
                                                            "ends_at": ends_at.isoformat()})
    for address in supervisor_emails(session, organization.id):
        emails.review_started(session, to=address, organization=organization, ends_at=ends_at,
                              people=len(grants))
    return review


def start_due_reviews(now: datetime) -> int:
    """Start a review for every organization with someone due and no review open. Returns how many."""
    with session_scope() as session:
        schedule = current_schedule(session)
        org_ids = list(session.exec(
            select(Grant.organization_id).join(Organization, Organization.id == Grant.organization_id)
            .where(_due(now, schedule), _no_open_review()).distinct()
            .order_by(Grant.organization_id).limit(STARTS_PER_RUN)))
    started = 0
    for org_id in org_ids:
        try:
            with session_scope() as session:
                organization = session.get(Organization, org_id)
                grants = list(session.exec(
                    select(Grant).join(Organization, Organization.id == Grant.organization_id)
                    .where(Grant.organization_id == org_id, _due(now, schedule)).order_by(Grant.id)))
                if not grants:
                    continue
                rules = sorted({schedule_rule(g.access_level, schedule) for g in grants})
                _start(session, organization, grants, kind=SCHEDULED, now=now, started_by=None,
                       rule="Schedule: " + "; ".join(rules))
                started += 1
        except IntegrityError:
            continue  # another worker started this organization's review at the same moment
    return started


def start_extra_review(actor: Actor, organization_code: str, *, now: datetime | None = None,
                       source_ip: str = "") -> RosterReview:
    """Staff: review everyone with access at one organization now, outside the schedule."""
    require_staff(actor)
    now = now or utcnow()
    code = " ".join(str(organization_code or "").split()).upper()[:32]
    if not code:
        raise ReviewRefused("Enter the organization's code, for example BFC-0101.")
    try:
        with session_scope() as session:
            organization = session.exec(select(Organization).where(Organization.code == code)).first()
            if organization is None:
                raise ReviewRefused(f"No organization has the code {code}. Check it on the "
                                    "organizations page.")
            if not organization.active:
                raise ReviewRefused(f"{organization.name} is inactive: there is no one to review.")
            if open_review := _open_review_of(session, organization.id):
                raise ReviewRefused(f"{organization.name} already has a roster review in progress "
                                    f"(it ends {_day(open_review.ends_at)}).")
            grants = list(session.exec(select(Grant).where(Grant.organization_id == organization.id,
                                                           Grant.active).order_by(Grant.id)))
            if not grants:
                raise ReviewRefused(f"No one has active access at {organization.name}: there is no one "
                                    "to review.")
            return _start(session, organization, grants, kind=EXTRA, now=now, started_by=actor,
                          rule="Extra review started by program staff", source_ip=source_ip)
    except IntegrityError:
        raise ReviewRefused("A roster review of this organization started at the same moment. "
                            "Reload to see it.") from None


def _day(moment: datetime) -> str:
    from immtrax_portal.program_time import program_date
    return program_date(moment)


def _open_review_of(session: Session, organization_id: int) -> RosterReview | None:
    return session.exec(select(RosterReview).where(RosterReview.organization_id == organization_id,
                                                   RosterReview.closed_at.is_(None))).first()  # type: ignore[union-attr]


# --- Answers --------------------------------------------------------------------------------------

def _settle(session: Session, review: RosterReview, now: datetime, *, persist: bool = True) -> int:
    """Mark as answered the pending people whom a request already answers for (a Permissions Change
    or Access Deletion made in the wizard), or whose access ended; returns how many are pending.
    ``persist=False`` only counts (the periodic check writes nothing until it closes a review)."""
    pending = list(session.exec(select(RosterReviewItem, Grant)
                                .join(Grant, Grant.id == RosterReviewItem.grant_id)
                                .where(RosterReviewItem.review_id == review.id,
                                       RosterReviewItem.outcome == PENDING)))
    left = 0
    for item, grant in pending:
        request = session.exec(
            select(AccessRequest).where(
                AccessRequest.subject_person_id == item.person_id,
                AccessRequest.organization_id == review.organization_id,
                AccessRequest.request_type.in_([RequestType.ACCESS_DELETION,  # type: ignore[attr-defined]
                                                RequestType.PERMISSIONS_CHANGE]),
                AccessRequest.status != RequestStatus.CANCELLED,
                sa.or_(AccessRequest.created_at >= review.started_at,
                       AccessRequest.status.in_([RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW,  # type: ignore[attr-defined]
                                                 RequestStatus.NEEDS_INFO])))
            .order_by(AccessRequest.id.desc())).first()  # type: ignore[union-attr]
        if request is not None:
            outcome, values = CHANGE_REQUESTED, {
                "request_id": request.id, "answered_by_id": request.submitter_id,
                "answered_at": max(request.created_at, review.started_at)}
        elif not grant.active:
            outcome, values = ACCESS_ENDED, {"answered_at": now}
        else:
            left += 1
            continue
        if not persist:
            continue
        session.execute(_items.update().where(_items.c.id == item.id, _items.c.outcome == PENDING)
                        .values(outcome=outcome, **values))
    return left


def _close(session: Session, review: RosterReview, now: datetime, *, actor: Actor | None = None,
           source_ip: str = "") -> bool:
    won = session.execute(_reviews.update().where(_reviews.c.id == review.id, _reviews.c.closed_at.is_(None))
                          .values(closed_at=now)).rowcount
    if won != 1:
        return False
    counts = dict(session.exec(select(RosterReviewItem.outcome, sa.func.count())
                               .where(RosterReviewItem.review_id == review.id)
                               .group_by(RosterReviewItem.outcome)).all())
    audit.record(session, action=AuditAction.REVIEW_CLOSED, actor_id=actor.person_id if actor else None,
                 actor_role=actor.role if actor else Role.SYSTEM, organization_id=review.organization_id,
                 target_type="roster_review", target_id=review.id, source_ip=source_ip,
                 reason="Every person was answered for" if not counts.get(PENDING) else "",
                 details={"on_time": now <= review.ends_at, **counts})
    return True


def confirm_item(actor: Actor, item_id: int, *, now: datetime | None = None,
                 source_ip: str = "") -> RosterReviewItem:
    """A supervisor confirms one person: still works here, this level is still needed."""
    now = now or utcnow()
    with session_scope() as session:
        item = session.get(RosterReviewItem, int(item_id))
        review = session.get(RosterReview, item.review_id) if item else None
        if item is None or review is None:
            raise NotAllowed("That review entry does not exist.", target_type="roster_review_item",
                             target_id=item_id)
        require_review_answer(actor, review.organization_id, item.person_id,
                              target_type="roster_review_item", target_id=item.id)
        if review.closed_at is not None:
            raise ReviewRefused("This roster review is closed; there is nothing left to answer.")
        _settle(session, review, now)
        won = session.execute(_items.update().where(_items.c.id == item.id, _items.c.outcome == PENDING)
                              .values(outcome=CONFIRMED, answered_at=now, answered_by_id=actor.person_id)
                              ).rowcount
        if won != 1:
            session.refresh(item)
            return item  # answered already (a double click, or a request about them): nothing to do
        audit.record(session, action=AuditAction.REVIEW_CONFIRMED, actor_id=actor.person_id,
                     actor_role=actor.role, organization_id=review.organization_id,
                     target_type="roster_review_item", target_id=item.id, source_ip=source_ip,
                     details={"review_id": review.id, "person_id": item.person_id,
                              "access_level": item.access_level.value})
        if _settle(session, review, now) == 0:
            _close(session, review, now, actor=actor, source_ip=source_ip)
        session.refresh(item)
        return item


# --- The time-based steps -------------------------------------------------------------------------

def _open_reviews(session: Session, *where) -> list[RosterReview]:
    return list(session.exec(select(RosterReview).where(RosterReview.closed_at.is_(None), *where)  # type: ignore[union-attr]
                             .order_by(RosterReview.id)))


def send_due_reminders(now: datetime) -> int:
    """Each reminder day before the end of a window, once per review (never a burst of several)."""
    with session_scope() as session:
        days = list(current_schedule(session).reminder_days)
        candidates = [(r.id, r.reminders_sent) for r in _open_reviews(
            session, RosterReview.ends_at > now, RosterReview.reminders_sent < len(days))]
    sent = 0
    for review_id, before in candidates:
        with session_scope() as session:
            review = session.get(RosterReview, review_id)
            reached = sum(1 for d in days if now >= review.ends_at - timedelta(days=d))
            if reached <= before:
                continue
            won = session.execute(_reviews.update().where(_reviews.c.id == review_id,
                                                          _reviews.c.reminders_sent == before,
                                                          _reviews.c.closed_at.is_(None))
                                  .values(reminders_sent=reached)).rowcount
            if won != 1:
                continue
            pending = _settle(session, review, now)
            organization = session.get(Organization, review.organization_id)
            if pending:
                for address in supervisor_emails(session, review.organization_id):
                    emails.review_reminder(session, to=address, organization=organization,
                                           ends_at=review.ends_at, pending=pending)
            audit.record(session, action=AuditAction.REVIEW_REMINDER, actor_id=None, actor_role=Role.SYSTEM,
                         organization_id=review.organization_id, target_type="roster_review",
                         target_id=review.id, reason=f"Reminder {days[reached - 1]} days before the end",
                         details={"reminder": reached, "pending": pending})
            sent += 1
    return sent


def close_answered_reviews(now: datetime) -> int:
    """Close the open reviews in which everyone is answered (by requests made in the wizard)."""
    with session_scope() as session:
        ids = [r.id for r in _open_reviews(session)]
    closed = 0
    for review_id in ids:
        with session_scope() as session:
            review = session.get(RosterReview, review_id)
            if review.closed_at is None and _settle(session, review, now, persist=False) == 0:
                _settle(session, review, now)
                closed += _close(session, review, now)
    return closed


def flag_overdue_reviews(now: datetime) -> int:
    """At the end of a window with people unconfirmed: flagged to staff (once), supervisors reminded."""
    with session_scope() as session:
        ids = [r.id for r in _open_reviews(session, RosterReview.ends_at <= now,
                                           RosterReview.overdue_at.is_(None))]  # type: ignore[union-attr]
    flagged = 0
    for review_id in ids:
        with session_scope() as session:
            review = session.get(RosterReview, review_id)
            pending = _settle(session, review, now)
            if pending == 0:
                continue  # close_answered_reviews closes it
            won = session.execute(_reviews.update().where(_reviews.c.id == review_id,
                                                          _reviews.c.overdue_at.is_(None),
                                                          _reviews.c.closed_at.is_(None))
                                  .values(overdue_at=now)).rowcount
            if won != 1:
                continue
            organization = session.get(Organization, review.organization_id)
            rule = (f"Review window of {_days_between(review.started_at, review.ends_at)} days ended with "
                    f"{pending} people not confirmed")
            audit.record(session, action=AuditAction.REVIEW_OVERDUE, actor_id=None, actor_role=Role.SYSTEM,
                         organization_id=review.organization_id, target_type="roster_review",
                         target_id=review.id, reason=rule, details={"pending": pending})
            emails.review_overdue_staff(session, organization=organization, ends_at=review.ends_at,
                                        grace_ends_at=review.grace_ends_at, pending=pending)
            for address in supervisor_emails(session, review.organization_id):
                emails.review_reminder(session, to=address, organization=organization,
                                       ends_at=review.grace_ends_at, pending=pending)
            flagged += 1
    return flagged


def open_deletions_after_grace(now: datetime) -> int:
    """After the grace period: an Access Deletion for each person still unconfirmed, then closed."""
    with session_scope() as session:
        ids = [r.id for r in _open_reviews(session, RosterReview.grace_ends_at <= now,
                                           RosterReview.overdue_at.is_not(None))]  # type: ignore[union-attr]
    opened = 0
    for review_id in ids:
        with session_scope() as session:
            review = session.get(RosterReview, review_id)
            _settle(session, review, now)
            item_ids = list(session.exec(select(RosterReviewItem.id).where(
                RosterReviewItem.review_id == review_id, RosterReviewItem.outcome == PENDING)))
        for item_id in item_ids:
            opened += _delete_unconfirmed(review_id, item_id, now)
        with session_scope() as session:
            review = session.get(RosterReview, review_id)
            if review.closed_at is None and _settle(session, review, now) == 0:
                _close(session, review, now)
    return opened


def _days_between(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end`` (the review's own window or grace, as it started)."""
    return max(0, round((end - start).total_seconds() / 86400))


def _delete_unconfirmed(review_id: int, item_id: int, now: datetime) -> int:
    with session_scope() as session:
        review = session.get(RosterReview, review_id)
        item = session.get(RosterReviewItem, item_id)
        if item.outcome != PENDING:
            return 0
        grant = session.get(Grant, item.grant_id, with_for_update=True)
        organization = session.get(Organization, review.organization_id)
        grace_days = _days_between(review.ends_at, review.grace_ends_at)
        rule = (f"Roster review not confirmed: window ended {_day(review.ends_at)}, then "
                f"{grace_days} days of grace")
        request = open_automatic_deletion(
            session, grant, key=f"review-item-{item.id}", cause=AuditAction.REVIEW_AUTO_DELETION,
            rule=rule, now=now, details={"review_id": review.id, "review_item_id": item.id},
            reason=(f"no supervisor of {organization.name} confirmed this access in the roster review "
                    f"that ended on {_day(review.ends_at)}, nor in the {grace_days} "
                    "days of grace after it."))
        outcome = AUTO_DELETION if request is not None else ACCESS_ENDED
        won = session.execute(_items.update().where(_items.c.id == item.id, _items.c.outcome == PENDING)
                              .values(outcome=outcome, answered_at=now,
                                      request_id=request.id if request else None)).rowcount
        if won != 1:
            session.rollback()
            return 0
        return 1 if request is not None else 0


def run_roster_reviews(now: datetime) -> int:
    """The review housekeeping job: idempotent, safe to run twice or on several workers at once.
    Returns how many effects it had (reviews started, reminders, flags, deletions, closures)."""
    return (start_due_reviews(now) + close_answered_reviews(now) + send_due_reminders(now)
            + flag_overdue_reviews(now) + open_deletions_after_grace(now))


# --- Reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewSummary:
    review_id: int
    organization_id: int
    organization_name: str
    kind: str
    rule: str
    started_at: datetime
    ends_at: datetime
    grace_ends_at: datetime
    overdue_at: datetime | None
    closed_at: datetime | None
    total: int
    pending: int
    confirmed: int
    changed: int
    auto_deleted: int

    @property
    def done(self) -> int:
        return self.total - self.pending

    def status(self, now: datetime) -> str:
        if self.closed_at is not None:
            return "Completed on time" if self.closed_at <= self.ends_at else (
                "Closed after the deadline")
        if self.overdue_at is not None or now >= self.ends_at:
            return "Overdue"
        return "In progress"


def summaries(session: Session, reviews: list[RosterReview]) -> list[ReviewSummary]:
    if not reviews:
        return []
    ids = [r.id for r in reviews]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for review_id, outcome, n in session.exec(
            select(RosterReviewItem.review_id, RosterReviewItem.outcome, sa.func.count())
            .where(RosterReviewItem.review_id.in_(ids))  # type: ignore[attr-defined]
            .group_by(RosterReviewItem.review_id, RosterReviewItem.outcome)):
        counts[review_id][outcome] = n
    names = dict(session.exec(select(Organization.id, Organization.name).where(
        Organization.id.in_({r.organization_id for r in reviews}))).all())  # type: ignore[union-attr]
    return [ReviewSummary(r.id, r.organization_id, names.get(r.organization_id, ""), r.kind, r.rule,
                          r.started_at, r.ends_at, r.grace_ends_at, r.overdue_at, r.closed_at,
                          sum(counts[r.id].values()), counts[r.id].get(PENDING, 0),
                          counts[r.id].get(CONFIRMED, 0),
                          counts[r.id].get(CHANGE_REQUESTED, 0) + counts[r.id].get(ACCESS_ENDED, 0),
                          counts[r.id].get(AUTO_DELETION, 0)) for r in reviews]
