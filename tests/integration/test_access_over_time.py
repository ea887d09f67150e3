"""Access over time, under a controllable clock: scheduled removals (across a daylight-saving
change), time-limited access and its extension, yearly re-signing of the User Agreement (reminders,
lapse, restore, a new version everyone signs), and supervisor succession.

Every job is called with the time it runs at (``now``); nothing waits for the real clock.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestStatus
from immtrax_portal.domain.models import (
    AccessEnd,
    AccessRequest,
    AgreementRenewal,
    AuditEvent,
    Grant,
    OutboundEmail,
    Person,
    RenewalLink,
    SupervisorLink,
    utcnow,
)
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.domain.workflow import Action
from immtrax_portal.program_time import end_of_program_day, program_today
from immtrax_portal.services import access_ends, agreement_admin, renewals, succession
from immtrax_portal.services.actors import load_actor
from immtrax_portal.services.agreements import publish_default_agreement
from immtrax_portal.services.lifecycle_metrics import lifecycle_metrics
from immtrax_portal.services.organizations import unlink_supervisor
from immtrax_portal.services.request_actions import ActionInput, act_on_request
from immtrax_portal.services.requests import submit_request
from immtrax_portal.services.review_pages import review_figures
from immtrax_portal.settings import get_settings
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.wizard_world import access_deletion, build_world, in_days

INBOX = "immtrax-access@mt.example"


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        world = build_world()
        with session_scope() as session:
            staff = Person(
                email="stella.staff@mt.example", first_name="Stella", last_name="Staff", is_staff=True
            )
            session.add(staff)
            publish_default_agreement(session, published_by_id=None)
            session.flush()
            world.users["staff"] = staff.id
        yield world


def actor(person_id: int):
    with session_scope() as session:
        return load_actor(session, person_id)


def events(action: AuditAction) -> list[AuditEvent]:
    with session_scope() as session:
        return list(
            session.exec(select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.id))
        )


def mail(kind: str) -> list[OutboundEmail]:
    with session_scope() as session:
        return list(
            session.exec(select(OutboundEmail).where(OutboundEmail.kind == kind).order_by(OutboundEmail.id))
        )


def grant_of(person_id: int, org_id: int) -> Grant:
    with session_scope() as session:
        return session.exec(
            select(Grant).where(Grant.person_id == person_id, Grant.organization_id == org_id)
        ).one()


def schedule_end(world, email: str, kind: str, last_day: date) -> int:
    with session_scope() as session:
        grant = session.exec(select(Grant).where(Grant.person_id == world.user(email))).one()
        return access_ends.schedule(
            session, grant, kind, last_day, request=None, actor_id=world.sam, actor_role="supervisor"
        ).id


# --- Scheduled removal ---------------------------------------------------------------------------


def test_a_deletion_with_a_last_day_ahead_keeps_access_until_that_day_ends(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(
        world.sam, access_deletion(world.alpha, ana, last_day=in_days(10)), "scheduled-removal-key-0001"
    )
    assert grant_of(ana, world.alpha).active  # not at submission
    with session_scope() as session:
        end = session.exec(select(AccessEnd).where(AccessEnd.request_id == request.id)).one()
    assert end.kind == access_ends.SCHEDULED_REMOVAL
    assert end.ends_at == end_of_program_day(date.fromisoformat(in_days(10)))
    assert access_ends.run_scheduled_access_ends(end.ends_at - timedelta(seconds=1)) == 0
    assert grant_of(ana, world.alpha).active
    assert access_ends.run_scheduled_access_ends(end.ends_at) == 1
    assert access_ends.run_scheduled_access_ends(end.ends_at + timedelta(hours=1)) == 0  # once
    assert not grant_of(ana, world.alpha).active
    ended = events(AuditAction.ACCESS_ENDED)
    assert len(ended) == 1 and ended[0].actor_id is None and ended[0].actor_role == "system"
    assert json.loads(ended[0].details)["rule"] == "scheduled_removal.last_day_ended"
    assert sorted(m.to_address for m in mail("access_ended")) == [INBOX, "sam.supervisor@alpha.example"]
    receipt = [m for m in mail("receipt") if m.request_id == request.id][0]
    assert "keeps access until the end of" in receipt.body_text


def test_a_deletion_for_today_still_suspends_access_at_once(world):
    ben = world.user("ben.ortiz@alpha.example")
    submit_request(world.sam, access_deletion(world.alpha, ben), "scheduled-removal-key-0002")
    assert not grant_of(ben, world.alpha).active


@pytest.mark.parametrize(
    ("last_day", "utc_end"),
    [
        (date(2026, 11, 1), datetime(2026, 11, 2, 7, 0, tzinfo=UTC)),  # fall back: a 25-hour day, MST after
        (date(2027, 3, 14), datetime(2027, 3, 15, 6, 0, tzinfo=UTC)),  # spring forward: 23 hours, MDT after
    ],
)
def test_a_scheduled_removal_ends_at_the_programs_midnight_across_a_daylight_saving_change(
    world, last_day, utc_end
):
    assert get_settings().business_time_zone == "America/Denver"
    ana = world.user("ana.lopez@alpha.example")
    schedule_end(world, "ana.lopez@alpha.example", access_ends.SCHEDULED_REMOVAL, last_day)
    assert access_ends.run_scheduled_access_ends(utc_end - timedelta(minutes=1)) == 0
    assert grant_of(ana, world.alpha).active
    assert access_ends.run_scheduled_access_ends(utc_end) == 1
    assert not grant_of(ana, world.alpha).active
    assert grant_of(ana, world.alpha).until == utc_end


def test_the_supervisor_moves_the_last_day_and_cancelling_the_deletion_cancels_the_removal(world):
    ana = world.user("ana.lopez@alpha.example")
    request = submit_request(
        world.sam, access_deletion(world.alpha, ana, last_day=in_days(5)), "scheduled-removal-key-0003"
    )
    with session_scope() as session:
        end_id = session.exec(select(AccessEnd.id).where(AccessEnd.request_id == request.id)).one()
    moved = access_ends.move_last_day(actor(world.sam), end_id, in_days(20))
    assert moved.last_day.isoformat() == in_days(20)
    with pytest.raises(access_ends.AccessEndProblem, match="more than 90 days"):
        access_ends.move_last_day(actor(world.sam), end_id, in_days(120))
    with pytest.raises(NotAllowed):  # another organization's supervisor
        access_ends.move_last_day(actor(world.tess), end_id, in_days(8))
    assert access_ends.run_scheduled_access_ends(end_of_program_day(date.fromisoformat(in_days(5)))) == 0
    with session_scope() as session:
        version = session.get(AccessRequest, request.id).version  # moving the day changed the request
        assert session.get(AccessRequest, request.id).last_day.isoformat() == in_days(20)
    act_on_request(actor(world.sam), request.id, ActionInput(Action.CANCEL, version))
    assert access_ends.run_scheduled_access_ends(utcnow() + timedelta(days=30)) == 0
    assert grant_of(ana, world.alpha).active
    assert len(events(AuditAction.ACCESS_END_CANCELLED)) == 1
    staff_view = access_ends.upcoming_for_staff(actor(world.users["staff"]))
    assert staff_view.total == 0


def test_staff_see_upcoming_removals_soonest_first_and_others_may_not(world):
    today = program_today()
    schedule_end(world, "ana.lopez@alpha.example", access_ends.SCHEDULED_REMOVAL, today + timedelta(days=9))
    schedule_end(world, "dora.beta@beta.example", access_ends.END_DATE, today + timedelta(days=3))
    view = access_ends.upcoming_for_staff(actor(world.users["staff"]))
    assert [r.person_name for r in view.rows] == ["Dora Beta", "Ana Lopez"]
    assert [r.kind_label for r in view.rows] == ["Time-limited access", "Scheduled removal"]
    with pytest.raises(NotAllowed):
        access_ends.upcoming_for_staff(actor(world.sam))
    assert [r.person_name for r in access_ends.upcoming_for_supervisor(actor(world.sam))] == ["Ana Lopez"]


# --- Time-limited access -------------------------------------------------------------------------


def test_time_limited_access_reminds_14_and_1_days_before_and_one_action_extends_it(world):
    ana = world.user("ana.lopez@alpha.example")
    last_day = program_today() + timedelta(days=20)
    end_id = schedule_end(world, "ana.lopez@alpha.example", access_ends.END_DATE, last_day)
    ends_at = end_of_program_day(last_day)
    assert access_ends.run_access_end_reminders(ends_at - timedelta(days=15)) == 0
    assert access_ends.run_access_end_reminders(ends_at - timedelta(days=14)) == 1
    assert access_ends.run_access_end_reminders(ends_at - timedelta(days=13)) == 0
    assert access_ends.run_access_end_reminders(ends_at - timedelta(days=1)) == 1
    reminders = events(AuditAction.ACCESS_END_REMINDER)
    assert [json.loads(e.details)["rule"] for e in reminders] == [
        "time_limited_access.reminder_14_days",
        "time_limited_access.reminder_1_days",
    ]
    assert [m.to_address for m in mail("access_end_reminder")] == ["sam.supervisor@alpha.example"] * 2
    extended = access_ends.extend_access(actor(world.sam), end_id)
    assert extended.last_day == last_day + timedelta(days=90)
    assert access_ends.run_scheduled_access_ends(ends_at + timedelta(hours=1)) == 0
    assert grant_of(ana, world.alpha).active
    new_end = end_of_program_day(extended.last_day)
    assert access_ends.run_access_end_reminders(new_end - timedelta(days=14)) == 1  # reminded afresh
    assert access_ends.run_scheduled_access_ends(new_end) == 1
    assert not grant_of(ana, world.alpha).active
    assert json.loads(events(AuditAction.ACCESS_ENDED)[0].details)["rule"] == "time_limited_access.end_date"


def test_nobody_extends_their_own_time_limited_access(world):
    with session_scope() as session:
        session.add(Grant(person_id=world.sam, organization_id=world.alpha, access_level="read_only_consent"))
    with session_scope() as session:
        grant = session.exec(select(Grant).where(Grant.person_id == world.sam)).one()
        end_id = access_ends.schedule(
            session,
            grant,
            access_ends.END_DATE,
            program_today() + timedelta(days=5),
            request=None,
            actor_id=None,
            actor_role="system",
        ).id
    with pytest.raises(NotAllowed, match="own access"):
        access_ends.extend_access(actor(world.sam), end_id)


# --- Yearly re-signing ---------------------------------------------------------------------------


def open_cycle(world, email: str) -> AgreementRenewal:
    with session_scope() as session:
        return session.exec(
            select(AgreementRenewal).where(
                AgreementRenewal.person_id == world.user(email), AgreementRenewal.signed_at.is_(None)
            )
        ).one()


@pytest.fixture
def tokens(monkeypatch):
    issued: list[str] = []
    real = renewals.issue_link

    def remembering(*args, **kwargs):
        token = real(*args, **kwargs)
        issued.append(token)
        return token

    monkeypatch.setattr(renewals, "issue_link", remembering)
    return issued


def sign_again(world, email: str, token: str, **changes):
    person_id = world.user(email)
    with session_scope() as session:
        person = session.get(Person, person_id)
        name = person.full_name
    fields = dict(
        person_id=person_id,
        okta_subject="okta-" + email,
        verified_email=email,
        typed_name=name,
        acknowledged=[0, 1, 2],
        ip_address="127.0.0.1",
        user_agent="test",
        agreement_version_id=None,
    )
    fields.update(changes)
    return renewals.sign_renewal(token, **fields)


def test_the_agreement_is_signed_again_yearly_with_reminders_then_lapses_and_signing_restores(world, tokens):
    start = utcnow()
    assert renewals.run_agreement_renewals(start) >= 3  # a cycle for each of the three with access
    ana = world.user("ana.lopez@alpha.example")
    cycle = open_cycle(world, "ana.lopez@alpha.example")
    due = cycle.due_at
    assert due - start > timedelta(days=360)
    # Reminders 30, 7 and 1 days before, each once, each with a fresh link, copied to Sam.
    for days in (30, 7, 1):
        renewals.run_agreement_renewals(due - timedelta(days=days))
        renewals.run_agreement_renewals(due - timedelta(days=days) + timedelta(minutes=5))
    ana_reminders = [m for m in mail("renewal_reminder") if m.to_address == "ana.lopez@alpha.example"]
    assert len(ana_reminders) == 3
    copies = [m for m in mail("renewal_reminder_copy") if "Ana Lopez" in m.subject]
    assert [m.to_address for m in copies] == ["sam.supervisor@alpha.example"] * 3
    assert all("/renew/" not in m.body_text for m in copies)  # the link goes to Ana only
    rules = [
        json.loads(e.details)["rule"]
        for e in events(AuditAction.AGREEMENT_RENEWAL_REMINDER)
        if e.target_id == str(ana)
    ]
    assert rules == [f"agreement_renewal.reminder_{d}_days" for d in (30, 7, 1)]
    with session_scope() as session:
        links = session.exec(select(RenewalLink).where(RenewalLink.renewal_id == cycle.id)).all()
    assert len(links) == 3 and sum(1 for link in links if link.revoked_at is None) == 1
    # An older link no longer works.
    with pytest.raises(renewals.RenewalRefused) as older:
        sign_again(world, "ana.lopez@alpha.example", tokens_of(tokens, "ana.lopez@alpha.example")[0])
    assert older.value.code == "revoked"
    # The agreement lapses: access suspended, staff told to deactivate.
    renewals.run_agreement_renewals(due)
    assert not grant_of(ana, world.alpha).active
    lapsed = [e for e in events(AuditAction.AGREEMENT_LAPSED) if e.target_id == str(ana)]
    assert len(lapsed) == 1 and lapsed[0].actor_role == "system"
    staff_mail = [m for m in mail("agreement_lapsed_staff") if "Ana Lopez" in m.subject]
    assert len(staff_mail) == 1 and staff_mail[0].to_address == INBOX
    renewals.run_agreement_renewals(due + timedelta(hours=1))  # nothing twice
    assert len([e for e in events(AuditAction.AGREEMENT_LAPSED) if e.target_id == str(ana)]) == 1
    # Signing with the link in the lapse email restores access and tells staff.
    lapse_link = tokens_of(tokens, "ana.lopez@alpha.example")[-1]  # sent with the lapse email
    signed = sign_again(world, "ana.lopez@alpha.example", lapse_link, now=due + timedelta(days=2))
    assert signed.restored == 1
    assert grant_of(ana, world.alpha).active
    assert len([m for m in mail("agreement_renewed_staff") if "Ana Lopez" in m.subject]) == 1
    following = open_cycle(world, "ana.lopez@alpha.example")
    assert following.id != cycle.id and following.due_at > due + timedelta(days=360)
    # The staff metrics count every agreement that lapsed (the three cycles were due together).
    lapsed_total = len(events(AuditAction.AGREEMENT_LAPSED))
    [figure] = [f for f in lifecycle_metrics(actor(world.users["staff"])) if "lapsed" in f.label]
    assert lapsed_total >= 1 and set(figure.counts) == {lapsed_total}


def tokens_of(tokens: list[str], email: str) -> list[str]:
    """The links sent to ``email``, oldest first (tokens are stored only as hashes)."""
    from immtrax_portal.services.invitations import hash_token

    with session_scope() as session:
        hashes = set(session.exec(select(RenewalLink.token_hash).where(RenewalLink.email == email)))
    return [t for t in tokens if hash_token(t) in hashes]


def test_signing_again_checks_the_person_the_name_and_every_statement(world, tokens):
    start = utcnow()
    renewals.run_agreement_renewals(start)
    due = open_cycle(world, "ben.ortiz@alpha.example").due_at
    renewals.run_agreement_renewals(due - timedelta(days=30))
    token = tokens_of(tokens, "ben.ortiz@alpha.example")[-1]
    with pytest.raises(renewals.RenewalRefused) as wrong:
        sign_again(
            world,
            "ben.ortiz@alpha.example",
            token,
            verified_email="ana.lopez@alpha.example",
            person_id=world.user("ana.lopez@alpha.example"),
        )
    assert wrong.value.code == "wrong_identity"
    with pytest.raises(renewals.RenewalRefused) as name:
        sign_again(world, "ben.ortiz@alpha.example", token, typed_name="Someone Else")
    assert name.value.code == "name_mismatch"
    with pytest.raises(renewals.RenewalRefused) as ticks:
        sign_again(world, "ben.ortiz@alpha.example", token, acknowledged=[0])
    assert ticks.value.code == "acknowledgements_missing"
    assert len(events(AuditAction.AGREEMENT_RENEWAL_REFUSED)) == 3
    assert sign_again(world, "ben.ortiz@alpha.example", token).restored == 0  # not lapsed: nothing to restore
    with pytest.raises(renewals.RenewalRefused) as again:
        sign_again(world, "ben.ortiz@alpha.example", token)
    assert again.value.code == "used"


def test_a_new_version_everyone_must_sign_again_moves_every_due_day_to_the_chosen_day(world):
    renewals.run_agreement_renewals(utcnow())
    staff = actor(world.users["staff"])
    by_day = program_today() + timedelta(days=45)
    agreement_admin.publish_agreement(
        staff, "2026-2", "imMTrax User Agreement", "New text for all.", ["I agree."], resign_by=by_day
    )
    cycle = open_cycle(world, "ana.lopez@alpha.example")
    assert cycle.due_at == end_of_program_day(by_day) and cycle.cause == "new_version"
    assert renewals.send_due_reminders(cycle.due_at - timedelta(days=30)) == 3
    assert "published a new imMTrax User Agreement" in mail("renewal_reminder")[0].body_text
    assert len(events(AuditAction.AGREEMENT_RESIGN_REQUIRED)) == 1


def test_the_day_to_sign_again_by_must_be_ahead_and_within_a_year():
    today = date(2026, 12, 2)
    assert agreement_admin.resign_by_problem("2026-12-02", today) == "Choose a day after today."
    assert "365 days" in agreement_admin.resign_by_problem("2028-01-01", today)
    assert "for example" in agreement_admin.resign_by_problem("next week", today)
    assert agreement_admin.resign_by_problem("2027-01-31", today) is None


def test_a_cycle_opened_late_never_lapses_before_a_first_reminder_could_go(world):
    with session_scope() as session:
        grant = session.exec(
            select(Grant).where(Grant.person_id == world.user("ana.lopez@alpha.example"))
        ).one()
        grant.since = utcnow() - timedelta(days=800)  # access from long before the portal
        session.add(grant)
    now = utcnow()
    renewals.run_agreement_renewals(now)
    assert open_cycle(world, "ana.lopez@alpha.example").due_at >= now + timedelta(days=30)
    assert grant_of(world.user("ana.lopez@alpha.example"), world.alpha).active


def test_months_are_added_by_the_calendar():
    assert renewals.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert renewals.add_months(datetime(2027, 2, 28, tzinfo=UTC), 12) == datetime(2028, 2, 28, tzinfo=UTC)
    assert renewals.add_months(datetime(2026, 12, 2, tzinfo=UTC), 12) == datetime(2027, 12, 2, tzinfo=UTC)


# --- Supervisor succession -----------------------------------------------------------------------


def test_the_last_supervisor_unlinked_alerts_staff_at_once_and_lists_the_organization(world):
    staff = actor(world.users["staff"])
    submit_request(
        world.sam,
        access_deletion(world.alpha, world.user("ben.ortiz@alpha.example")),
        "succession-key-000001",
    )
    view = succession.succession_view(staff)
    assert {row.name for row in view.single} == {"Alpha Clinic", "Beta Health"}
    unlink_supervisor(staff, world.alpha, world.sam)
    alerts = events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR)
    assert len(alerts) == 1 and alerts[0].actor_role == "system"
    assert json.loads(alerts[0].details)["rule"] == "succession.unlinked_by_staff"
    assert [m.to_address for m in mail("organization_without_supervisor")] == [INBOX]
    view = succession.succession_view(staff)
    assert [row.name for row in view.orphans] == ["Alpha Clinic"]
    orphan = view.orphans[0]
    assert orphan.open_total == 1 and orphan.roster_total == 1  # Ana (Ben's access is suspended)
    assert orphan.roster == ["Ana Lopez (ana.lopez@alpha.example), Record Maintenance"]
    with session_scope() as session:
        session.add(SupervisorLink(person_id=world.tess, organization_id=world.alpha))
    assert succession.succession_view(staff).orphans == []


def test_a_supervisor_whose_own_access_ends_stops_supervising_and_staff_are_told_if_none_is_left(world):
    with session_scope() as session:
        session.add(Grant(person_id=world.tess, organization_id=world.beta, access_level="read_only_consent"))
    with session_scope() as session:
        grant = session.exec(select(Grant).where(Grant.person_id == world.tess)).one()
        end = access_ends.schedule(
            session,
            grant,
            access_ends.END_DATE,
            program_today() + timedelta(days=2),
            request=None,
            actor_id=None,
            actor_role="system",
        )
    access_ends.run_scheduled_access_ends(end.ends_at)
    with session_scope() as session:
        assert session.exec(select(SupervisorLink).where(SupervisorLink.person_id == world.tess)).all() == []
    alerts = events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR)
    assert [json.loads(a.details)["rule"] for a in alerts] == ["succession.own_access_ended"]


def give_tess_access_at_beta(username: str = "tboss") -> None:
    """Tess, Beta's only supervisor, also holds imMTrax access there herself."""
    with session_scope() as session:
        tess = session.exec(select(Person).where(Person.email == "tess.boss@beta.example")).one()
        session.add(Grant(person_id=tess.id, organization_id=session.exec(
            select(SupervisorLink.organization_id).where(SupervisorLink.person_id == tess.id)).one(),
            access_level="read_only_consent", immtrax_username=username))


