"""The staff queue service on SQLite and PostgreSQL: tabs, filters, search, sorting, pages, overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from immtrax_portal.db import get_engine
from immtrax_portal.domain.enums import RequestStatus, RequestType
from immtrax_portal.domain.permissions import NotAllowed
from immtrax_portal.services import queue
from immtrax_portal.services.queue import QueueFilters, export_rows, queue_page
from tests.support.databases import BACKENDS, fresh_database_url, use_database
from tests.support.queue_world import NOW, add_request, build_queue_world
from tests.support.wizard_world import actor

S, T = RequestStatus, RequestType


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    with fresh_database_url(request.param, tmp_path) as url, use_database(url):
        yield build_queue_world()



def page(world, **filters):
    return queue_page(actor(world.staff), QueueFilters(**filters), now=NOW)


def numbers(result) -> list[str]:
    return [row.number for row in result.rows]


def test_tabs_count_every_status_under_the_other_filters(world):
    add_request(world, status=S.SUBMITTED)
    add_request(world, status=S.IN_REVIEW)
    add_request(world, status=S.IN_REVIEW, kind=T.ACCESS_DELETION)
    add_request(world, status=S.NEEDS_INFO)
    add_request(world, status=S.COMPLETED, completed_after_hours=5)
    add_request(world, status=S.REJECTED, org="Beta Health")

    counts = page(world).counts
    assert counts["submitted"] == 1 and counts["in_review"] == 2 and counts["needs_info"] == 1
    assert counts["completed"] == 1 and counts["rejected"] == 1 and counts["expired"] == 0
    assert counts["open"] == 4 and counts["all"] == 6

    only_deletions = page(world, request_type="access_deletion").counts
    assert only_deletions["in_review"] == 1 and only_deletions["open"] == 1 and only_deletions["all"] == 1


def test_a_page_costs_three_queries_whatever_the_number_of_tabs(world):
    for _ in range(3):
        add_request(world)
    staff = actor(world.staff)

    def statements_for(filters: QueueFilters) -> int:
        statements = []
        listener = lambda *_args: statements.append(1)  # noqa: E731
        sa.event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            queue_page(staff, filters, now=NOW)
        finally:
            sa.event.remove(get_engine(), "before_cursor_execute", listener)
        return len(statements)

    # one GROUP BY for all tab counts, one for the page's ids, one for those rows' names and
    # owners, one for the page's likely duplicates, one for the clock's targets (a small table);
    # a name search looks its people up once more, for the counts and the page together
    assert statements_for(QueueFilters(request_type="new_access", older_than_days=0)) == 5
    assert statements_for(QueueFilters(search="nora")) == 6


def test_the_open_tab_shows_open_requests_oldest_waiting_first(world):
    newer = add_request(world, status=S.IN_REVIEW, waiting_days=1)
    older = add_request(world, status=S.SUBMITTED, waiting_days=3)
    add_request(world, status=S.COMPLETED, completed_after_hours=2)
    assert numbers(page(world)) == [older, newer]


def test_each_status_tab_shows_only_that_status(world):
    add_request(world, status=S.IN_REVIEW)
    wanted = add_request(world, status=S.NEEDS_INFO)
    result = page(world, status="needs_info")
    assert numbers(result) == [wanted] and result.total == 1


def test_filters_by_type_organization_and_age(world):
    deletion = add_request(world, kind=T.ACCESS_DELETION, created_days_ago=2)
    beta = add_request(world, org="Beta Health", created_days_ago=2)
    old = add_request(world, created_days_ago=40)
    assert numbers(page(world, request_type="access_deletion")) == [deletion]
    assert numbers(page(world, organization_id=world.orgs["Beta Health"])) == [beta]
    assert numbers(page(world, older_than_days=30)) == [old]


def test_search_finds_a_request_by_number_name_or_email_in_any_case(world):
    nora = add_request(world, first="Nora", last="Newhire", email="nora.newhire@alpha.example")
    add_request(world, first="Omar", last="Oldtimer", email="omar@beta.example")
    assert numbers(page(world, search=nora)) == [nora]
    assert numbers(page(world, search=nora.lower())) == [nora]
    assert numbers(page(world, search=nora[-1])) == [nora]  # the last digits
    assert numbers(page(world, search="IMR-2026-00000")) == world.numbers  # a prefix
    assert numbers(page(world, search="NORA NEW")) == [nora]
    assert numbers(page(world, search="newhire@ALPHA")) == [nora]
    assert numbers(page(world, search="nobody")) == []


def test_search_wildcards_are_taken_literally(world):
    add_request(world, first="Nora", last="Newhire")
    assert numbers(page(world, search="%")) == []
    assert numbers(page(world, search="_")) == []


def test_sorting_by_newest_number_and_organization(world):
    zeta = add_request(world, org="Zeta Pharmacy", created_days_ago=1, number="IMR-2026-000003")
    alpha = add_request(world, org="Alpha Clinic", created_days_ago=3, number="IMR-2026-000009")
    beta = add_request(world, org="Beta Health", created_days_ago=2, number="IMR-2026-000001")
    assert numbers(page(world, sort="newest")) == [zeta, beta, alpha]
    assert numbers(page(world, sort="number")) == [beta, zeta, alpha]
    assert numbers(page(world, sort="organization")) == [alpha, beta, zeta]
    assert numbers(page(world, sort="waiting")) == [alpha, beta, zeta]


def test_pages_follow_each_other_and_a_page_past_the_end_shows_the_last(world):
    made = [add_request(world, waiting_days=30 - n) for n in range(queue.PAGE_SIZE + 3)]
    first, second = page(world), page(world, page=2)
    assert numbers(first) == made[:queue.PAGE_SIZE] and numbers(second) == made[queue.PAGE_SIZE:]
    assert (first.pages, second.page) == (2, 2)
    beyond = page(world, page=99)
    assert beyond.page == 2 and numbers(beyond) == made[queue.PAGE_SIZE:]


def test_overdue_markers_follow_the_business_day_targets(world):
    # NOW is a Wednesday: in review since Monday (2 business days) is over the 1-day target,
    # since this morning is not; needs_info has 5 business days; awaiting the applicant never is.
    late = add_request(world, status=S.IN_REVIEW, waiting_days=2)
    fresh = add_request(world, status=S.IN_REVIEW, waiting_days=0.2)
    asked = add_request(world, status=S.NEEDS_INFO, waiting_days=6)  # Thursday: 4 business days
    applicant = add_request(world, status=S.AWAITING_AGREEMENT, waiting_days=20)
    markers = {row.number: row.overdue for row in page(world).rows}
    assert markers[late] == "Overdue (target 1 business day)"
    assert markers[fresh] == "" and markers[asked] == "" and markers[applicant] == ""
    assert numbers(page(world, overdue_only=True)) == [late]


def test_a_weekend_does_not_make_a_friday_request_overdue_on_monday(world):
    # Submitted Friday 16:00 Montana time. Monday 10:00: only 18 business hours have passed;
    # Monday 17:00: 25 hours, over the one-day target.
    friday = add_request(world, status=S.SUBMITTED, waiting_days=4 + 20 / 24)
    monday_10 = NOW - timedelta(days=2, hours=2)
    for seen_at, expected in ((monday_10, ""), (monday_10 + timedelta(hours=7),
                                                "Overdue (target 1 business day)")):
        result = queue_page(actor(world.staff), QueueFilters(), now=seen_at)
        assert {r.number: r.overdue for r in result.rows}[friday] == expected


def test_only_program_staff_may_read_the_queue(world):
    add_request(world)
    for person_id in (world.supervisor, world.applicant):
        with pytest.raises(NotAllowed):
            queue_page(actor(person_id), QueueFilters(), now=NOW)


def test_filters_from_an_untrusted_query_are_bounded_and_round_trip():
    hostile = {"status": "deleted';--", "type": "x", "org": "-4", "older_than": "99999999",
               "q": "  a   b " + "z" * 500, "overdue": "yes", "sort": "password", "page": "0"}
    filters = QueueFilters.from_query(hostile)
    assert filters.status == "open" and filters.request_type == "" and filters.organization_id == 0
    assert filters.older_than_days == queue.MAX_AGE_DAYS and filters.overdue_only
    assert filters.sort == "waiting" and filters.page == 1 and len(filters.search) <= queue.MAX_SEARCH
    chosen = QueueFilters(status="in_review", request_type="new_access", organization_id=7,
                          older_than_days=3, search="nora n", overdue_only=True, sort="number", page=4)
    assert QueueFilters.from_query(dict(pair.split("=") for pair in chosen.to_query().split("&"))
                                   | {"q": "nora n"}) == chosen
    assert QueueFilters().to_query() == ""


def test_the_export_reads_the_same_filters_in_the_same_order(world):
    add_request(world, org="Beta Health")
    wanted = add_request(world, status=S.IN_REVIEW, waiting_days=3)
    add_request(world, status=S.COMPLETED, completed_after_hours=1)
    rows = list(export_rows(QueueFilters(organization_id=world.orgs["Alpha Clinic"]), now=NOW))
    assert [r[0] for r in rows] == [wanted]
    assert rows[0][3] == "Alpha Clinic" and rows[0][-1] == "Overdue (target 1 business day)"


def test_the_queue_shows_times_and_days_in_the_programs_time_zone_not_utc(world):
    # 04:00 UTC on Wednesday 11 March is still Tuesday evening, 22:00 MDT, in Montana.
    number = add_request(world, status=S.SUBMITTED, created_days_ago=14 / 24)
    [row] = [r for r in page(world).rows if r.number == number]
    assert row.submitted == "March 10, 2026"
    assert row.waiting_since == "March 10, 2026 at 10:00 PM MDT"
