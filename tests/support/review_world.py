"""The roster reviews' world: the wizard's organizations and people, everyone granted access 13
months before ``T0`` (so all are due under the default schedule: 3 months for Vaccine Management,
12 for the other levels), and one staff member; ``days(n)`` is the controllable clock."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from immtrax_portal.db import session_scope
from immtrax_portal.domain.models import Grant, utcnow
from immtrax_portal.services.reviews import add_months
from tests.support.wizard_world import World, add_staff_member, build_world

T0 = utcnow().replace(microsecond=0)


def days(n: float):
    return T0 + timedelta(days=n)


def build_review_world() -> World:
    world = build_world()
    with session_scope() as session:
        for grant in session.exec(select(Grant)):
            grant.since = add_months(T0, -13)
            session.add(grant)
    add_staff_member(world)
    return world