def tess_supervises() -> bool:
    with session_scope() as session:
        tess = session.exec(select(Person).where(Person.email == "tess.boss@beta.example")).one()
        link = session.exec(select(SupervisorLink).where(SupervisorLink.person_id == tess.id)).first()
        return link is not None


def test_the_last_supervisor_removed_by_an_automatic_deletion_is_unlinked_and_staff_alerted_at_once(world):
    """Item 5: Tess is idle 100 days; the inactivity job opens an Access Deletion about her own
    access. In that same run she stops supervising Beta, staff are alerted (one event, one email)
    and Beta is listed on the succession page; staff confirming the deletion alerts nobody twice."""
    from immtrax_portal.domain.models import RegistryActivity
    from immtrax_portal.services import inactivity

    give_tess_access_at_beta()
    now = utcnow()
    with session_scope() as session:
        session.add(RegistryActivity(username="tboss", last_login_at=now - timedelta(days=100),
                                     reported_at=now))
    assert inactivity.open_idle_deletions(now) == 1
    assert not tess_supervises()
    alerts = events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR)
    assert [(a.organization_id, a.actor_role, json.loads(a.details)["rule"]) for a in alerts] == [
        (world.beta, "system", "succession.own_access_ended")]
    assert [m.to_address for m in mail("organization_without_supervisor")] == [INBOX]
    staff = actor(world.users["staff"])
    assert [o.name for o in succession.succession_view(staff).orphans] == ["Beta Health"]
    with session_scope() as session:
        deletion = session.exec(select(AccessRequest).where(
            AccessRequest.organization_id == world.beta,
            AccessRequest.subject_person_id == world.tess)).one()
    for step in (Action.QUEUE_FOR_REVIEW, Action.CONFIRM_DELETION):
        with session_scope() as session:
            version = session.get(AccessRequest, deletion.id).version
        act_on_request(staff, deletion.id, ActionInput(step, version))
    assert len(events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR)) == 1
    assert inactivity.open_idle_deletions(now) == 0          # a second run changes nothing
    assert len(mail("organization_without_supervisor")) == 1
    # The staff metrics: one access removed because of inactivity, none by review.
    figures = review_figures(staff)
    assert (figures.removed_by_inactivity, figures.removed_by_review) == (1, 0)


