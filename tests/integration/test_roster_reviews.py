"""Roster reviews with a controllable clock: a whole cycle from start to the staff's confirmation
of the Access Deletion the portal opened for a person nobody answered for; each step run twice
does its effect once; who may answer for whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import AccessLevel, RequestStatus, RequestType, Role
from immtrax_portal.domain.models import (
    AccessRequest,
    AuditEvent,
    Grant,
    OutboundEmail,
    Person,
    RosterReview,
    RosterReviewItem,
)
from immtrax_portal.domain.permissions import CONFIRM_SELF, NotAllowed
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services import reviews
from immtrax_portal.services.automatic_deletion import SYSTEM_EMAIL
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.review_pages import review_figures
from immtrax_portal.services.reviews import ReviewRefused, add_months, run_roster_reviews
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.review_world import T0, build_review_world, days
from tests.support.wizard_world import access_deletion, actor


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_review_world()


def review_of(org_id) -> RosterReview:
    with session_scope() as session:
        return session.exec(select(RosterReview).where(RosterReview.organization_id == org_id)
                            .order_by(RosterReview.id.desc())).first()


def items_of(review_id) -> dict[int, RosterReviewItem]:
    with session_scope() as session:
        return {i.person_id: i for i in session.exec(select(RosterReviewItem).where(
            RosterReviewItem.review_id == review_id))}


def mails(kind: str) -> list[str]:
    with session_scope() as session:
        return sorted(session.exec(select(OutboundEmail.to_address).where(OutboundEmail.kind == kind)))


def events(action: AuditAction) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action.value)))


def test_a_whole_review_cycle_from_start_to_the_staff_confirming_the_automatic_deletion(world):
    ana, ben, dora = (world.user(f"{n}@{o}.example") for n, o in
                      (("ana.lopez", "alpha"), ("ben.ortiz", "alpha"), ("dora.beta", "beta")))
    # Start: both organizations have people due; running twice starts nothing more.
    assert run_roster_reviews(T0) == 2
    assert run_roster_reviews(T0) == 0
    alpha, beta = review_of(world.alpha), review_of(world.beta)
    assert set(items_of(alpha.id)) == {ana, ben}            # carla's grant is inactive
    assert set(items_of(beta.id)) == {dora}
    assert alpha.ends_at == days(14) and alpha.grace_ends_at == days(21)
    assert mails("review_started") == ["sam.supervisor@alpha.example", "tess.boss@beta.example"]
    (started, _) = sorted(events(AuditAction.REVIEW_STARTED), key=lambda e: e.id)
    assert started.actor_role == Role.SYSTEM and "every 12 months" in started.reason

    # Reminders: 7 days before the end, once however often the job runs; not yet the second.
    assert run_roster_reviews(days(6.9)) == 0
    assert run_roster_reviews(days(7)) == 2
    assert run_roster_reviews(days(7.5)) == 0
    assert len(mails("review_reminder")) == 2

    # Answers: Sam confirms Ana and removes Ben through the ordinary Access Deletion.
    reviews.confirm_item(actor(world.sam), items_of(alpha.id)[ana].id, now=days(8))
    reviews.confirm_item(actor(world.sam), items_of(alpha.id)[ana].id, now=days(8))  # a double click
    assert len(events(AuditAction.REVIEW_CONFIRMED)) == 1
    removal = submit_request(world.sam, access_deletion(world.alpha, ben), "review-cycle-ben-0000001")
    # The second reminder: Alpha is now fully answered and closes on time; only Tess is reminded.
    assert run_roster_reviews(days(12)) == 2
    assert review_of(world.alpha).closed_at == days(12)
    assert items_of(alpha.id)[ben].outcome == reviews.CHANGE_REQUESTED
    assert items_of(alpha.id)[ben].request_id == removal.id
    assert mails("review_reminder").count("tess.boss@beta.example") == 2
    assert mails("review_reminder").count("sam.supervisor@alpha.example") == 1

    # No answer from Beta: at the end of the window staff are told, once.
    assert run_roster_reviews(days(14)) == 1
    assert run_roster_reviews(days(15)) == 0
    assert review_of(world.beta).overdue_at == days(14)
    assert mails("review_overdue_staff") == [get_settings().program_inbox]
    (overdue,) = events(AuditAction.REVIEW_OVERDUE)
    assert overdue.actor_role == Role.SYSTEM and "1 people not confirmed" in overdue.reason
    with session_scope() as session:
        assert session.exec(select(Grant).where(Grant.person_id == dora)).one().active  # not yet

    # Grace over: an Access Deletion is opened for Dora by the system, once.
    assert run_roster_reviews(days(20.9)) == 0
    assert run_roster_reviews(days(21)) >= 1
    assert run_roster_reviews(days(21)) == 0
    with session_scope() as session:
        (deletion,) = session.exec(select(AccessRequest).where(AccessRequest.subject_person_id == dora)).all()
        assert deletion.request_type == RequestType.ACCESS_DELETION
        assert deletion.status == RequestStatus.SUBMITTED
        assert session.get(Person, deletion.submitter_id).email == SYSTEM_EMAIL
        assert not session.exec(select(Grant).where(Grant.person_id == dora)).one().active
    (cause,) = events(AuditAction.REVIEW_AUTO_DELETION)
    assert cause.actor_id is None and cause.actor_role == Role.SYSTEM
    assert "Roster review not confirmed" in cause.reason and cause.request_id == deletion.id
    assert mails("automatic_deletion") == ["tess.boss@beta.example"]
    assert mails("automatic_deletion_staff") == [get_settings().program_inbox]
    assert mails("automatic_deletion_person") == ["dora.beta@beta.example"]   # told, not silently
    closed = review_of(world.beta)
    assert closed.closed_at == days(21)
    assert items_of(closed.id)[dora].outcome == reviews.AUTO_DELETION

    # Staff confirm it like any deletion; nobody writes to the system's address.
    stella = actor(world.users["staff"])
    for action in (Action.QUEUE_FOR_REVIEW, Action.CONFIRM_DELETION):
        with session_scope() as session:
            version = session.get(AccessRequest, deletion.id).version
        act_on_request(stella, deletion.id, ActionInput(action=action, expected_version=version))
    with session_scope() as session:
        assert session.get(AccessRequest, deletion.id).status == RequestStatus.COMPLETED
        assert not session.exec(select(OutboundEmail).where(OutboundEmail.to_address == SYSTEM_EMAIL)).all()

    # The staff figures: one review done on time, one closed late, one access removed by review.
    figures = review_figures(stella, now=days(22))
    assert (figures.completed_on_time, figures.closed_late, figures.removed_by_review,
            figures.open_reviews, figures.waiting_for_staff) == (1, 1, 1, 0, 0)

    # The next scheduled review of Ana comes 12 months after her confirmation, not before.
    assert run_roster_reviews(add_months(days(8), 12) - timedelta(hours=1)) == 0
    assert run_roster_reviews(add_months(days(8), 12)) == 1


def test_supervisors_answer_only_for_their_own_organizations_and_never_for_themselves(world):
    run_roster_reviews(T0)
    alpha = review_of(world.alpha)
    item = next(iter(items_of(alpha.id).values()))
    with pytest.raises(NotAllowed):
        reviews.confirm_item(actor(world.tess), item.id, now=days(1))
    with session_scope() as session:   # Sam also holds access at Alpha himself
        session.add(Grant(person_id=world.sam, organization_id=world.alpha,
                          access_level=AccessLevel.READ_ONLY_CONSENT))
    with session_scope() as session:
        own = RosterReviewItem(review_id=alpha.id, grant_id=session.exec(select(Grant.id).where(
            Grant.person_id == world.sam)).one(), person_id=world.sam,
            access_level=AccessLevel.READ_ONLY_CONSENT)
        session.add(own)
        session.flush()
        own_id = own.id
    with pytest.raises(NotAllowed, match=CONFIRM_SELF[:30]):
        reviews.confirm_item(actor(world.sam), own_id, now=days(1))
    assert items_of(alpha.id)[item.person_id].outcome == reviews.PENDING


def test_staff_start_an_extra_review_of_one_organization_and_not_a_second_one_at_once(world):
    stella = actor(world.users["staff"])
    review = reviews.start_extra_review(stella, "alpha-1", now=T0)
    assert review.kind == reviews.EXTRA and len(items_of(review.id)) == 2
    with pytest.raises(ReviewRefused, match="already has a roster review"):
        reviews.start_extra_review(stella, "ALPHA-1", now=T0)
    with pytest.raises(ReviewRefused, match="No organization has the code"):
        reviews.start_extra_review(stella, "NOPE-9", now=T0)
    with pytest.raises(NotAllowed):
        reviews.start_extra_review(actor(world.sam), "BETA-2", now=T0)
    # The schedule leaves Alpha alone while its extra review is open, and starts Beta's.
    assert run_roster_reviews(T0) == 1
