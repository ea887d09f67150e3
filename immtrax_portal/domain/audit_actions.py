"""The closed set of audit actions, and what each one changes.

Every audit row names one of these (``services.audit.record`` refuses any other name), so the log,
the live change feed and the tests read one vocabulary. What a client sent never becomes part of
an action name: it goes, bounded and cleaned, into the row's details.

Each member carries what it changes: ``changes_roster`` (grants or organizations move, so roster
views must look again) and ``is_refusal_summary``. The live feed decides re-reads from these, never
from the spelling of a name.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    # --- The lifecycle (``domain.workflow.Action`` values: ``transition`` writes them) ---------
    SEND_INVITATION = "send_invitation"
    QUEUE_FOR_REVIEW = "queue_for_review"
    SIGN_AGREEMENT = "sign_agreement"
    EXPIRE_INVITATION = "expire_invitation"
    REISSUE_INVITATION = "reissue_invitation"
    ASK_FOR_INFO = "ask_for_info"
    ANSWER_INFO = "answer_info"
    PROVISION = "provision"
    APPLY_LEVEL = "apply_level"
    CONFIRM_DELETION = "confirm_deletion"
    REJECT = "reject"
    CANCEL = "cancel"

    # --- Other changes ---------------------------------------------------------------------------
    SUBMIT = "submit"
    SUSPEND_GRANT = "suspend_grant"
    GRANT_PROVISION = "grant_provision"
    GRANT_APPLY_LEVEL = "grant_apply_level"
    GRANT_REJECT = "grant_reject"
    GRANT_CANCEL = "grant_cancel"
    GRANT_STAFF_ROLE = "grant_staff_role"
    REMOVE_STAFF_ROLE = "remove_staff_role"
    CREATE_ORGANIZATION = "create_organization"
    UPDATE_ORGANIZATION = "update_organization"
    LINK_SUPERVISOR = "link_supervisor"
    UNLINK_SUPERVISOR = "unlink_supervisor"
    IMPORT_ORGANIZATIONS = "import_organizations"
    PUBLISH_AGREEMENT = "publish_agreement"
    RESEND_INVITATION = "resend_invitation"
    INVITATION_REMINDER = "invitation_reminder"
    STAFF_NOTE_ADDED = "staff_note_added"
    WIZARD_CANCEL = "wizard.cancel"
    # The wizard asked the registry about a typed email (who asked about whom; not a change).
    WIZARD_REGISTRY_LOOKUP = "wizard.registry_lookup"
    QUEUE_EXPORTED = "queue_exported"
    # A member of staff took on a request, or gave it to a colleague (the owned queue).
    ASSIGN_OWNER = "assign_owner"
    # Staff set the program's target for a request type; the clock told someone (half, three
    # quarters, breach).
    SET_CLOCK_TARGET = "set_clock_target"
    CLOCK_NOTICE = "clock_notice"
    # A backup while away was named, or ended early (who for whom, which days: in the details).
    DELEGATION_CREATE = "delegation_create"
    DELEGATION_END = "delegation_end"
    # The several-people form asked the registry about its rows' emails (one row per check).
    BATCH_REGISTRY_LOOKUP = "batch.registry_lookup"
    # One submission of the several-people form: the requests it made are in the details.
    BATCH_SUBMIT = "batch_submit"
    # Roster reviews (services/reviews.py): the system's moves name the rule that caused them.
    REVIEW_STARTED = "review_started"
    REVIEW_REMINDER = "review_reminder"
    REVIEW_CONFIRMED = "review_confirmed"
    REVIEW_OVERDUE = "review_overdue"
    REVIEW_CLOSED = "review_closed"
    REVIEW_AUTO_DELETION = "review_auto_deletion"
    # Staff set the reviews' schedule (every value before and after: in the details).
    SET_REVIEW_SCHEDULE = "set_review_schedule"
    # The registry's activity report and what follows from it (services/inactivity.py).
    IMPORT_ACTIVITY_REPORT = "import_activity_report"
    IDLE_NOTICE = "idle_notice"
    IDLE_CONFIRMED = "idle_confirmed"
    IDLE_AUTO_DELETION = "idle_auto_deletion"

    # --- Access over time (issue 16): the system's own actions name their rule in the details ---
    ACCESS_END_SCHEDULED = "access_end_scheduled"
    ACCESS_END_MOVED = "access_end_moved"
    ACCESS_END_EXTENDED = "access_end_extended"
    ACCESS_END_CANCELLED = "access_end_cancelled"
    ACCESS_END_REMINDER = "access_end_reminder"
    ACCESS_ENDED = "access_ended"
    AGREEMENT_RENEWAL_OPENED = "agreement_renewal_opened"
    AGREEMENT_RENEWAL_REMINDER = "agreement_renewal_reminder"
    AGREEMENT_LAPSED = "agreement_lapsed"
    AGREEMENT_RENEWED = "agreement_renewed"
    AGREEMENT_RENEWAL_REFUSED = "agreement_renewal_refused"
    AGREEMENT_RESIGN_REQUIRED = "agreement_resign_required"
    ORGANIZATION_LOST_LAST_SUPERVISOR = "organization_lost_last_supervisor"
    SUPERVISOR_NOMINATED = "supervisor_nominated"
    SUPERVISOR_NOMINATION_APPROVED = "supervisor_nomination_approved"
    SUPERVISOR_NOMINATION_DECLINED = "supervisor_nomination_declined"

    # --- Sessions --------------------------------------------------------------------------------
    SIGN_IN = "sign_in"
    SIGN_IN_DENIED = "sign_in_denied"
    SIGN_OUT = "sign_out"
    # "Stay signed in" in the timeout warning: the idle timeout starts again.
    SESSION_EXTENDED = "session_extended"

    # --- Refusals of a service or a route --------------------------------------------------------
    SIGN_AGREEMENT_REFUSED = "sign_agreement_refused"
    DOWNLOAD_SIGNED_AGREEMENT = "download.signed_agreement"
    RATE_LIMITED_SIGN_IN = "rate_limited:sign_in"
    RATE_LIMITED_SUBMIT_REQUEST = "rate_limited:submit_request"
    RATE_LIMITED_REDEEM_INVITATION = "rate_limited:redeem_invitation"
    RATE_LIMITED_REGISTRY_LOOKUP = "rate_limited:registry_lookup"
    RATE_LIMITED_SIGN_IN_UNMATCHED = "rate_limited:sign_in_unmatched"
    # Many identical refusals from one connection or address: one row with their count.
    REFUSALS_AGGREGATED = "refusals_aggregated"
    # A connection that kept being refused was closed.
    CONNECTION_DROPPED = "connection_dropped"
    # An upload whose own session cookie is not the one that owns the tab it names.
    UPLOAD_REFUSED = "upload_refused"

    # --- Pages and event handlers (a refusal names the handler's action) -------------------------
    OPEN_PAGE = "open_page"
    AGREEMENT_SIGN = "agreement.sign"
    AGREEMENT_VERSIONS_REVIEW = "agreement_versions.review"
    AGREEMENT_VERSIONS_EDIT_AGAIN = "agreement_versions.edit_again"
    AGREEMENT_VERSIONS_PUBLISH = "agreement_versions.publish"
    AGREEMENT_VERSIONS_TURN_PAGE = "agreement_versions.turn_page"
    DASHBOARD_ASK_CANCEL = "dashboard.ask_cancel"
    DASHBOARD_CANCEL = "dashboard.cancel"
    DASHBOARD_RESEND = "dashboard.resend"
    DASHBOARD_NEXT_MY_PAGE = "dashboard.next_my_page"
    DASHBOARD_PREVIOUS_MY_PAGE = "dashboard.previous_my_page"
    DASHBOARD_NEXT_ORG_PAGE = "dashboard.next_org_page"
    DASHBOARD_PREVIOUS_ORG_PAGE = "dashboard.previous_org_page"
    DASHBOARD_NEXT_QUEUE_PAGE = "dashboard.next_queue_page"
    DASHBOARD_PREVIOUS_QUEUE_PAGE = "dashboard.previous_queue_page"
    DASHBOARD_TURN_ROSTER_PAGE = "dashboard.turn_roster_page"
    DASHBOARD_ANSWER = "dashboard.answer"
    DASHBOARD_FILTER = "dashboard.filter"
    DASHBOARD_TURN_LIST_PAGE = "dashboard.turn_list_page"
    # A page's live updates (ui/state/live.py): opened through the guard's door.
    LIVE_WATCH = "live.watch"
    MAILBOX_OPEN = "mailbox.open"
    MAILBOX_TURN_PAGE = "mailbox.turn_page"
    MAILBOX_OPEN_EMAIL = "mailbox.open_email"
    ORGANIZATIONS_SEARCH = "organizations.search"
    ORGANIZATIONS_CLEAR_SEARCH = "organizations.clear_search"
    ORGANIZATIONS_NEXT_PAGE = "organizations.next_page"
    ORGANIZATIONS_PREVIOUS_PAGE = "organizations.previous_page"
    ORGANIZATIONS_SAVE = "organizations.save"
    ORGANIZATIONS_LINK_SUPERVISOR = "organizations.link_supervisor"
    ORGANIZATIONS_ASK_UNLINK = "organizations.ask_unlink"
    ORGANIZATIONS_UNLINK_SUPERVISOR = "organizations.unlink_supervisor"
    ORGANIZATIONS_PREVIEW_IMPORT = "organizations.preview_import"
    ORGANIZATIONS_CONFIRM_IMPORT = "organizations.confirm_import"
    ORGANIZATIONS_DISCARD_IMPORT = "organizations.discard_import"
    ORGANIZATIONS_IMPORT_ROWS_PAGE = "organizations.import_rows_page"
    ORGANIZATIONS_IMPORT_ERRORS_PAGE = "organizations.import_errors_page"
    QUEUE_FILTER = "queue.filter"
    QUEUE_BULK = "queue.bulk"
    REQUEST_ASSIGN = "request.assign"
    REQUEST_COPY_WORKSHEET = "request.copy_worksheet"
    CLOCK_TARGETS_SAVE = "clock_targets.save"
    REVIEWS_CONFIRM = "reviews.confirm"
    REVIEWS_CONFIRM_IDLE = "reviews.confirm_idle"
    REVIEWS_TURN_PAGE = "reviews.turn_page"
    STAFF_REVIEWS_START_EXTRA = "staff_reviews.start_extra"
    STAFF_REVIEWS_TURN_PAGE = "staff_reviews.turn_page"
    STAFF_REVIEWS_SAVE_SCHEDULE = "staff_reviews.save_schedule"
    INACTIVITY_PREVIEW_IMPORT = "inactivity.preview_import"
    INACTIVITY_CONFIRM_IMPORT = "inactivity.confirm_import"
    INACTIVITY_DISCARD_IMPORT = "inactivity.discard_import"
    INACTIVITY_ROWS_PAGE = "inactivity.rows_page"
    REQUEST_VIEW = "request.view"
    REQUEST_ACT = "request.act"
    REQUEST_ADD_NOTE = "request.add_note"
    SESSION_STAY_SIGNED_IN = "session.stay_signed_in"
    SIGNED_AGREEMENT_OPEN = "signed_agreement.open"
    STAFF_ROLES_ADD_STAFF = "staff_roles.add_staff"
    STAFF_ROLES_ASK_REMOVE = "staff_roles.ask_remove"
    STAFF_ROLES_REMOVE_STAFF = "staff_roles.remove_staff"
    WIZARD_OPEN = "wizard.open"
    WIZARD_CHOOSE_COLLEAGUE = "wizard.choose_colleague"
    WIZARD_SEARCH_COLLEAGUES = "wizard.search_colleagues"
    BACKUPS_SAVE = "backups.save"
    BACKUPS_END = "backups.end"
    BATCH_OPEN = "batch.open"
    BATCH_CHOOSE_ORGANIZATION = "batch.choose_organization"
    BATCH_EDIT_ROWS = "batch.edit_rows"
    BATCH_PASTE = "batch.paste"
    BATCH_UPLOAD = "batch.upload"
    BATCH_CHECK = "batch.check"
    BATCH_SWITCH_ROW = "batch.switch_row"
    BATCH_SUBMIT_ALL = "batch.submit_all"
    BATCH_START_OVER = "batch.start_over"
    WIZARD_ANSWER_QUESTION = "wizard.answer_question"
    WIZARD_ASK_TO_CANCEL = "wizard.ask_to_cancel"
    WIZARD_BACK = "wizard.back"
    WIZARD_CHOOSE_DELETION_REASON = "wizard.choose_deletion_reason"
    WIZARD_CHOOSE_LEVEL = "wizard.choose_level"
    WIZARD_CHOOSE_ORGANIZATION = "wizard.choose_organization"
    WIZARD_CHOOSE_PERSON = "wizard.choose_person"
    WIZARD_CHOOSE_TYPE = "wizard.choose_type"
    WIZARD_CONTINUE = "wizard.continue"
    WIZARD_EDIT = "wizard.edit"
    WIZARD_KEEP_EDITING = "wizard.keep_editing"
    WIZARD_SEARCH_PEOPLE = "wizard.search_people"
    WIZARD_SET_FIELD = "wizard.set_field"
    WIZARD_START_FROM_ROSTER = "wizard.start_from_roster"
    WIZARD_START_OVER = "wizard.start_over"
    WIZARD_SUBMIT = "wizard.submit"
    WIZARD_SWITCH_TYPE = "wizard.switch_type"
    WIZARD_USE_RECOMMENDED_LEVEL = "wizard.use_recommended_level"
    ACCESS_ENDS_MOVE = "access_ends.move"
    ACCESS_ENDS_EXTEND = "access_ends.extend"
    ACCESS_ENDS_TURN_PAGE = "access_ends.turn_page"
    RENEWAL_SIGN = "renewal.sign"
    SUCCESSION_NOMINATE = "succession.nominate"
    SUCCESSION_DECIDE = "succession.decide"
    SUCCESSION_TURN_PAGE = "succession.turn_page"

    @property
    def changes_roster(self) -> bool:
        """Whether roster views (who holds access where, who supervises what) may show something new."""
        return self in _CHANGES_ROSTER

    @property
    def is_refusal_summary(self) -> bool:
        return self in (AuditAction.REFUSALS_AGGREGATED, AuditAction.CONNECTION_DROPPED)

    @classmethod
    def parse(cls, name: str) -> AuditAction | None:
        """The member named ``name`` as stored, or None for a name this version does not know."""
        try:
            return cls(name)
        except ValueError:
            return None


_CHANGES_ROSTER = frozenset({
    AuditAction.SUSPEND_GRANT, AuditAction.GRANT_PROVISION, AuditAction.GRANT_APPLY_LEVEL,
    AuditAction.GRANT_REJECT, AuditAction.GRANT_CANCEL, AuditAction.CREATE_ORGANIZATION,
    AuditAction.UPDATE_ORGANIZATION, AuditAction.LINK_SUPERVISOR, AuditAction.UNLINK_SUPERVISOR,
    AuditAction.IMPORT_ORGANIZATIONS, AuditAction.IMPORT_ACTIVITY_REPORT,
    AuditAction.ACCESS_END_SCHEDULED, AuditAction.ACCESS_END_MOVED,
    AuditAction.ACCESS_END_EXTENDED, AuditAction.ACCESS_END_CANCELLED, AuditAction.ACCESS_ENDED,
    AuditAction.AGREEMENT_LAPSED, AuditAction.AGREEMENT_RENEWED,
    AuditAction.ORGANIZATION_LOST_LAST_SUPERVISOR, AuditAction.SUPERVISOR_NOMINATION_APPROVED,
})


def grant_change_for(lifecycle_action: str) -> AuditAction:
    """The grant event that follows a lifecycle action which moves a grant (provision, apply the
    level, or restore access when a deletion is rejected or cancelled)."""
    return AuditAction(f"grant_{lifecycle_action}")