def test_the_last_supervisor_whose_scheduled_removal_ends_is_unlinked_and_staff_alerted(world):
    """Item 5: Sam, Beta's second supervisor, schedules the removal of Tess's own access; staff
    then unlink Sam (Tess is still there: no alert). At the end of the last day her access ends,
    she stops supervising, and Beta, now without a supervisor, is flagged to staff at once."""
    give_tess_access_at_beta()
    with session_scope() as session:
        session.add(SupervisorLink(person_id=world.sam, organization_id=world.beta))
    last_day = program_today() + timedelta(days=5)
    deletion = submit_request(world.sam, access_deletion(world.beta, world.tess, last_day=in_days(5)),
                              "succession-key-sched-01")
    assert tess_supervises()                                   # access (and the link) stay until then
    staff = actor(world.users["staff"])
    unlink_supervisor(staff, world.beta, world.sam)
    assert events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR) == []
    assert access_ends.run_scheduled_access_ends(end_of_program_day(last_day)) == 1
    assert not tess_supervises()
    alerts = events(AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR)
    assert [json.loads(a.details)["rule"] for a in alerts] == ["succession.own_access_ended"]
    orphan = succession.succession_view(staff).orphans
    assert [o.name for o in orphan] == ["Beta Health"] and deletion.number in orphan[0].open_requests


