"""The several-people page's state: reads input, lets the caller's ``Sheet`` make one move, shows it.

Every handler declares its rule (supervisors only; the caller re-derived from the session cookie
for each event). The sheet, its verdicts and the submission's idempotency key stay on the server
(``_sheet``); the browser gets display rows. A different person in the same tab gets a sheet of
their own.
"""

from __future__ import annotations

import logging

import reflex as rx

from immtrax_portal.db import is_database_unavailable
from immtrax_portal.domain.audit_actions import AuditAction as A
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.permissions import Actor, Rule, require_supervisor_of
from immtrax_portal.domain.record_ids import record_id
from immtrax_portal.services import roster
from immtrax_portal.services.batch.check import check_rows
from immtrax_portal.services.batch.form import Sheet
from immtrax_portal.services.batch.rows import MAX_CSV_BYTES, CsvRejected, parse_people_csv
from immtrax_portal.services.batch.submit import BatchRefused, submit_people
from immtrax_portal.services.rate_limits import RateLimited, check_rate
from immtrax_portal.services.requests import SubmissionRefused, next_steps
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.outage import database_unavailable_text
from immtrax_portal.ui.state.browser_gate import BrowserGateState
from immtrax_portal.ui.state.guard import off_loop
from immtrax_portal.ui.state.session import guarded

logger = logging.getLogger(__name__)
UPLOAD_ID = "batch-csv"
HEADING_ID = "batch-heading"
RECEIPT_ID = "batch-receipt-heading"
READY_ID = "batch-ready"
SUBMIT_FAILED = ("The requests could not be submitted just now. Nothing was sent: try again in a "
                 "moment (submitting again cannot make them twice).")


