"""Backups while away: who may stand in for whom, on which days, and that it never passes on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from immtrax_portal.domain.enums import DelegationKind, RequestStatus, RequestType
from immtrax_portal.domain.permissions import (
    MAX_COVER_DAYS,
    Actor,
    Cover,
    acting_for,
    cover_refusal,
    covered_owner_ids,
    covering_owner,
    covering_today,
    may_act_for,
    may_end_cover,
    open_actions,
    request_action_refusal,
)
from immtrax_portal.domain.workflow import Action

TODAY = date(2026, 12, 7)
ORG, OTHER_ORG = 1, 2
DANA, ROBIN, KAI, STAFF = 10, 11, 12, 20


@dataclass
class Request:
    organization_id: int = ORG
    subject_person_id: int = 99
    submitter_id: int = DANA
    number: str = "IMR-2026-000001"
    request_type: RequestType = RequestType.NEW_ACCESS
    status: RequestStatus = RequestStatus.AWAITING_AGREEMENT


def cover(delegator=DANA, delegate=ROBIN, first=TODAY, last=TODAY + timedelta(days=4), org=ORG,
          ended=False, kind=DelegationKind.SUPERVISOR) -> Cover:
    return Cover(kind, delegator, delegate, first, last, org, ended)


def supervisor(person_id: int, *covers: Cover, today: date = TODAY, orgs=(ORG,)) -> Actor:
    return Actor(person_id, f"p{person_id}@example.org", supervised_org_ids=frozenset(orgs),
                 covering=covering_today(person_id, covers, today))


@pytest.mark.parametrize(("today", "in_force"), [
    (TODAY - timedelta(days=1), False), (TODAY, True), (TODAY + timedelta(days=4), True),
    (TODAY + timedelta(days=5), False)])
def test_a_cover_is_in_force_from_its_first_to_its_last_day_and_ends_by_itself(today, in_force):
    robin = supervisor(ROBIN, cover(), today=today)
    assert may_act_for(robin, DANA, DelegationKind.SUPERVISOR, ORG) is in_force
    assert (request_action_refusal(robin, Action.CANCEL, Request()) is None) is in_force


def test_a_cover_ended_early_gives_nothing():
    assert not supervisor(ROBIN, cover(ended=True)).covering


def test_without_a_cover_only_the_submitter_may_cancel():
    refusal = request_action_refusal(supervisor(ROBIN), Action.CANCEL, Request())
    assert refusal and "backup" in refusal
    assert request_action_refusal(supervisor(DANA), Action.CANCEL, Request()) is None


def test_the_backup_sees_cancel_and_resend_buttons_exactly_where_the_rule_allows():
    assert Action.CANCEL in open_actions(supervisor(ROBIN, cover()), Request())
    assert Action.CANCEL not in open_actions(supervisor(ROBIN), Request())


def test_it_does_not_pass_on_a_backups_backup_gets_nothing_of_the_first_supervisor():
    covers = [cover(DANA, ROBIN), cover(ROBIN, KAI)]
    kai = supervisor(KAI, *covers)
    assert not may_act_for(kai, DANA, DelegationKind.SUPERVISOR, ORG)
    assert request_action_refusal(kai, Action.CANCEL, Request(submitter_id=DANA)) is not None
    assert request_action_refusal(kai, Action.CANCEL, Request(submitter_id=ROBIN)) is None


def test_a_cover_is_for_one_organization_only():
    robin = supervisor(ROBIN, cover(org=ORG), orgs=(ORG, OTHER_ORG))
    assert request_action_refusal(robin, Action.CANCEL, Request(organization_id=OTHER_ORG)) is not None


def test_a_backup_who_no_longer_supervises_the_organization_may_not_act():
    robin = supervisor(ROBIN, cover(), orgs=(OTHER_ORG,))
    assert request_action_refusal(robin, Action.CANCEL, Request()) is not None


def test_the_backup_still_never_acts_on_a_request_about_themselves():
    robin = supervisor(ROBIN, cover())
    assert request_action_refusal(robin, Action.CANCEL, Request(subject_person_id=ROBIN)) is not None


def test_an_action_for_the_absent_supervisor_names_them():
    assert acting_for(supervisor(ROBIN, cover()), Request()) == DANA
    assert acting_for(supervisor(DANA), Request()) is None
    assert acting_for(supervisor(ROBIN), Request()) is None


def test_the_staff_side_uses_the_same_model_with_the_owner():
    staff = Actor(STAFF, "s@example.org", is_staff=True,
                  covering=covering_today(STAFF, [cover(21, STAFF, org=0, kind=DelegationKind.STAFF)], TODAY))
    assert may_act_for(staff, 21, DelegationKind.STAFF)
    assert not may_act_for(staff, 21, DelegationKind.SUPERVISOR)


def naming(delegate: Actor | None, first=TODAY, last=TODAY + timedelta(days=3), org=ORG):
    return cover_refusal(supervisor(DANA), DelegationKind.SUPERVISOR, delegate, first, last, TODAY, org)


def test_a_supervisor_names_another_supervisor_of_the_same_organization():
    assert naming(supervisor(ROBIN)) is None


@pytest.mark.parametrize(("delegate", "first", "last", "org", "field"), [
    (None, TODAY, TODAY, ORG, "delegate_id"),
    (DANA, TODAY, TODAY, ORG, "delegate_id"),                        # oneself
    (KAI, TODAY, TODAY, ORG, "delegate_id"),                         # supervises another organization
    (ROBIN, TODAY, TODAY, OTHER_ORG, "organization_id"),             # not Dana's organization
    (ROBIN, TODAY - timedelta(days=1), TODAY, ORG, "starts_on"),     # in the past
    (ROBIN, TODAY + timedelta(days=3), TODAY, ORG, "ends_on"),       # ends before it starts
    (ROBIN, TODAY, TODAY + timedelta(days=MAX_COVER_DAYS), ORG, "ends_on"),  # too long
    (ROBIN, TODAY + timedelta(days=400), TODAY + timedelta(days=401), ORG, "starts_on"),
    (ROBIN, None, TODAY, ORG, "starts_on"),
])
def test_a_backup_that_cannot_be_named_says_which_field_to_fix(delegate, first, last, org, field):
    actors = {DANA: supervisor(DANA), ROBIN: supervisor(ROBIN), KAI: supervisor(KAI, orgs=(OTHER_ORG,))}
    refusal = naming(actors.get(delegate), first, last, org)
    assert refusal is not None and refusal[0] == field and refusal[1].endswith(".")


def test_the_person_who_named_the_backup_or_the_backup_may_end_it():
    c = cover()
    assert may_end_cover(supervisor(DANA), c) and may_end_cover(supervisor(ROBIN), c)
    assert not may_end_cover(supervisor(KAI), c)


# --- The staff side: a colleague stands in for the owner of assigned requests --------------------

PAT, LEE, MO = 30, 31, 32   # three members of program staff


@dataclass
class OwnedRequest(Request):
    owner_id: int | None = PAT


def staff_member(person_id: int, *covers: Cover, today: date = TODAY) -> Actor:
    return Actor(person_id, f"s{person_id}@example.org", is_staff=True,
                 covering=covering_today(person_id, covers, today))


def staff_cover(delegator=PAT, delegate=LEE, first=TODAY, last=TODAY + timedelta(days=2),
                ended=False) -> Cover:
    return cover(delegator, delegate, first, last, org=0, ended=ended, kind=DelegationKind.STAFF)


@pytest.mark.parametrize(("today", "in_force"), [
    (TODAY - timedelta(days=1), False), (TODAY, True), (TODAY + timedelta(days=2), True),
    (TODAY + timedelta(days=3), False)])
def test_a_staff_backup_looks_after_the_owners_requests_only_inside_the_range(today, in_force):
    lee = staff_member(LEE, staff_cover(), today=today)
    assert (covering_owner(lee, PAT) == PAT) is in_force
    assert (covered_owner_ids(lee) == {PAT}) is in_force
    assert (acting_for(lee, OwnedRequest()) == PAT) is in_force


def test_a_staff_backup_ended_early_looks_after_nothing():
    lee = staff_member(LEE, staff_cover(ended=True))
    assert covering_owner(lee, PAT) is None and not covered_owner_ids(lee)


def test_a_staff_backup_does_not_pass_on_to_the_backups_own_backup():
    mo = staff_member(MO, staff_cover(PAT, LEE), staff_cover(LEE, MO))
    assert covered_owner_ids(mo) == {LEE}
    assert covering_owner(mo, PAT) is None
    assert acting_for(mo, OwnedRequest(owner_id=PAT)) is None
    assert acting_for(mo, OwnedRequest(owner_id=LEE)) == LEE


def test_ones_own_or_an_unassigned_request_names_nobody_else():
    lee = staff_member(LEE, staff_cover())
    assert acting_for(lee, OwnedRequest(owner_id=LEE)) is None
    assert acting_for(lee, OwnedRequest(owner_id=None)) is None
    assert acting_for(staff_member(PAT), OwnedRequest()) is None


def test_a_staff_cover_gives_nothing_to_someone_no_longer_staff():
    former = Actor(LEE, "s31@example.org", covering=covering_today(LEE, [staff_cover()], TODAY))
    assert covering_owner(former, PAT) is None and not covered_owner_ids(former)


def test_a_supervisor_cover_is_not_a_staff_cover():
    robin = supervisor(ROBIN, cover())
    assert covered_owner_ids(robin) == frozenset()
    assert acting_for(robin, OwnedRequest(owner_id=DANA, submitter_id=KAI)) is None


def test_staff_name_other_staff_only():
    pat = staff_member(PAT)
    assert cover_refusal(pat, DelegationKind.STAFF, staff_member(LEE), TODAY, TODAY, TODAY) is None
    refusal = cover_refusal(pat, DelegationKind.STAFF, supervisor(ROBIN), TODAY, TODAY, TODAY)
    assert refusal is not None and refusal[0] == "delegate_id"
    assert cover_refusal(pat, DelegationKind.STAFF, pat, TODAY, TODAY, TODAY)[0] == "delegate_id"
    assert cover_refusal(supervisor(DANA), DelegationKind.STAFF, staff_member(LEE), TODAY, TODAY, TODAY)