def test_staff_metrics_count_access_removed_by_schedule_and_by_end_date(world):
    """Item 7: "access removed by schedule" in the staff metrics, per window, each end once."""
    removal = schedule_end(world, "ana.lopez@alpha.example", access_ends.SCHEDULED_REMOVAL,
                           program_today() + timedelta(days=1))
    schedule_end(world, "ben.ortiz@alpha.example", access_ends.END_DATE, program_today() + timedelta(days=1))
    staff = actor(world.users["staff"])
    assert all(set(f.counts) == {0} for f in lifecycle_metrics(staff) if "lapsed" not in f.label)
    with session_scope() as session:
        ends_at = session.get(AccessEnd, removal).ends_at
    assert access_ends.run_scheduled_access_ends(ends_at) == 2
    assert access_ends.run_scheduled_access_ends(ends_at + timedelta(hours=1)) == 0
    figures = {f.label: f.counts for f in lifecycle_metrics(staff)}
    assert set(figures["Access removed on its scheduled last day"]) == {1}
    assert set(figures["Time-limited access ended on its end date"]) == {1}
    with pytest.raises(NotAllowed):
        lifecycle_metrics(actor(world.sam))


def test_a_supervisor_asks_for_a_backup_and_another_staff_member_approves(world):
    sam = actor(world.sam)
    assert succession.needs_backup(sam) == [(world.alpha, "Alpha Clinic")]
    with pytest.raises(succession.NominationInvalid) as bad:
        succession.nominate_supervisor(sam, world.alpha, "not-an-email", "", "Backup")
    assert set(bad.value.problems) == {"email", "first_name"}
    with pytest.raises(NotAllowed):
        succession.nominate_supervisor(sam, world.beta, "bo@alpha.example", "Bo", "Backup")
    nomination = succession.nominate_supervisor(sam, world.alpha, "Bo.Backup@alpha.example", "Bo", "Backup")
    with pytest.raises(succession.NominationInvalid):
        succession.nominate_supervisor(sam, world.alpha, "bo.backup@alpha.example", "Bo", "Backup")
    assert [m.to_address for m in mail("supervisor_nominated")] == [INBOX]
    with pytest.raises(NotAllowed):
        succession.decide_nomination(sam, nomination, True)  # not staff
    staff = actor(world.users["staff"])
    assert succession.succession_view(staff).nominations[0].decision_withheld == ""
    assert succession.decide_nomination(staff, nomination, True) == "approved"
    with pytest.raises(NotAllowed, match="already decided"):
        succession.decide_nomination(staff, nomination, False)
    assert succession.needs_backup(actor(world.sam)) == []
    with session_scope() as session:
        bo = session.exec(select(Person).where(Person.email == "bo.backup@alpha.example")).one()
    assert world.alpha in actor(bo.id).supervised_org_ids
    assert Counter(e.action for e in events(AuditAction.SUPERVISOR_NOMINATION_APPROVED)) == {
        "supervisor_nomination_approved": 1
    }


