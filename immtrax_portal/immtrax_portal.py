"""The app Reflex loads: pages, the sign-in HTTP routes and start-up checks. Wiring only."""

from __future__ import annotations

import logging

import reflex as rx

from immtrax_portal.background_jobs import background_jobs_lifespan
from immtrax_portal.db import get_engine
from immtrax_portal.http_app import build_http_app, debug_routes
from immtrax_portal.log_redaction import install_log_redaction
from immtrax_portal.migrations import ensure_database_is_current
from immtrax_portal.operations.health import health_routes
from immtrax_portal.operations.logs import configure_logging_from_settings
from immtrax_portal.operations.metrics import metrics_routes
from immtrax_portal.operations.observation import ObservedEvents, ObservedRequestsMiddleware
from immtrax_portal.serving import PageWithoutRedirect
from immtrax_portal.settings import get_settings
from immtrax_portal.ui import (
    router_privacy,  # noqa: F401  (the browser gets no request headers)
    routes,
)
from immtrax_portal.ui.errors import show_generic_error
from immtrax_portal.ui.event_text import NulStrippingMiddleware
from immtrax_portal.ui.inbound import install_inbound_limits, log_frontend_error
from immtrax_portal.ui.pages.access_over_time import access_ends_page, succession_page
from immtrax_portal.ui.pages.agreement import agreement_page
from immtrax_portal.ui.pages.agreement_versions import agreement_versions_page
from immtrax_portal.ui.pages.backups import backups_page, staff_backups_page
from immtrax_portal.ui.pages.batch import batch_page, open_batch
from immtrax_portal.ui.pages.clock_targets import clock_targets_page
from immtrax_portal.ui.pages.dashboard import dashboard_page, not_allowed_page
from immtrax_portal.ui.pages.inactivity_import import inactivity_import_page
from immtrax_portal.ui.pages.landing import landing_page
from immtrax_portal.ui.pages.mailbox import mailbox_page
from immtrax_portal.ui.pages.org_import import org_import_page
from immtrax_portal.ui.pages.organizations import organization_page, organizations_page
from immtrax_portal.ui.pages.renewal import renewal_page
from immtrax_portal.ui.pages.request_detail import request_detail_page
from immtrax_portal.ui.pages.reviews import reviews_page
from immtrax_portal.ui.pages.sign_in import sign_in_page
from immtrax_portal.ui.pages.signed_agreement import signed_agreement_page
from immtrax_portal.ui.pages.staff_metrics import staff_metrics_page
from immtrax_portal.ui.pages.staff_queue import staff_queue_page
from immtrax_portal.ui.pages.staff_reviews import staff_reviews_page
from immtrax_portal.ui.pages.staff_roles import staff_roles_page
from immtrax_portal.ui.pages.wizard import open_wizard, wizard_page
from immtrax_portal.ui.state.access_over_time import AccessEndsState, LifecyclePanelState, SuccessionState
from immtrax_portal.ui.state.agreement import AgreementState
from immtrax_portal.ui.state.agreement_versions import AgreementVersionsState
from immtrax_portal.ui.state.backups import BackupsState, StaffBackupsState
from immtrax_portal.ui.state.clock_targets import ClockTargetsState
from immtrax_portal.ui.state.dashboard import DashboardState
from immtrax_portal.ui.state.inactivity_import import InactivityImportState
from immtrax_portal.ui.state.mailbox import MailboxState
from immtrax_portal.ui.state.org_import import OrgImportState
from immtrax_portal.ui.state.organizations import OrganizationsState, OrganizationState
from immtrax_portal.ui.state.renewal import RenewalState
from immtrax_portal.ui.state.request_detail import RequestDetailState
from immtrax_portal.ui.state.reviews import ReviewsState
from immtrax_portal.ui.state.session import SessionState, SignInPageState
from immtrax_portal.ui.state.signed_agreement import SignedAgreementState
from immtrax_portal.ui.state.staff_metrics import StaffMetricsState
from immtrax_portal.ui.state.staff_queue import StaffQueueState
from immtrax_portal.ui.state.staff_reviews import StaffReviewsState
from immtrax_portal.ui.state.staff_roles import StaffRolesState
from immtrax_portal.ui.state_loss import StateLossMiddleware
from immtrax_portal.ui.tab_owner import TabOwnerMiddleware
from immtrax_portal.ui.upload_guard import guard_uploads

# Before the app can log anything: no cookie, token or event payload may reach a log line.
install_log_redaction()
# The portal's own INFO lines reach the log, as JSON when configured; repeated failures throttled.
configure_logging_from_settings()


def _refuse_outdated_database() -> None:
    """Fail start-up, naming the fix, rather than fail on the first query."""
    ensure_database_is_current(get_engine())


def _say_which_mode() -> None:
    """The start-up log names the mode in force and what chose it (production unless demo)."""
    logging.getLogger("immtrax_portal").warning(get_settings().mode_line)


def _front_routes():
    """The sign-in and download routes, the health probes and metrics, and the benchmark's query
    counter when it is switched on; every request of the port gets an id and is counted."""
    front = build_http_app([*health_routes(), *metrics_routes(), *debug_routes()])
    front.add_middleware(ObservedRequestsMiddleware)
    front.add_middleware(PageWithoutRedirect)
    return front


