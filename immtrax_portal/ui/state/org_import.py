"""The organization import page: upload a CSV, see the preview, confirm. Thin.

The parsed file and its plan stay on the server in ``_``-prefixed vars; the browser gets one page
of formatted preview rows. Confirming names the plan's fingerprint, is re-checked in one
transaction by ``services.org_import.apply_import``, and forgets the file once imported, so a
second click finds nothing left to import. Events of one tab run one after another.
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import org_import
from immtrax_portal.services.org_import import ImportFileRejected, ImportOutdated, ImportPlan, ParsedFile
from immtrax_portal.ui.state.session import SessionState, guarded

UPLOAD_ID = "organization-csv"
PAGE_SIZE = 20
OUTCOME_LABELS = {org_import.CREATE: "Will be created", org_import.UPDATE: "Will be updated",
                  org_import.UNCHANGED: "Unchanged"}


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


class OrgImportState(SessionState):
    file_name: str = ""
    file_error: str = ""
    problem: str = ""
    result: str = ""
    has_preview: bool = False
    fingerprint: str = ""
    creates: int = 0
    updates: int = 0
    unchanged: int = 0
    error_count: int = 0
    rows: list[dict] = []
    rows_page: int = 1
    rows_pages: int = 1
    row_total: int = 0
    error_rows: list[dict] = []
    errors_page: int = 1
    errors_pages: int = 1
    _parsed: ParsedFile | None = None
    _plan: ImportPlan | None = None

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._forget()
        self.file_error, self.problem, self.result = "", "", ""

    def _forget(self) -> None:
        self._parsed, self._plan = None, None
        self.has_preview, self.fingerprint, self.file_name = False, "", ""
        self.rows, self.error_rows = [], []
        self.creates = self.updates = self.unchanged = self.error_count = self.row_total = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message
        self._forget()

    def _show(self, plan: ImportPlan) -> None:
        self._plan = plan
        self.has_preview, self.fingerprint = True, plan.fingerprint
        self.creates, self.updates = plan.count(org_import.CREATE), plan.count(org_import.UPDATE)
        self.unchanged, self.error_count = plan.count(org_import.UNCHANGED), len(plan.errors)
        self.row_total = len(plan.rows)
        self.rows_page = self.errors_page = 1
        self._page_rows()
        self._page_errors()

    def _page_rows(self) -> None:
        rows = self._plan.rows if self._plan else ()
        self.rows_pages = _pages(len(rows))
        self.rows_page = min(max(1, self.rows_page), self.rows_pages)
        start = (self.rows_page - 1) * PAGE_SIZE
        self.rows = [{"row": r.row, "outcome": r.outcome, "outcome_label": OUTCOME_LABELS[r.outcome],
                      "code": r.fields.code, "name": r.fields.name, "city": r.fields.city or "—",
                      "active": "Yes" if r.fields.active else "No",
                      "changes": r.describe_changes() or "—"}
                     for r in rows[start:start + PAGE_SIZE]]

    def _page_errors(self) -> None:
        errors = self._plan.errors if self._plan else ()
        self.errors_pages = _pages(len(errors))
        self.errors_page = min(max(1, self.errors_page), self.errors_pages)
        start = (self.errors_page - 1) * PAGE_SIZE
        self.error_rows = [{"row": e.row, "code": e.code or "—", "message": e.message}
                           for e in errors[start:start + PAGE_SIZE]]

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_PREVIEW_IMPORT)
    async def preview_file(self, actor: Actor, files: list[rx.UploadFile]):
        self._forget()
        self.file_error, self.problem, self.result = "", "", ""
        if not files:
            self.file_error = "Choose a CSV file to preview."
            return
        upload = files[0]
        data = await upload.read(org_import.MAX_BYTES + 1)
        try:
            parsed = org_import.parse_organization_csv(data)
        except ImportFileRejected as rejected:
            self.file_error = str(rejected)
            return
        self._parsed = parsed
        self.file_name = str(upload.filename or "the file")[:120]
        self._show(org_import.plan_import(actor, parsed))

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_CONFIRM_IMPORT)
    def confirm_import(self, actor: Actor, fingerprint: str):
        self.problem = ""
        if self._parsed is None or self._plan is None:
            if self.result:  # a second click on the button that just imported the file
                return
            self.problem = "There is no previewed file to import. Choose a file to preview first."
            return
        if str(fingerprint)[:64] != self._plan.fingerprint:
            self.problem = "This preview is out of date. Check the preview below and confirm again."
            return
        try:
            done = org_import.apply_import(actor, self._parsed, self._plan.fingerprint,
                                           source_ip=self._client_ip())
        except ImportOutdated as outdated:
            self.problem = str(outdated)
            self._show(outdated.plan)
            return
        name = self.file_name
        self._forget()
        self.result = (f"Imported {name}: {done.created} created, {done.updated} updated, "
                       f"{done.unchanged} unchanged; rows with errors, left out: {done.skipped}.")

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_DISCARD_IMPORT)
    def discard_preview(self, actor: Actor):
        self._forget()
        self.problem, self.result = "", "Preview discarded; nothing was imported."

    def _turn(self, which: str, delta: int) -> None:
        setattr(self, which, getattr(self, which) + delta)
        self._page_rows() if which == "rows_page" else self._page_errors()

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ROWS_PAGE)
    def next_rows_page(self, actor: Actor):
        self._turn("rows_page", 1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ROWS_PAGE)
    def previous_rows_page(self, actor: Actor):
        self._turn("rows_page", -1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ERRORS_PAGE)
    def next_errors_page(self, actor: Actor):
        self._turn("errors_page", 1)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.ORGANIZATIONS_IMPORT_ERRORS_PAGE)
    def previous_errors_page(self, actor: Actor):
        self._turn("errors_page", -1)
