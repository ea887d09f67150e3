"""The staff metrics page: formatted figures from services/metrics.py, nothing else. The figures
follow every change to requests by themselves (``LiveUpdates``)."""

from __future__ import annotations

import reflex as rx

from immtrax_portal.domain import program_clock as clock
from immtrax_portal.domain.audit_actions import AuditAction
from immtrax_portal.domain.permissions import Actor, Rule
from immtrax_portal.services import lifecycle_metrics, metrics
from immtrax_portal.services.change_feed import Scope, Shows
from immtrax_portal.ui import routes
from immtrax_portal.ui.state.live import LiveUpdates
from immtrax_portal.ui.state.session import SessionState, guarded


def _clock_row(figures) -> dict[str, str]:
    def business(seconds) -> str:
        return "—" if seconds is None else clock.hours_text(seconds)

    return {"label": figures.label, "completed": str(figures.completed),
            "program_median": business(figures.program_median), "program_p90": business(figures.program_p90),
            "total_median": metrics.hours_text(figures.total_median) if figures.completed else "—",
            "total_p90": metrics.hours_text(figures.total_p90) if figures.completed else "—",
            "within": figures.share_within_target}


class StaffMetricsState(LiveUpdates, SessionState):
    by_status: list[dict[str, str]] = []
    by_type: list[dict[str, str]] = []
    completion: list[dict[str, str]] = []
    weeks: list[dict[str, str]] = []
    # Access over time (issue 16): removed by schedule, agreements lapsed, per window.
    lifecycle: list[dict[str, str]] = []
    overdue: int = 0
    clock_by_type: list[dict[str, str]] = []
    clock_by_week: list[dict[str, str]] = []
    overdue_href: str = routes.with_query(routes.STAFF_QUEUE, "overdue=1")
    open_export_href: str = routes.STAFF_QUEUE_CSV
    loaded: bool = False

    @rx.event
    @guarded(Rule.STAFF, AuditAction.OPEN_PAGE, page=True)
    def load(self, actor: Actor):
        self._refresh(actor)
        return StaffMetricsState.watch_live

    def _live_rule(self) -> Rule:
        return Rule.STAFF

    def _live_scope(self, actor: Actor) -> Scope:
        return Scope(everything=True, shows=frozenset({Shows.REQUESTS}))

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
        self.weeks = [{"label": w.week_start.strftime("%B %-d"), "iso": w.week_start.strftime("%Y-%m-%d"),
                       "count": str(w.count), "width": f"{round(100 * w.count / tallest)}%"}
                      for w in figures.weeks]
        self.overdue = figures.overdue
        self.clock_by_type = [_clock_row(f) for f in figures.clock_by_type]
        self.clock_by_week = [_clock_row(f) for f in figures.clock_by_week]
        self.lifecycle = [
            {"label": f.label,
             **{f"last_{d}": str(n) for d, n in zip(metrics.WINDOWS_DAYS, f.counts, strict=True)}}
            for f in lifecycle_metrics.lifecycle_metrics(actor)]
        self.loaded = True