class BatchState(BrowserGateState):
    loaded: bool = False
    organizations: list[dict[str, str]] = []
    organization_id: str = ""
    organization_name: str = ""
    rows: list[dict[str, str]] = []
    row_count: int = 0
    revision: int = 0
    summary: list[dict[str, str]] = []
    ready: bool = False
    wrong: int = 0
    notice: str = ""
    paste_error: str = ""
    file_error: str = ""
    submitting: bool = False
    receipt: list[dict[str, str]] = []
    next_steps: list[str] = []
    _sheet: Sheet | None = None
    _owner_id: int = 0

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.notice = message

    def _sheet_of(self, actor: Actor) -> Sheet:
        """The caller's sheet; another person's (a shared tab) is never shown to them."""
        if self._sheet is None or self._owner_id != actor.person_id:
            self._sheet, self._owner_id = Sheet(), actor.person_id
            choices = roster.organization_choices(actor.supervised_org_ids)
            self.organizations = [{"id": str(i), "name": n} for i, n in choices]
            if len(choices) == 1:
                self._sheet.organization_id = choices[0][0]
        if self._sheet.organization_id and self._sheet.organization_id not in actor.supervised_org_ids:
            self._sheet.organization_id = 0
        return self._sheet

    def _show(self, sheet: Sheet) -> None:
        self.organization_id = str(sheet.organization_id or "")
        self.organization_name = next((o["name"] for o in self.organizations
                                       if o["id"] == self.organization_id), "")
        self.rows, self.row_count, self.revision = sheet.shown_rows(), len(sheet.rows), sheet.revision
        self.summary, self.ready = sheet.summary(), sheet.ready
        self.wrong = sheet.check.wrong if sheet.check and not sheet.stale else 0
        self.receipt = sheet.receipt()
        self.loaded = True

    def _check(self, actor: Actor, sheet: Sheet):
        """Check every row now; focus the summary when something is wrong, the button when not."""
        if not sheet.organization_id:
            self.notice = "Choose the organization the requests are for."
            return None
        try:
            sheet.checked(check_rows(actor, sheet.organization_id, sheet.rows, source_ip=self._client_ip()))
        except RateLimited as limited:   # already an audit denial
            self.notice = str(limited)
            return None
        self._show(sheet)
        return focus_element(READY_ID) if sheet.ready else focus_error_summary()

    # --- Page load and organization -------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_OPEN, page=True)
    def open_page(self, actor: Actor):
        self.notice = self.paste_error = self.file_error = ""
        self.submitting = False
        sheet = self._sheet_of(actor)
        if sheet.submitted:          # a receipt seen before: a fresh list
            self._sheet = None
            sheet = self._sheet_of(actor)
        self._show(sheet)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_CHOOSE_ORGANIZATION)
    def choose_organization(self, actor: Actor, organization_id: str):
        self.notice = ""
        sheet = self._sheet_of(actor)
        chosen = record_id(organization_id)
        require_supervisor_of(actor, chosen)
        if chosen != sheet.organization_id:
            sheet.organization_id, sheet.check, sheet.key = chosen, None, ""
        self._show(sheet)

    # --- The table -------------------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_EDIT_ROWS)
    def set_cell(self, actor: Actor, index: str, name: str, value: str):
        """A cell left after typing: kept on the server so adding or removing rows loses nothing."""
        sheet = self._sheet_of(actor)
        if sheet.set_cell(index, name, value):
            self._show(sheet)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_EDIT_ROWS)
    def add_row(self, actor: Actor):
        sheet = self._sheet_of(actor)
        if sheet.add_row():
            self._show(sheet)
            return focus_element(f"batch-r{len(sheet.rows)}-first-name")
        self.notice = "A submission holds at most 25 people. Submit these first, then start another list."
        return None

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_EDIT_ROWS)
    def remove_row(self, actor: Actor, index: str):
        sheet = self._sheet_of(actor)
        if sheet.remove_row(index):
            self._show(sheet)
            return focus_element(HEADING_ID)
        return None

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_CHECK)
    def check(self, actor: Actor, form_data: dict):
        """"Check these people": every row by the wizard's own rules, and the registry."""
        self.notice = ""
        sheet = self._sheet_of(actor)
        sheet.take_form(form_data)
        return self._check(actor, sheet)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_SWITCH_ROW)
    def switch_row(self, actor: Actor, index: str):
        """One click on the registry's advice (access elsewhere: Change Employer), then check again."""
        sheet = self._sheet_of(actor)
        if sheet.switch_row(index):
            return self._check(actor, sheet)
        return None

    # --- Paste and upload ------------------------------------------------------------------------

    def _take_csv(self, actor: Actor, data: bytes | str, problem: str):
        sheet = self._sheet_of(actor)
        try:
            rows = parse_people_csv(data)
        except CsvRejected as rejected:
            setattr(self, problem, str(rejected))
            return focus_element("batch-paste" if problem == "paste_error" else "batch-upload-label")
        sheet.replace_rows(rows)
        self._show(sheet)
        return self._check(actor, sheet)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_PASTE)
    def paste(self, actor: Actor, form_data: dict):
        self.notice = self.paste_error = self.file_error = ""
        text = form_data.get("pasted", "") if isinstance(form_data, dict) else ""
        if not isinstance(text, str) or not text.strip():
            self.paste_error = "Paste the rows first: one person on each line."
            return focus_element("batch-paste")
        return self._take_csv(actor, text[: MAX_CSV_BYTES + 1], "paste_error")

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_UPLOAD)
    async def upload_file(self, actor: Actor, files: list[rx.UploadFile]):
        self.notice = self.paste_error = self.file_error = ""
        upload = files[0] if isinstance(files, list) and files else None
        if not hasattr(upload, "read"):
            self.file_error = "Choose a CSV file."
            return None
        data = await upload.read(MAX_CSV_BYTES + 1)
        return await off_loop(self._take_csv, actor, data, "file_error")  # it reads the database

    # --- Submit ----------------------------------------------------------------------------------

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_SUBMIT_ALL)
    def submit(self, actor: Actor):
        """One request per person in one transaction; the key makes a second click harmless."""
        sheet = self._sheet_of(actor)
        self.notice = ""
        if sheet.submitted:
            self._show(sheet)
            return focus_element(RECEIPT_ID)
        if not sheet.ready or self.submitting:
            self.notice = "Check the people first: every row must be ready."
            return focus_element(HEADING_ID)
        try:
            check_rate("submit_request", person_id=actor.person_id, ip=self._client_ip(),
                       actor_role=actor.role)
        except RateLimited as limited:
            self.notice = str(limited)
            return None
        self.submitting = True
        try:
            sheet.submitted = submit_people(actor.person_id, sheet.organization_id, sheet.rows, sheet.key,
                                            source_ip=self._client_ip())
        except BatchRefused as refused:
            sheet.stale = True
            self.notice = f"{refused} Check the people again."
            return focus_element(HEADING_ID)
        except SubmissionRefused as refused:   # a NotAllowed goes to the guard: recorded, shown
            self.notice = str(refused)
            return focus_element(HEADING_ID)
        except Exception as failure:  # nothing was committed: the key stays, trying again is safe
            logger.exception("batch submit failed for person %s", actor.person_id)
            self.notice = database_unavailable_text() if is_database_unavailable(failure) else SUBMIT_FAILED
            return focus_element(HEADING_ID)
        finally:
            self.submitting = False
        self.next_steps = [s.split(". ", 1)[-1] for s in next_steps(RequestType.NEW_ACCESS)]
        self._show(sheet)
        return focus_element(RECEIPT_ID)

    @rx.event
    @guarded(Rule.SUPERVISOR, A.BATCH_START_OVER)
    def start_over(self, actor: Actor):
        self._sheet = None
        self.notice = self.paste_error = self.file_error = ""
        self._show(self._sheet_of(actor))
        return focus_element(HEADING_ID)