def test_staff_never_decide_on_a_nomination_they_made_or_that_names_them(world):
    staff_id = world.users["staff"]
    with session_scope() as session:
        session.add(SupervisorLink(person_id=staff_id, organization_id=world.beta))
    nomination = succession.nominate_supervisor(
        actor(staff_id), world.beta, "new.boss@beta.example", "New", "Boss"
    )
    with pytest.raises(NotAllowed, match="Another member of program staff"):
        succession.decide_nomination(actor(staff_id), nomination, True)


def test_every_signed_in_person_sees_who_their_supervisors_are(world):
    mine = succession.my_supervisors(world.user("ana.lopez@alpha.example"))
    assert [(m.organization_name, m.names) for m in mine] == [
        ("Alpha Clinic", "Sam Supervisor (sam.supervisor@alpha.example)")
    ]
    assert succession.my_supervisors(world.sam) == []  # no access of their own


def test_a_request_the_status_of_which_we_never_touch(world):
    """Scheduling never moves a request: the deletion waits in submitted for staff as before."""
    request = submit_request(
        world.sam,
        access_deletion(world.alpha, world.user("ana.lopez@alpha.example"), last_day=in_days(3)),
        "scheduled-removal-key-0009",
    )
    assert request.status == RequestStatus.SUBMITTED


