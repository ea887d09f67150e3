"""The closed set of audit actions: what each says it changes, and that the live feed reads that."""

from __future__ import annotations

import pytest

from immtrax_portal.domain.audit_actions import AuditAction, grant_change_for
from immtrax_portal.domain.workflow import Action
from immtrax_portal.services.change_feed import Change


def test_granting_the_staff_role_does_not_count_as_a_roster_change():
    assert not AuditAction.GRANT_STAFF_ROLE.changes_roster
    assert not Change(id=1, request_id=None, action="grant_staff_role").changes_grants


@pytest.mark.parametrize("action", [AuditAction.GRANT_PROVISION, AuditAction.GRANT_APPLY_LEVEL,
                                    AuditAction.GRANT_REJECT, AuditAction.GRANT_CANCEL,
                                    AuditAction.SUSPEND_GRANT, AuditAction.LINK_SUPERVISOR,
                                    AuditAction.UPDATE_ORGANIZATION])
def test_grant_and_organization_changes_make_rosters_look_again(action):
    assert action.changes_roster
    assert Change(id=1, request_id=7, action=action.value).changes_grants


@pytest.mark.parametrize("action", [AuditAction.SUBMIT, AuditAction.ASK_FOR_INFO, AuditAction.SIGN_IN,
                                    AuditAction.RESEND_INVITATION, AuditAction.OPEN_PAGE])
def test_moves_that_leave_grants_alone_do_not(action):
    assert not Change(id=1, request_id=7, action=action.value).changes_grants


def test_an_action_this_version_does_not_know_is_taken_to_change_everything():
    assert AuditAction.parse("from_a_newer_version") is None
    assert Change(id=1, request_id=7, action="from_a_newer_version").changes_grants


def test_every_lifecycle_action_is_an_audit_action():
    assert {a.value for a in Action} <= {a.value for a in AuditAction}


def test_the_grant_event_of_each_grant_moving_action_is_a_member():
    for action in (Action.PROVISION, Action.APPLY_LEVEL, Action.REJECT, Action.CANCEL):
        assert grant_change_for(action.value).changes_roster


def test_no_action_name_carries_text_from_outside():
    """Names are fixed identifiers: what a client sent lives in the details, never in a name."""
    assert all(a.value.replace("_", "").replace(".", "").replace(":", "").isalnum() for a in AuditAction)
    assert len({a.value for a in AuditAction}) == len(AuditAction)
