"""The organization import page: upload a CSV, see the preview, confirm. Thin; the steps it shares
with the inactivity report are in ``ui/state/upload_preview.py``."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import org_import
from immtrax_portal.services.org_import import ImportFileRejected, ImportOutdated, ImportPlan, ParsedFile
from immtrax_portal.ui.components.error_summary import focus_element
from immtrax_portal.ui.state.guard import off_loop
from immtrax_portal.ui.state.session import SessionState, guarded
from immtrax_portal.ui.state.upload_preview import UploadPreviewMixin

UPLOAD_ID = "organization-csv"
CHOOSE_ID = "org-csv-choose"
FILE_SUMMARY_ID = "org-csv-summary"
OUTCOME_LABELS = {org_import.CREATE: "Will be created", org_import.UPDATE: "Will be updated",
                  org_import.UNCHANGED: "Unchanged"}


class OrgImportState(UploadPreviewMixin, SessionState):
    creates: int = 0
    updates: int = 0
    row_total: int = 0
    _parsed: ParsedFile | None = None
    _plan: ImportPlan | None = None

    @rx.var
    def file_errors(self) -> dict[str, str]:
        return {"file": self.file_error} if self.file_error else {}

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._start_over()

    def _forget(self) -> None:
        self._forget_preview()
        self.creates = self.updates = self.row_total = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message
        self._forget()

    def _show(self, plan: ImportPlan) -> None:
        self.creates, self.updates = plan.count(org_import.CREATE), plan.count(org_import.UPDATE)
        self.row_total = len(plan.rows)
        self._show_plan(plan, plan.count(org_import.UNCHANGED))

    def _row_for_display(self, r) -> dict:
        return {"row": r.row, "outcome": r.outcome, "outcome_label": OUTCOME_LABELS[r.outcome],
                "code": r.fields.code, "name": r.fields.name, "city": r.fields.city or "—",
                "active": "Yes" if r.fields.active else "No", "changes": r.describe_changes() or "—"}

    def _error_for_display(self, e) -> dict:
        return {"row": e.row, "code": e.code or "—", "message": e.message}

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_PREVIEW_IMPORT)
    async def preview_file(self, actor: Actor, files: list[rx.UploadFile]):
        self._start_over()
        if not files:
            self.file_error = "Choose a CSV file to preview."
            return focus_element(FILE_SUMMARY_ID)
        upload = files[0]
        name = str(upload.filename or "")[:120]
        try:
            org_import.check_file_name(name)
            data = await upload.read(org_import.MAX_BYTES + 1)
            parsed = await off_loop(org_import.parse_organization_csv, data)
        except ImportFileRejected as rejected:
            self.file_error = str(rejected)
            return focus_element(FILE_SUMMARY_ID)
        self._parsed = parsed
        self.file_name = str(upload.filename or "the file")[:120]
        self._show(await off_loop(org_import.plan_import, actor, parsed))  # reads the registry

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_CONFIRM_IMPORT)
    def confirm_import(self, actor: Actor, fingerprint: str):
        def apply() -> str:
            try:
                done = org_import.apply_import(actor, self._parsed, self._plan.fingerprint,
                                               source_ip=self._client_ip())
            except ImportOutdated as outdated:
                self.problem = str(outdated)
                self._show(outdated.plan)
                return ""
            return (f"Imported {self.file_name}: {done.created} created, {done.updated} updated, "
                    f"{done.unchanged} unchanged; rows with errors, left out: {done.skipped}.")

        self._confirm_preview(fingerprint, "There is no previewed file to import. Choose a file to "
                                           "preview first.", apply)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_DISCARD_IMPORT)
    def discard_preview(self, actor: Actor):
        self._discard_preview()

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ROWS_PAGE)
    def next_rows_page(self, actor: Actor):
        self._turn("rows", 1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ROWS_PAGE)
    def previous_rows_page(self, actor: Actor):
        self._turn("rows", -1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ERRORS_PAGE)
    def next_errors_page(self, actor: Actor):
        self._turn("errors", 1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ERRORS_PAGE)
    def previous_errors_page(self, actor: Actor):
        self._turn("errors", -1)
