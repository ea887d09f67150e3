"""The staff page for User Agreement versions: see who signed which, write the next one, review it,
publish it. Thin: every handler declares its rule (``@guarded``) and ``services.agreement_admin``
decides.

Publishing is two steps because it changes what every applicant signs from that moment: "Review"
keeps the tidied text server-side and shows it as applicants will see it; "Publish" publishes
exactly that text, once (a second click finds nothing left to publish).
"""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.domain.validation import parse_date
from immtrax_portal.program_time import program_time, program_today
from immtrax_portal.services import agreement_admin
from immtrax_portal.services.agreement_admin import AgreementRefused
from immtrax_portal.ui.client_input import form_text, turned_page
from immtrax_portal.ui.components.error_summary import focus_element, focus_error_summary
from immtrax_portal.ui.state.agreement import paragraphs
from immtrax_portal.ui.state.session import SessionState, guarded

REVIEW_HEADING_ID = "review-heading"
FORM_HEADING_ID = "new-version-heading"
# Generous bounds on what the browser may send; the service applies the real limits.
_LIMITS = {"label": 200, "title": 1_000, "body": agreement_admin.MAX_BODY + 1_000,
           "acknowledgements": 20 * agreement_admin.MAX_ACKNOWLEDGEMENT}


def acknowledgement_lines(text: str) -> list[str]:
    """One statement per line of the box."""
    return [line for line in text.splitlines() if line.strip()]


class AgreementVersionsState(SessionState):
    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    current_label: str = ""
    # The form: what it starts from (the current text, or what was last entered) and its errors.
    label: str = ""
    title: str = ""
    body: str = ""
    acknowledgements: str = ""
    revision: int = 0
    errors: dict[str, str] = {}
    # The review step: the tidied version exactly as it would be published.
    reviewing: bool = False
    review_label: str = ""
    review_title: str = ""
    review_paragraphs: list[str] = []
    review_acknowledgements: list[str] = []
    review_changes: str = ""
    # Whether everyone with access must sign this version again, and by which day.
    everyone_signs_again: bool = False
    resign_by: str = ""
    review_resign: str = ""
    message: str = ""
    problem: str = ""
    _pending: dict = {}

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem, self.message = message, ""

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.page, self.message, self.problem = 1, "", ""
        self._start_from_current(actor)
        self._refresh(actor)
        return None

    def _start_from_current(self, actor: Actor) -> None:
        """An empty label and the current text: the next version is usually an edit of it."""
        current = agreement_admin.current_text(actor)
        self.current_label = current.label if current else ""
        self.label = ""
        self.title = current.title if current else ""
        self.body = current.body if current else ""
        self.acknowledgements = "\n".join(current.acknowledgements) if current else ""
        self.errors, self.reviewing, self._pending = {}, False, {}
        self.everyone_signs_again, self.resign_by = False, ""
        self.revision += 1

    def _refresh(self, actor: Actor) -> None:
        result = agreement_admin.list_agreement_versions(actor, self.page)
        self.total, self.page, self.pages = result.total, result.page, result.pages
        self.rows = [{"id": r.id, "label": r.label, "title": r.title,
                      "published": program_time(r.published_at),
                      "published_by": r.published_by, "acknowledgements": r.acknowledgement_count,
                      "signatures": r.signature_count, "current": r.current} for r in result.rows]

    @rx.event
    @guarded(Rule.STAFF, AuditAction.AGREEMENT_VERSIONS_REVIEW)
    def review(self, actor: Actor, form: dict):
        self.label, self.title, self.body, self.acknowledgements = (
            form_text(form, name, _LIMITS[name]) for name in ("label", "title", "body", "acknowledgements"))
        self.message, self.problem = "", ""
        self.everyone_signs_again = form_text(form, "everyone_signs_again", 10) in ("on", "true", "yes")
        self.resign_by = form_text(form, "resign_by", 40).strip()
        label, title, body, acknowledgements = agreement_admin.tidy_agreement(
            self.label, self.title, self.body, acknowledgement_lines(self.acknowledgements))
        problems = agreement_admin.agreement_problems(label, title, body, acknowledgements)
        if not problems and agreement_admin.label_is_taken(label):
            problems = {"label": agreement_admin.LABEL_TAKEN}
        resign_by = None
        if self.everyone_signs_again:
            if problem := agreement_admin.resign_by_problem(self.resign_by, program_today()):
                problems = {**problems, "resign_by": problem}
            else:
                resign_by = parse_date(self.resign_by)
        if problems:
            self.errors, self.reviewing, self._pending = problems, False, {}
            self.revision += 1
            return focus_error_summary()
        self.errors = {}
        self._pending = {"label": label, "title": title, "body": body, "acknowledgements": acknowledgements,
                         "resign_by": resign_by}
        self.review_resign = (f"Everyone with access must sign this version again by the end of "
                              f"{resign_by.strftime('%B %-d, %Y')}." if resign_by else
                              "Nobody has to sign again now: each person signs this version when their "
                              "yearly re-signing comes.")
        self.review_label, self.review_title = label, title
        self.review_paragraphs, self.review_acknowledgements = paragraphs(body), acknowledgements
        self.review_changes = agreement_admin.changes_from_current(actor, title, body, acknowledgements)
        self.reviewing = True
        return focus_element(REVIEW_HEADING_ID)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.AGREEMENT_VERSIONS_EDIT_AGAIN)
    def edit_again(self, actor: Actor):
        self.reviewing, self._pending = False, {}
        self.revision += 1
        return focus_element(FORM_HEADING_ID)

    @rx.event
    @guarded(Rule.STAFF, AuditAction.AGREEMENT_VERSIONS_PUBLISH)
    def publish(self, actor: Actor):
        pending, self._pending = self._pending, {}
        if not pending:
            # A second click lands after the first published: its success message stays as it is.
            if not self.message:
                self.reviewing = False
                self.problem = "There is nothing to publish. Review a new version first."
            return None
        try:
            version = agreement_admin.publish_agreement(
                actor, pending["label"], pending["title"], pending["body"], pending["acknowledgements"],
                source_ip=self._client_ip(), resign_by=pending.get("resign_by"))
        except AgreementRefused as refused:
            self.errors, self.reviewing = refused.problems, False
            self.revision += 1
            return focus_error_summary()
        self._start_from_current(actor)
        self.page = 1
        self._refresh(actor)
        self.message = (f"Version {version.label} is published. Applicants who open or reload their "
                        "invitation now read and sign it.")
        return focus_element("agreement-versions-status")

    @rx.event
    @guarded(Rule.STAFF, AuditAction.AGREEMENT_VERSIONS_TURN_PAGE)
    def turn_page(self, actor: Actor, delta: int):
        self.page = turned_page(self.page, self.pages, delta)
        self._refresh(actor)