def test_a_new_access_with_an_end_date_becomes_time_limited_access_when_provisioned(world):
    from immtrax_portal.domain.enums import Role
    from tests.e2e.security.world import _advance
    from tests.support.wizard_world import new_access

    ends_on = in_days(60)
    request = submit_request(
        world.sam, new_access(world.alpha, access_ends_on=ends_on), "time-limited-key-0001"
    )
    with session_scope() as session:
        assert session.get(AccessRequest, request.id).access_ends_on.isoformat() == ends_on
    _advance(request.id, [Action.SIGN_AGREEMENT], None, Role.APPLICANT)
    with session_scope() as session:
        version = session.get(AccessRequest, request.id).version
    act_on_request(
        actor(world.users["staff"]),
        request.id,
        ActionInput(Action.PROVISION, version, immtrax_username="nnewhire"),
    )
    with session_scope() as session:
        end = session.exec(select(AccessEnd).where(AccessEnd.request_id == request.id)).one()
    assert end.kind == access_ends.END_DATE and end.last_day.isoformat() == ends_on
    assert [r.person_name for r in access_ends.upcoming_for_staff(actor(world.users["staff"])).rows] == [
        "Nora Newhire"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", None),
        ("soon", "real date"),
        (in_days(-1), "after the start date"),
        (in_days(400), "365 days"),
        (in_days(30), None),
    ],
)
def test_the_end_date_of_time_limited_access_is_optional_and_checked(value, problem):
    from immtrax_portal.domain.validation import access_ends_on_problem

    found = access_ends_on_problem(value, in_days(3), program_today())
    assert (found is None) if problem is None else (problem in found)


