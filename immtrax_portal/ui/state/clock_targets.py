"""The program's targets page: each request type's target in business hours, set by staff."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.enums import RequestType
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import clock_figures, program_clock
from immtrax_portal.ui.components.error_summary import focus_error_summary
from immtrax_portal.ui.state.session import SessionState, guarded

FIELDS = [f"target_{kind.value}" for kind in RequestType]


class ClockTargetsState(SessionState):
    targets: dict[str, str] = {}
    errors: dict[str, str] = {}
    revision: int = 0
    message: str = ""
    problem: str = ""
    loaded: bool = False

    def _on_refused(self, message: str, *, on_load: bool = False) -> None:
        self.problem = message

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self.errors, self.message, self.problem = {}, "", ""
        self._show(actor)

    def _show(self, actor: Actor) -> None:
        found = clock_figures.current_targets(actor)
        self.targets = {f"target_{kind.value}": str(hours) for kind, hours in found.items()}
        self.revision += 1
        self.loaded = True

    @rx.event
    @guarded(Rule.STAFF, AuditAction.CLOCK_TARGETS_SAVE)
    def save(self, actor: Actor, form: dict):
        form = form if isinstance(form, dict) else {}
        self.message, self.problem = "", ""
        try:
            chosen = program_clock.parse_targets({k: str(form.get(k, ""))[:8] for k in FIELDS})
        except program_clock.TargetProblems as bad:
            self.errors = {f"target_{kind}": message for kind, message in bad.problems.items()}
            self.targets = {k: str(form.get(k, ""))[:8] for k in FIELDS}
            self.revision += 1
            return focus_error_summary()
        self.errors = {}
        changed = program_clock.save_targets(actor, chosen, source_ip=self._client_ip())
        self.message = (f"Saved: {changed} target{'s' if changed != 1 else ''} changed." if changed
                        else "Nothing changed.")
        self._show(actor)
