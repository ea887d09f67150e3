"""What each live page declares it shows, and which changes wake it: a change wakes only pages
that show its kind (requests, roster) of the things it concerns."""

from __future__ import annotations

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.services.change_feed import EVERY_KIND, Change, Scope, Shows

REQUESTS, ROSTER = frozenset({Shows.REQUESTS}), frozenset({Shows.ROSTER})
QUEUE = Scope(everything=True, shows=REQUESTS | ROSTER)
METRICS = Scope(everything=True, shows=REQUESTS)
ORGANIZATIONS = Scope(everything=True, shows=ROSTER)
ONE_ORGANIZATION = Scope(organization_ids=frozenset({7}), shows=REQUESTS | ROSTER)


def submitted(org: int = 7) -> Change:
    return Change(id=1, organization_id=org, request_id=11, action=AuditAction.SUBMIT.value)


def linked(org: int = 7) -> Change:
    return Change(id=2, organization_id=org, action=AuditAction.LINK_SUPERVISOR.value)


def test_a_submission_wakes_the_queue_and_the_metrics_but_not_the_organization_list():
    assert QUEUE.touches(submitted()) and METRICS.touches(submitted())
    assert not ORGANIZATIONS.touches(submitted())


def test_a_supervisor_link_wakes_the_organization_pages_but_not_the_metrics():
    assert ORGANIZATIONS.touches(linked()) and ONE_ORGANIZATION.touches(linked())
    assert not METRICS.touches(linked())


def test_an_organization_page_wakes_only_for_its_own_organization():
    assert ONE_ORGANIZATION.touches(submitted(7))
    assert not ONE_ORGANIZATION.touches(submitted(8)) and not ONE_ORGANIZATION.touches(linked(8))


def test_a_provisioning_moves_both_the_request_and_the_roster():
    grant = Change(id=3, organization_id=7, request_id=11, action=AuditAction.GRANT_PROVISION.value)
    assert grant.kinds == EVERY_KIND
    assert METRICS.touches(grant) and ORGANIZATIONS.touches(grant)


def test_an_unknown_action_and_a_fallen_behind_page_wake_everyone():
    unknown = Change(id=4, organization_id=9, action="from_a_newer_version")
    behind = Change(id=5, touches_everything=True)
    for scope in (METRICS, ORGANIZATIONS, ONE_ORGANIZATION):
        assert scope.touches(behind)
    assert METRICS.touches(unknown) and ORGANIZATIONS.touches(unknown)


def test_a_scope_that_declares_nothing_keeps_the_old_meaning_every_kind():
    dashboard = Scope(organization_ids=frozenset({7}), person_id=3)
    assert dashboard.shows == EVERY_KIND
    assert dashboard.touches(submitted()) and dashboard.touches(linked())