def test_every_email_of_access_over_time_renders_a_hostile_name_as_text(world, tokens):
    """Each kind in templates/email/lifecycle is sent by some rule above; here all at once, for a
    person called <script>: plain text keeps it, HTML escapes it, the program's signature ends each."""
    from pathlib import Path

    from immtrax_portal.services import emails

    with session_scope() as session:
        ana = session.get(Person, world.user("ana.lopez@alpha.example"))
        ana.first_name = "<script>x</script>"
        session.add(ana)
    renewals.run_agreement_renewals(utcnow())
    due = open_cycle(world, "ana.lopez@alpha.example").due_at
    renewals.run_agreement_renewals(due - timedelta(days=30))
    renewals.run_agreement_renewals(due)
    sign_again(
        world,
        "ana.lopez@alpha.example",
        tokens_of(tokens, "ana.lopez@alpha.example")[-1],
        typed_name="<script>x</script> Lopez",
        now=due + timedelta(hours=1),
    )
    end_id = schedule_end(
        world, "ben.ortiz@alpha.example", access_ends.END_DATE, program_today() + timedelta(days=3)
    )
    with session_scope() as session:
        ends_at = session.get(AccessEnd, end_id).ends_at
    access_ends.run_access_end_reminders(ends_at - timedelta(days=1))
    access_ends.run_scheduled_access_ends(ends_at)
    succession.nominate_supervisor(actor(world.sam), world.alpha, "x@alpha.example", "Xa", "Vier")
    unlink_supervisor(actor(world.users["staff"]), world.alpha, world.sam)
    kinds = {p.stem for p in (Path(emails.__file__).parents[1] / "templates/email/lifecycle").glob("*.j2")}
    with session_scope() as session:
        sent = list(session.exec(select(OutboundEmail).where(OutboundEmail.kind.in_(sorted(kinds)))))
    assert {m.kind for m in sent} == kinds
    for message in sent:
        assert message.body_text.rstrip().endswith("Monday–Friday 8am–5pm (MST)"), message.kind
        assert "<script>" not in message.body_html, message.kind
        if "<script>x</script>" in message.body_text:
            assert "&lt;script&gt;" in message.body_html, message.kind