front_routes = _front_routes()
app = rx.App(
    stylesheets=["/portal.css"],
    head_components=[rx.script(src="/portal.js")],
    # The sign-in and download routes share the port; Reflex mounts itself beneath this Starlette app.
    api_transformer=front_routes,
    backend_exception_handler=show_generic_error,
    frontend_exception_handler=log_frontend_error,
)
# Before anything else: every event size-bounded, the built-in frontend-error handler made safe.
install_inbound_limits(app)
# An upload runs only for the session that owns its tab (re-derived from the upload's own cookie).
guard_uploads(front_routes, app)
app.register_lifespan_task(_say_which_mode)
app.register_lifespan_task(_refuse_outdated_database)
app.register_lifespan_task(background_jobs_lifespan)
# Each event gets an id for its log lines and is counted; a tab whose server state was lost
# (Redis emptied) reloads instead of running on empty state.
app.add_middleware(ObservedEvents())
app.add_middleware(StateLossMiddleware())
# A tab's state is reset when the connection presents another session than it was built for.
app.add_middleware(TabOwnerMiddleware())
app.add_middleware(NulStrippingMiddleware())

app.add_page(landing_page, route=routes.HOME, title="imMTrax Access Portal",
             description="Request, change or remove access to imMTrax, Montana's immunization "
                         "information system.", on_load=SessionState.load_identity)
app.add_page(dashboard_page, route=routes.DASHBOARD, title="Dashboard | imMTrax Access Portal",
             on_load=[DashboardState.load, LifecyclePanelState.load])
app.add_page(sign_in_page, route=routes.SIGN_IN_PAGE, title="Sign in | imMTrax Access Portal",
             on_load=SignInPageState.load)
app.add_page(staff_roles_page, route=routes.ADMIN_STAFF, title="Program staff | imMTrax Access Portal",
             on_load=StaffRolesState.load)
app.add_page(request_detail_page, route=routes.REQUEST, title="Request | imMTrax Access Portal",
             on_load=RequestDetailState.load)
app.add_page(not_allowed_page, route=routes.NOT_ALLOWED, title="Not allowed | imMTrax Access Portal",
             on_load=SessionState.load_identity)
app.add_page(wizard_page, route=routes.WIZARD, title="New request | imMTrax Access Portal",
             on_load=open_wizard)
app.add_page(batch_page, route=routes.BATCH, title="Several people | imMTrax Access Portal",
             on_load=open_batch)
app.add_page(backups_page, route=routes.BACKUPS, title="Backups | imMTrax Access Portal",
             on_load=BackupsState.load)
app.add_page(staff_backups_page, route=routes.STAFF_BACKUPS,
             title="Your backup while away | imMTrax Access Portal", on_load=StaffBackupsState.load)
app.add_page(agreement_page, route=f"{routes.AGREEMENT}/[invite]",
             title="User Agreement | imMTrax Access Portal", on_load=AgreementState.load,
             # The address carries the invitation token: never send it to another site.
             meta=[{"name": "referrer", "content": "no-referrer"}])
app.add_page(signed_agreement_page, route=routes.SIGNED_AGREEMENT,
             title="Signed agreement | imMTrax Access Portal", on_load=SignedAgreementState.load)
app.add_page(mailbox_page, route=routes.MAILBOX, title="Outgoing mail | imMTrax Access Portal",
             on_load=MailboxState.load)
app.add_page(organizations_page, route=routes.STAFF_ORGANIZATIONS,
             title="Organizations | imMTrax Access Portal", on_load=OrganizationsState.load)
app.add_page(organization_page, route=routes.STAFF_ORGANIZATION,
             title="Organization | imMTrax Access Portal", on_load=OrganizationState.load)
app.add_page(org_import_page, route=routes.STAFF_ORGANIZATION_IMPORT,
             title="Import organizations | imMTrax Access Portal", on_load=OrgImportState.load)
app.add_page(staff_queue_page, route=routes.STAFF_QUEUE, title="Request queue | imMTrax Access Portal",
             on_load=StaffQueueState.load)
app.add_page(staff_metrics_page, route=routes.STAFF_METRICS, title="Queue metrics | imMTrax Access Portal",
             on_load=StaffMetricsState.load)
app.add_page(clock_targets_page, route=routes.STAFF_TARGETS, title="Targets | imMTrax Access Portal",
             on_load=ClockTargetsState.load)
app.add_page(renewal_page, route=f"{routes.RENEWAL}/[renewal]",
             title="Sign the User Agreement again | imMTrax Access Portal", on_load=RenewalState.load,
             meta=[{"name": "referrer", "content": "no-referrer"}])
app.add_page(access_ends_page, route=routes.STAFF_ACCESS_ENDS,
             title="Upcoming removals | imMTrax Access Portal", on_load=AccessEndsState.load)
app.add_page(succession_page, route=routes.STAFF_SUCCESSION,
             title="Supervisor succession | imMTrax Access Portal", on_load=SuccessionState.load)
app.add_page(agreement_versions_page, route=routes.STAFF_AGREEMENTS,
             title="User Agreement versions | imMTrax Access Portal", on_load=AgreementVersionsState.load)
app.add_page(reviews_page, route=routes.REVIEWS, title="Roster review | imMTrax Access Portal",
             on_load=ReviewsState.load)
app.add_page(staff_reviews_page, route=routes.STAFF_REVIEWS, title="Roster reviews | imMTrax Access Portal",
             on_load=StaffReviewsState.load)
app.add_page(inactivity_import_page, route=routes.STAFF_INACTIVITY,
             title="Inactivity report | imMTrax Access Portal", on_load=InactivityImportState.load)
