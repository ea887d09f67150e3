"""A database outage with the background jobs failing many times a second: each failure is written
once per interval with a count, not once per try (an 82 s outage once wrote 48,850 lines)."""

from __future__ import annotations

import io
import json
import logging
import time

from immtrax_portal.background_jobs import running_background_jobs
from immtrax_portal.operations.logs import configure_logging, portal_handler
from tests.integration.test_health_probes import environment
from tests.support.databases import SINGLE_BACKEND, database_unavailable, fresh_database_url, use_database

INTERVAL_S = 1.0


def test_background_jobs_failing_on_an_unreachable_database_write_one_line_and_a_count_per_interval(
        tmp_path):
    stream = io.StringIO()
    with fresh_database_url(SINGLE_BACKEND, tmp_path) as url, use_database(url), \
            environment(IMMTRAX_MAIL_DELIVERY_INTERVAL_SECONDS="0.02",
                        IMMTRAX_HOUSEKEEPING_INTERVAL_SECONDS="0.02"):
        configure_logging("json", "INFO", INTERVAL_S, stream=stream)
        try:
            with database_unavailable(url), running_background_jobs():
                time.sleep(4)
            time.sleep(INTERVAL_S * 1.5)  # the last interval's count is written by itself
        finally:
            logging.getLogger().removeHandler(portal_handler())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    delivery = [line for line in lines if "Mail delivery tick failed" in line["message"]]
    written = [line for line in delivery if "repeated" not in line]
    counts = [line["repeated"] for line in delivery if "repeated" in line]
    failures = len(written) + sum(counts)
    assert failures >= 10, f"the outage should have made many failures, saw {failures}"
    assert 1 <= len(written) <= 5  # about one per interval of the 4 s outage
    assert 1 <= len(counts) <= 5 and all(count > 0 for count in counts)
    assert all(line["level"] == "ERROR" and line["logger"] == "immtrax_portal.mail" for line in delivery)
    assert "Traceback" in written[0]["exception"]
    # Besides mail: each housekeeping job at most its first failure and its 10th and 100th.
    from immtrax_portal.services.housekeeping import JOBS
    assert len(lines) < 10 + 3 * len(JOBS), [line["message"][:80] for line in lines]
