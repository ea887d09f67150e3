"""What the review pages show: a supervisor's open reviews (one page of people each), the staff's
progress of every review, the automatic deletions waiting for staff, and the review figures.

Read-only and bounded: every list is one page from an indexed query. Rows are plain dicts of
display strings; whether a row gets its buttons is the rulebook's ``review_answer_refusal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.enums import OPEN_STATUSES, RequestStatus, RequestType
from immtrax_portal.domain.models import (
    AccessRequest,
    AgreementSignature,
    Grant,
    Organization,
    Person,
    RosterReview,
    RosterReviewItem,
    utcnow,
)
from immtrax_portal.domain.permissions import Actor, require_staff, review_answer_refusal
from immtrax_portal.program_time import program_date
from immtrax_portal.services.automatic_deletion import SYSTEM_EMAIL
from immtrax_portal.services.inactivity import describe_last_activity, last_activity_subquery
from immtrax_portal.services.reviews import OUTCOME_LABELS, PENDING, ReviewSummary, summaries
from immtrax_portal.ui import routes

PAGE_SIZE = 20


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def summary_dict(s: ReviewSummary, now: datetime) -> dict:
    return {"review_id": str(s.review_id), "organization": s.organization_name,
            "kind": "Extra (staff)" if s.kind == "extra" else "Scheduled", "rule": s.rule,
            "started": program_date(s.started_at), "ends": program_date(s.ends_at),
            "grace_ends": program_date(s.grace_ends_at), "status": s.status(now),
            "done": str(s.done), "total": str(s.total), "pending": str(s.pending),
            "confirmed": str(s.confirmed), "changed": str(s.changed), "auto_deleted": str(s.auto_deleted),
            "overdue": s.closed_at is None and now >= s.ends_at}


# --- The supervisor's page -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewPage:
    summary: dict
    rows: list[dict]
    page: int
    pages: int


def _item_rows(session: Session, actor: Actor, review: RosterReview,
               page: int) -> tuple[list[dict], int, int]:
    total = session.exec(select(sa.func.count()).select_from(RosterReviewItem)
                         .where(RosterReviewItem.review_id == review.id)).one()
    pages = _pages(total)
    page = min(max(1, page), pages)
    signed = (select(sa.func.max(AgreementSignature.signed_at))
              .join(AccessRequest, AccessRequest.id == AgreementSignature.request_id)
              .where(AccessRequest.subject_person_id == Grant.person_id,
                     AccessRequest.organization_id == Grant.organization_id)
              .correlate(Grant).scalar_subquery())
    listed = session.exec(
        select(RosterReviewItem, Person, Grant, signed, last_activity_subquery())
        .join(Person, Person.id == RosterReviewItem.person_id)
        .join(Grant, Grant.id == RosterReviewItem.grant_id)
        .where(RosterReviewItem.review_id == review.id)
        # Who still waits for an answer first, then by name.
        .order_by(sa.case((RosterReviewItem.outcome == PENDING, 0), else_=1), Person.last_name,
                  Person.first_name, RosterReviewItem.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    rows = []
    for item, person, grant, signed_at, last_login in listed:
        refusal = review_answer_refusal(actor, review.organization_id, person.id)
        open_to_answer = item.outcome == PENDING and review.closed_at is None and grant.active
        rows.append({
            "item_id": str(item.id), "person_id": str(person.id), "name": person.full_name,
            "email": person.email, "level": item.access_level.label, "since": program_date(grant.since),
            "agreement_signed": program_date(_aware(signed_at)) if signed_at else "Not on file",
            "last_activity": describe_last_activity(last_login),
            "outcome": item.outcome,
            "outcome_label": ("Access suspended: a request about them is open"
                              if item.outcome == PENDING and not grant.active
                              else OUTCOME_LABELS.get(item.outcome, item.outcome)),
            "may_answer": open_to_answer and refusal is None,
            "why_not": refusal if open_to_answer and refusal else "",
            "change_href": routes.wizard_prefill_url("permissions_change", review.organization_id, person.id),
            "remove_href": routes.wizard_prefill_url("access_deletion", review.organization_id, person.id),
        })
    return rows, page, pages


def supervisor_reviews(actor: Actor, pages: dict[int, int] | None = None, *,
                       now: datetime | None = None) -> list[ReviewPage]:
    """The open reviews of the organizations the actor supervises, each with one page of people."""
    now = now or utcnow()
    if not actor.supervised_org_ids:
        return []
    with session_scope() as session:
        open_reviews = list(session.exec(
            select(RosterReview).where(RosterReview.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
                                       RosterReview.closed_at.is_(None))  # type: ignore[union-attr]
            .order_by(RosterReview.ends_at, RosterReview.id)))
        shown = []
        for review, summary in zip(open_reviews, summaries(session, open_reviews), strict=True):
            rows, page, count = _item_rows(session, actor, review, (pages or {}).get(review.id, 1))
            shown.append(ReviewPage(summary_dict(summary, now), rows, page, count))
        return shown


def open_review_count(actor: Actor) -> tuple[int, int]:
    """(open reviews, people waiting for an answer) at the actor's organizations: the dashboard entry."""
    if not actor.supervised_org_ids:
        return 0, 0
    with session_scope() as session:
        open_ids = select(RosterReview.id).where(
            RosterReview.organization_id.in_(sorted(actor.supervised_org_ids)),  # type: ignore[attr-defined]
            RosterReview.closed_at.is_(None))  # type: ignore[union-attr]
        reviews = session.exec(select(sa.func.count()).select_from(open_ids.subquery())).one()
        waiting = session.exec(select(sa.func.count()).select_from(RosterReviewItem).where(
            RosterReviewItem.review_id.in_(open_ids), RosterReviewItem.outcome == PENDING)).one()  # type: ignore[attr-defined]
        return reviews, waiting


