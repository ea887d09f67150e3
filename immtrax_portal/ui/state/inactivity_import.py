"""The inactivity report page: upload the registry's CSV, see the preview, confirm. Thin; the steps
it shares with the organization import are in ``ui/state/upload_preview.py``, and
``services.inactivity.apply_report`` checks the plan's fingerprint again.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.program_time import program_date
from immtrax_portal.services import inactivity
from immtrax_portal.services.inactivity import ParsedReport, ReportOutdated, ReportPlan
from immtrax_portal.services.org_import import ImportFileRejected
from immtrax_portal.settings import get_settings
from immtrax_portal.ui.state.guard import off_loop
from immtrax_portal.ui.state.session import SessionState, guarded
from immtrax_portal.ui.state.upload_preview import UploadPreviewMixin

UPLOAD_ID = "activity-csv"


class InactivityImportState(UploadPreviewMixin, SessionState):
    changes: int = 0
    thresholds: str = ""
    _parsed: ParsedReport | None = None
    _plan: ReportPlan | None = None

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._start_over()
        settings = get_settings()
        self.thresholds = (f"People idle for {settings.idle_confirm_days} days are shown to their "
                           "supervisors to confirm or remove; at "
                           f"{settings.idle_deletion_days} days an Access Deletion is opened for you to "
                           "confirm.")

    def _forget(self) -> None:
        self._forget_preview()
        self.changes = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message
        self._forget()

    def _show(self, plan: ReportPlan) -> None:
        self.changes = plan.changes
        self._show_plan(plan, plan.count(inactivity.UNCHANGED))

    def _row_for_display(self, r) -> dict:
        return {"row": r.row, "outcome": inactivity.OUTCOME_LABELS[r.outcome], "username": r.username,
                "last_login": program_date(r.last_login_at), "people": r.people}

    def _error_for_display(self, e) -> dict:
        return {"row": e.row, "username": e.code or "—", "message": e.message}

    @rx.event
    @guarded(Rule.STAFF, AuditAction.INACTIVITY_PREVIEW_IMPORT)
    async def preview_file(self, actor: Actor, files: list[rx.UploadFile]):
        self._start_over()
        if not files:
            self.file_error = "Choose the CSV file of the registry's report to preview."
            return
        upload = files[0]
        data = await upload.read(inactivity.MAX_BYTES + 1)
        try:  # parsing and planning read a whole file and the database: off the event loop
            parsed = await off_loop(inactivity.parse_report, data)
        except ImportFileRejected as rejected:
            self.file_error = str(rejected)
            return
        self._parsed = parsed
        self.file_name = str(upload.filename or "the file")[:120]
        self._show(await off_loop(inactivity.plan_report, actor, parsed))

    @rx.event
    @guarded(Rule.STAFF, AuditAction.INACTIVITY_CONFIRM_IMPORT)
    def confirm_import(self, actor: Actor, fingerprint: str):
        def apply() -> str:
            try:
                changed = inactivity.apply_report(actor, self._parsed, self._plan.fingerprint,
                                                  source_ip=self._client_ip())
            except ReportOutdated as outdated:
                self.problem = str(outdated)
                self._show(outdated.plan)
                return ""
            return (f"Imported {self.file_name}: {changed} usernames with a new last sign-in, "
                    f"{self.unchanged} unchanged; rows with errors, left out: {self.error_count}.")

        self._confirm_preview(fingerprint, "There is no previewed report to import. Choose a file to "
                                           "preview first.", apply)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.INACTIVITY_DISCARD_IMPORT)
    def discard_preview(self, actor: Actor):
        self._discard_preview()

    @rx.event
    @guarded(Rule.STAFF, AuditAction.INACTIVITY_ROWS_PAGE)
    def turn_page(self, actor: Actor, which: str, delta: int):
        self._turn("errors" if which == "errors" else "rows", delta)
