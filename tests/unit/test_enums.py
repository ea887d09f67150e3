"""The portal's vocabulary matches DESIGN.md: access levels, request types, open statuses."""

from __future__ import annotations

import pytest

from immtrax_portal.domain.enums import (
    OPEN_STATUSES,
    AccessLevel,
    RequestStatus,
    RequestType,
)

# Copied verbatim from DESIGN.md, "Access levels".
DESIGN_LEVEL_LINES = [
    "Read Only with Consent — search, view, print, and update imMTrax consent status.",
    "Record Maintenance — search, view, print, update and add patient information, "
    "add immunizations.",
    "Vaccine Management — everything in Record Maintenance plus vaccine lot management (VOMS 2.0).",
]


@pytest.mark.parametrize(
    ("level", "design_line"),
    list(zip(AccessLevel, DESIGN_LEVEL_LINES, strict=True)),
    ids=lambda v: v.value if isinstance(v, AccessLevel) else "",
)
def test_access_level_label_and_description_are_the_words_of_the_design(level, design_line):
    # The description stands alone in the UI, so it starts with a capital; otherwise verbatim.
    description = level.description
    assert description[0].isupper()
    assert f"{level.label} — {description[0].lower()}{description[1:]}" == design_line


def test_access_levels_are_listed_from_least_to_most_access():
    assert list(AccessLevel) == [
        AccessLevel.READ_ONLY_CONSENT,
        AccessLevel.RECORD_MAINTENANCE,
        AccessLevel.VACCINE_MANAGEMENT,
    ]
    assert [level.rank for level in AccessLevel] == [1, 2, 3]


def test_request_types_carry_the_labels_the_wizard_shows():
    assert {t: t.label for t in RequestType} == {
        RequestType.NEW_ACCESS: "New Access",
        RequestType.CHANGE_EMPLOYER: "Change Employer",
        RequestType.PERMISSIONS_CHANGE: "User Permissions Change",
        RequestType.ACCESS_DELETION: "Access Deletion",
    }


def test_every_request_type_explains_when_to_use_it():
    assert all(t.when_to_use.strip() for t in RequestType)
    assert "suspended at once" in RequestType.ACCESS_DELETION.when_to_use


def test_only_new_access_and_change_employer_need_the_user_agreement():
    assert {t for t in RequestType if t.needs_agreement} == {
        RequestType.NEW_ACCESS,
        RequestType.CHANGE_EMPLOYER,
    }


def test_permissions_change_and_access_deletion_pick_the_user_from_the_roster():
    assert {t for t in RequestType if t.picks_from_roster} == {
        RequestType.PERMISSIONS_CHANGE,
        RequestType.ACCESS_DELETION,
    }


def test_open_statuses_are_those_still_waiting_on_someone():
    assert OPEN_STATUSES == {
        RequestStatus.SUBMITTED,
        RequestStatus.AWAITING_AGREEMENT,
        RequestStatus.IN_REVIEW,
        RequestStatus.NEEDS_INFO,
    }
    assert {s for s in RequestStatus if s.is_open} == OPEN_STATUSES


@pytest.mark.parametrize(
    "status",
    [
        RequestStatus.COMPLETED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
    ],
    ids=lambda s: s.value,
)
def test_finished_and_expired_requests_are_not_open(status):
    assert not status.is_open


def test_status_labels_read_as_words():
    assert RequestStatus.AWAITING_AGREEMENT.label == "Awaiting agreement"
    assert RequestStatus.IN_REVIEW.label == "In review"


def test_stored_values_are_the_snake_case_names_the_database_holds():
    assert [s.value for s in RequestStatus] == [
        "submitted",
        "awaiting_agreement",
        "in_review",
        "needs_info",
        "completed",
        "rejected",
        "cancelled",
        "expired",
    ]
    assert [t.value for t in RequestType] == [
        "new_access",
        "change_employer",
        "permissions_change",
        "access_deletion",
    ]
    assert [level.value for level in AccessLevel] == [
        "read_only_consent",
        "record_maintenance",
        "vaccine_management",
    ]
