"""Metrics on SQLite and PostgreSQL: counts, completion percentiles, overdue, requests per week."""

from __future__ import annotations

import pytest

from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services.metrics import hours_text, staff_metrics
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import NOW, add_request, build_queue_world
from tests.support.wizard_world import actor

S, T = RequestStatus, RequestType


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_queue_world()



def figures(world):
    return staff_metrics(actor(world.staff), now=NOW)


def test_counts_by_status_and_type_list_every_one_even_at_zero(world):
    add_request(world, status=S.IN_REVIEW, kind=T.ACCESS_DELETION)
    add_request(world, status=S.IN_REVIEW)
    add_request(world, status=S.REJECTED)
    result = figures(world)
    assert dict(result.by_status)[S.IN_REVIEW] == 2 and dict(result.by_status)[S.REJECTED] == 1
    assert dict(result.by_status)[S.EXPIRED] == 0 and len(result.by_status) == len(S)
    assert dict(result.by_type) == {T.NEW_ACCESS: 2, T.CHANGE_EMPLOYER: 0, T.PERMISSIONS_CHANGE: 0,
                                    T.ACCESS_DELETION: 1}


def test_median_and_90th_percentile_of_completion_time_per_window(world):
    for hours in (1, 2, 3, 4, 10):
        add_request(world, status=S.COMPLETED, created_days_ago=5, completed_after_hours=hours)
    # completed about 59 days ago: in the 90-day window only
    add_request(world, status=S.COMPLETED, created_days_ago=60, completed_after_hours=100)
    add_request(world, status=S.IN_REVIEW)  # not completed: never counted
    last_30, last_90 = figures(world).completion
    assert (last_30.days, last_30.completed, last_30.median_hours, last_30.p90_hours) == (30, 5, 3.0, 10.0)
    assert (last_90.completed, last_90.median_hours, last_90.p90_hours) == (6, 3.0, 100.0)


def test_no_completions_reads_as_such(world):
    add_request(world, status=S.IN_REVIEW)
    last_30 = figures(world).completion[0]
    assert last_30.completed == 0 and hours_text(last_30.median_hours) == "no completed requests"
    assert hours_text(5.25) == "5.2 hours" and hours_text(72) == "3.0 days"


def test_overdue_count_uses_the_queue_targets(world):
    add_request(world, status=S.IN_REVIEW, waiting_days=2)
    add_request(world, status=S.SUBMITTED, waiting_days=3)
    add_request(world, status=S.IN_REVIEW, waiting_days=0.1)
    add_request(world, status=S.AWAITING_AGREEMENT, waiting_days=30)
    assert figures(world).overdue == 2


def test_requests_per_week_for_twelve_weeks_oldest_first(world):
    add_request(world, created_days_ago=1)  # this week (NOW is a Wednesday)
    add_request(world, created_days_ago=2)
    add_request(world, created_days_ago=8)  # last week
    add_request(world, created_days_ago=200)  # outside the chart
    weeks = figures(world).weeks
    assert len(weeks) == 12 and weeks[-1].week_start.strftime("%Y-%m-%d") == "2026-03-09"
    assert [w.count for w in weeks[-3:]] == [0, 1, 2] and sum(w.count for w in weeks) == 3


def test_only_program_staff_may_read_metrics(world):
    add_request(world)
    for person_id in (world.supervisor, world.applicant):
        with pytest.raises(NotAllowed):
            staff_metrics(actor(person_id), now=NOW)
