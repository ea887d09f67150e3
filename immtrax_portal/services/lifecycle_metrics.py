"""Staff figures of access over time: access removed by schedule, and agreements lapsed.

Counted by the database from the rows the housekeeping jobs write (``access_end.done_at``,
``agreement_renewal.lapsed_at``, both indexed), over the same windows as the queue metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import AccessEnd, AgreementRenewal, utcnow
from immtrax_portal.domain.permissions import Actor, require_staff
from immtrax_portal.services.metrics import WINDOWS_DAYS


@dataclass(frozen=True)
class LifecycleFigure:
    label: str
    counts: tuple[int, ...]   # one per WINDOWS_DAYS


def lifecycle_metrics(actor: Actor) -> list[LifecycleFigure]:
    require_staff(actor)
    now = utcnow()
    figures = []
    with session_scope() as session:
        def ended(kind: str, days: int) -> int:
            return session.exec(select(sa.func.count()).select_from(AccessEnd).where(
                AccessEnd.done_at >= now - timedelta(days=days), AccessEnd.kind == kind)).one()

        def lapsed(days: int) -> int:
            return session.exec(select(sa.func.count()).select_from(AgreementRenewal).where(
                AgreementRenewal.lapsed_at >= now - timedelta(days=days))).one()

        figures.append(LifecycleFigure("Access removed on its scheduled last day",
                                       tuple(ended("scheduled_removal", d) for d in WINDOWS_DAYS)))
        figures.append(LifecycleFigure("Time-limited access ended on its end date",
                                       tuple(ended("end_date", d) for d in WINDOWS_DAYS)))
        figures.append(LifecycleFigure("User Agreements lapsed (not signed again in time)",
                                       tuple(lapsed(d) for d in WINDOWS_DAYS)))
    return figures
