"""What the two file imports share: upload, preview a page at a time, confirm by fingerprint.

The organization import and the registry's inactivity report keep the parsed file and its plan on
the server in ``_``-prefixed vars; the browser gets one page of formatted rows. Confirming names
the plan's fingerprint, which the service checks again in its transaction, and forgets the file
once imported, so a second click finds nothing left to import. Events of one tab run one after
another, so the plan cannot change between the check here and the service's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

PAGE_SIZE = 20
OUT_OF_DATE = "This preview is out of date. Check the preview below and confirm again."
DISCARDED = "Preview discarded; nothing was imported."


def page_count(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def one_page(items: Sequence, page: int) -> tuple[int, int, Sequence]:
    """(the page, kept within range; how many pages; that page's items)."""
    pages = page_count(len(items))
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE_SIZE
    return page, pages, items[start:start + PAGE_SIZE]


class UploadPreviewMixin(rx.State, mixin=True):
    """The vars both import pages show, and the steps they take alike."""

    file_name: str = ""
    file_error: str = ""
    problem: str = ""
    result: str = ""
    has_preview: bool = False
    fingerprint: str = ""
    unchanged: int = 0
    error_count: int = 0
    rows: list[dict] = []
    rows_page: int = 1
    rows_pages: int = 1
    error_rows: list[dict] = []
    errors_page: int = 1
    errors_pages: int = 1

    def _forget_preview(self) -> None:
        self._parsed, self._plan = None, None
        self.has_preview, self.fingerprint, self.file_name = False, "", ""
        self.rows, self.error_rows = [], []
        self.unchanged = self.error_count = 0

    def _start_over(self) -> None:
        self._forget()
        self.file_error, self.problem, self.result = "", "", ""

    def _show_plan(self, plan, unchanged: int) -> None:
        self._plan = plan
        self.has_preview, self.fingerprint = True, plan.fingerprint
        self.unchanged, self.error_count = unchanged, len(plan.errors)
        self.rows_page = self.errors_page = 1
        self._page_rows()
        self._page_errors()

    def _page_rows(self) -> None:
        self.rows_page, self.rows_pages, shown = one_page(self._plan.rows if self._plan else (),
                                                          self.rows_page)
        self.rows = [self._row_for_display(row) for row in shown]

    def _page_errors(self) -> None:
        self.errors_page, self.errors_pages, shown = one_page(self._plan.errors if self._plan else (),
                                                              self.errors_page)
        self.error_rows = [self._error_for_display(error) for error in shown]

    def _turn(self, which: str, delta) -> None:
        """Turn the rows' or the errors' pages by one (a forged delta is clamped to ±1)."""
        try:
            step = max(-1, min(1, int(delta)))
        except (TypeError, ValueError):
            return
        if which == "errors":
            self.errors_page += step
            self._page_errors()
        else:
            self.rows_page += step
            self._page_rows()

    def _confirm_preview(self, fingerprint, nothing_previewed: str, apply: Callable[[], str]) -> None:
        """Import the previewed plan if ``fingerprint`` names it; ``apply`` runs the service and
        returns the result line. A second click on a just-used button does nothing."""
        self.problem = ""
        if self._parsed is None or self._plan is None:
            if not self.result:
                self.problem = nothing_previewed
            return
        if str(fingerprint)[:64] != self._plan.fingerprint:
            self.problem = OUT_OF_DATE
            return
        outcome = apply()
        if outcome:
            self._forget()
            self.result = outcome

    def _discard_preview(self) -> None:
        self._forget()
        self.problem, self.result = "", DISCARDED
