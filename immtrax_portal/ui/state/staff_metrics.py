"""The staff metrics page: formatted figures from services/metrics.py, nothing else."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import metrics
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.session import SessionState, guarded


class StaffMetricsState(SessionState):
    by_status: list[dict[str, str]] = []
    by_type: list[dict[str, str]] = []
    completion: list[dict[str, str]] = []
    weeks: list[dict[str, str]] = []
    overdue: int = 0
    overdue_href: str = routes.with_query(routes.STAFF_QUEUE, "overdue=1")
    open_export_href: str = routes.STAFF_QUEUE_CSV
    loaded: bool = False

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._refresh(actor)

    def _refresh(self, actor: Actor) -> None:
        """Recompute every figure from the database (the live-update mechanism calls this)."""
        figures = metrics.staff_metrics(actor)
        self.by_status = [{"label": s.label, "count": str(n),
                           "href": routes.with_query(routes.STAFF_QUEUE, f"status={s.value}")}
                          for s, n in figures.by_status]
        self.by_type = [{"label": t.label, "count": str(n),
                         "href": routes.with_query(routes.STAFF_QUEUE, f"status=all&type={t.value}")}
                        for t, n in figures.by_type]
        self.completion = [{"window": f"Last {c.days} days", "completed": str(c.completed),
                            "median": metrics.hours_text(c.median_hours),
                            "p90": metrics.hours_text(c.p90_hours)} for c in figures.completion]
        tallest = max([w.count for w in figures.weeks] + [1])
        self.weeks = [{"label": w.week_start.strftime("%b %d"), "iso": w.week_start.strftime("%Y-%m-%d"),
                       "count": str(w.count), "width": f"{round(100 * w.count / tallest)}%"}
                      for w in figures.weeks]
        self.overdue = figures.overdue
        self.loaded = True