# --- Staff -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProgressPage:
    rows: list[dict]
    total: int
    page: int
    pages: int


def review_progress(actor: Actor, page: int = 1, *, now: datetime | None = None) -> ProgressPage:
    """Every review, open ones first (soonest end first), then the latest closed."""
    require_staff(actor)
    now = now or utcnow()
    with session_scope() as session:
        total = session.exec(select(sa.func.count()).select_from(RosterReview)).one()
        pages = _pages(total)
        page = min(max(1, page), pages)
        listed = list(session.exec(
            select(RosterReview)
            .order_by(sa.case((RosterReview.closed_at.is_(None), 0), else_=1),  # type: ignore[union-attr]
                      sa.case((RosterReview.closed_at.is_(None), RosterReview.ends_at), else_=None),
                      RosterReview.started_at.desc(), RosterReview.id.desc())  # type: ignore[attr-defined]
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        rows = [summary_dict(s, now) for s in summaries(session, listed)]
        return ProgressPage(rows, total, page, pages)


def _system_requests():
    return (select(AccessRequest, Person, Organization.name)
            .join(Person, Person.id == AccessRequest.subject_person_id)
            .join(Organization, Organization.id == AccessRequest.organization_id)
            .where(AccessRequest.submitter_id == select(Person.id).where(
                Person.email == SYSTEM_EMAIL).scalar_subquery()))


def automatic_deletions_waiting(actor: Actor, limit: int = 20) -> list[dict]:
    """The open Access Deletions the portal opened itself, oldest first: staff confirm them."""
    require_staff(actor)
    with session_scope() as session:
        listed = session.exec(_system_requests().where(
            AccessRequest.status.in_(OPEN_STATUSES))  # type: ignore[attr-defined]
            .order_by(AccessRequest.created_at, AccessRequest.id).limit(limit)).all()
        return [{"number": r.number, "href": routes.request_url(r.number), "name": p.full_name,
                 "organization": org, "opened": program_date(r.created_at),
                 "cause": "Inactivity" if r.idempotency_key.startswith("idle-") else "Roster review",
                 "why": r.note} for r, p, org in listed]


@dataclass(frozen=True)
class ReviewFigures:
    open_reviews: int
    overdue: int
    completed_on_time: int
    closed_late: int
    removed_by_review: int
    removed_by_inactivity: int
    waiting_for_staff: int


def review_figures(actor: Actor, *, now: datetime | None = None, days: int = 365) -> ReviewFigures:
    """The staff metrics of reviews and inactivity (the last ``days`` for what has ended)."""
    require_staff(actor)
    now = now or utcnow()
    since = now - timedelta(days=days)
    with session_scope() as session:
        def count(statement) -> int:
            return session.exec(select(sa.func.count()).select_from(statement.subquery())).one()

        open_ = RosterReview.closed_at.is_(None)  # type: ignore[union-attr]
        closed_since = sa.and_(RosterReview.closed_at.is_not(None), RosterReview.closed_at >= since)  # type: ignore[union-attr]
        removed = _system_requests().where(AccessRequest.status == RequestStatus.COMPLETED,
                                           AccessRequest.request_type == RequestType.ACCESS_DELETION,
                                           AccessRequest.completed_at >= since)
        return ReviewFigures(
            open_reviews=count(select(RosterReview.id).where(open_)),
            overdue=count(select(RosterReview.id).where(open_, RosterReview.ends_at <= now)),
            completed_on_time=count(select(RosterReview.id).where(
                closed_since, RosterReview.closed_at <= RosterReview.ends_at)),
            closed_late=count(select(RosterReview.id).where(
                closed_since, RosterReview.closed_at > RosterReview.ends_at)),
            removed_by_review=count(removed.where(AccessRequest.idempotency_key.like("review-%"))),  # type: ignore[attr-defined]
            removed_by_inactivity=count(removed.where(AccessRequest.idempotency_key.like("idle-%"))),  # type: ignore[attr-defined]
            waiting_for_staff=count(_system_requests().where(
                AccessRequest.status.in_(OPEN_STATUSES))),  # type: ignore[attr-defined]
        )
