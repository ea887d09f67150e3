"""The vocabulary of the portal: request types, statuses, access levels, roles."""

from __future__ import annotations

from enum import StrEnum


class AccessLevel(StrEnum):
    READ_ONLY_CONSENT = "read_only_consent"
    RECORD_MAINTENANCE = "record_maintenance"
    VACCINE_MANAGEMENT = "vaccine_management"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]

    @property
    def description(self) -> str:
        return _LEVEL_DESCRIPTIONS[self]

    @property
    def rank(self) -> int:
        """Levels are cumulative: a higher rank allows everything a lower one does."""
        return list(AccessLevel).index(self) + 1


_LEVEL_LABELS = {
    AccessLevel.READ_ONLY_CONSENT: "Read Only with Consent",
    AccessLevel.RECORD_MAINTENANCE: "Record Maintenance",
    AccessLevel.VACCINE_MANAGEMENT: "Vaccine Management",
}

_LEVEL_DESCRIPTIONS = {
    AccessLevel.READ_ONLY_CONSENT: (
        "Search, view, print, and update imMTrax consent status."
    ),
    AccessLevel.RECORD_MAINTENANCE: (
        "Search, view, print, update and add patient information, add immunizations."
    ),
    AccessLevel.VACCINE_MANAGEMENT: (
        "Everything in Record Maintenance plus vaccine lot management (VOMS 2.0)."
    ),
}


class RequestType(StrEnum):
    NEW_ACCESS = "new_access"
    CHANGE_EMPLOYER = "change_employer"
    PERMISSIONS_CHANGE = "permissions_change"
    ACCESS_DELETION = "access_deletion"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]

    @property
    def when_to_use(self) -> str:
        return _TYPE_WHEN[self]

    @property
    def needs_agreement(self) -> bool:
        """Only people who get new access sign the User Agreement."""
        return self in (RequestType.NEW_ACCESS, RequestType.CHANGE_EMPLOYER)

    @property
    def picks_from_roster(self) -> bool:
        return self in (RequestType.PERMISSIONS_CHANGE, RequestType.ACCESS_DELETION)


_TYPE_LABELS = {
    RequestType.NEW_ACCESS: "New Access",
    RequestType.CHANGE_EMPLOYER: "Change Employer",
    RequestType.PERMISSIONS_CHANGE: "User Permissions Change",
    RequestType.ACCESS_DELETION: "Access Deletion",
}

_TYPE_WHEN = {
    RequestType.NEW_ACCESS: "A new employee needs imMTrax access at your organization.",
    RequestType.CHANGE_EMPLOYER: (
        "The employee had imMTrax access with another employer and now works for you."
    ),
    RequestType.PERMISSIONS_CHANGE: (
        "Someone who already has access at your organization needs a different access level."
    ),
    RequestType.ACCESS_DELETION: (
        "A user left, changed position, or no longer needs access. Access is suspended at once."
    ),
}


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_AGREEMENT = "awaiting_agreement"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        """Open requests still wait on someone; at most one per person and organization."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {
        RequestStatus.SUBMITTED,
        RequestStatus.AWAITING_AGREEMENT,
        RequestStatus.IN_REVIEW,
        RequestStatus.NEEDS_INFO,
    }
)


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    APPLICANT = "applicant"
    STAFF = "staff"
    ADMIN = "admin"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


class DeletionReason(StrEnum):
    LEFT_EMPLOYMENT = "left_employment"
    CHANGED_POSITION = "changed_position"
    NO_LONGER_NEEDS_ACCESS = "no_longer_needs_access"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"


class DelegationKind(StrEnum):
    """Whose work a delegation passes on for a while: a supervisor's requests at one organization
    (their backup while away), or a member of staff's assigned requests."""

    SUPERVISOR = "supervisor"
    STAFF = "staff"
