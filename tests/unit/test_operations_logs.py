"""Log lines operators can read: JSON when configured, plain by default, repeats throttled."""

from __future__ import annotations

import io
import json
import logging

import pytest

from immtrax_portal.log_redaction import install_log_redaction
from immtrax_portal.operations import log_context
from immtrax_portal.operations.logs import (
    JsonLineFormatter,
    PlainFormatter,
    ProbeAccessFilter,
    RepeatThrottle,
    configure_logging,
    portal_handler,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def captured():
    """A handler writing to a buffer, with a throttle driven by a clock the test moves."""
    install_log_redaction()  # as the app does before anything logs
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    clock = Clock()
    throttle = RepeatThrottle(handler, 60, clock=clock, background_flush=False)
    handler.addFilter(throttle)
    logger = logging.getLogger("immtrax_portal.test_operations_logs")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    yield logger, stream, clock, throttle
    logger.removeHandler(handler)
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_json_lines_parse_and_carry_time_level_logger_message_and_ids(captured):
    logger, stream, _clock, _throttle = captured
    log_context.start_event()
    log_context.actor_id.set(42)
    logger.info("Mail #%s (%s) sent", 7, "invitation")
    [line] = lines(stream)
    assert line["level"] == "INFO"
    assert line["logger"] == "immtrax_portal.test_operations_logs"
    assert line["message"] == "Mail #7 (invitation) sent"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert line["event_id"] == log_context.event_id.get() and len(line["event_id"]) == 16
    assert line["actor_id"] == 42
    log_context.start_event()
    logger.info("next event")
    assert "actor_id" not in lines(stream)[-1]


def test_json_lines_never_carry_cookies_tokens_or_payloads(captured):
    logger, stream, _clock, _throttle = captured
    logger.warning("handshake headers {'cookie': 'immtrax_session=abc123secret'} "
                   "Bearer eyJhbGciOi.eyJzdWIi.sig")
    [line] = lines(stream)
    assert "abc123secret" not in json.dumps(line)
    assert "eyJhbGciOi" not in json.dumps(line)
    assert "[redacted]" in line["message"]


def test_an_exception_is_one_json_line_with_its_traceback(captured):
    logger, stream, _clock, _throttle = captured
    try:
        raise ValueError("bad input")
    except ValueError:
        logger.exception("handler failed")
    [line] = lines(stream)
    assert line["message"] == "handler failed"
    assert "ValueError: bad input" in line["exception"]


def test_a_repeated_error_within_an_interval_yields_one_line_and_one_count_line(captured):
    logger, stream, clock, throttle = captured
    for attempt in range(500):
        clock.now += 0.1  # 50 s of failures, ten a second
        logger.error("database unavailable in an event handler (reference %s): connection refused",
                     f"{attempt:08X}")
    assert len(lines(stream)) == 1
    clock.now += 11  # the interval is over
    throttle.flush_due()
    first, count = lines(stream)
    assert first["message"].startswith("database unavailable in an event handler")
    assert count["repeated"] == 499
    assert count["level"] == "ERROR"
    assert count["message"].startswith("repeated 499 more times in 60 s: database unavailable")
    throttle.flush_due()
    assert len(lines(stream)) == 2  # counted once


def test_a_failure_that_goes_on_is_written_once_per_interval_with_its_count(captured):
    logger, stream, clock, _throttle = captured
    for _second in range(151):  # 150 s outage, one failure a second
        logger.warning("change feed: database unreachable")
        clock.now += 1
    written = lines(stream)
    # t=0 line; t=60 count (59) + line; t=120 count (59) + line; the rest still pending.
    assert [line.get("repeated") for line in written] == [None, 59, None, 59, None]


def test_different_failures_are_not_merged(captured):
    logger, stream, _clock, _throttle = captured
    for message in ("SMTP refused: 550", "database unavailable", "SMTP refused: 551"):
        logger.error(message)  # one place in the code; the last is the first again, another number
    assert [line["message"] for line in lines(stream)] == ["SMTP refused: 550", "database unavailable"]


def test_info_lines_are_never_throttled(captured):
    logger, stream, _clock, _throttle = captured
    for number in range(20):
        logger.info("Mail #%s (invitation) sent", number)
    assert len(lines(stream)) == 20


def test_plain_text_is_the_default_and_names_the_event():
    stream = io.StringIO()
    handler = configure_logging(stream=stream)
    try:
        assert isinstance(handler.formatter, PlainFormatter)
        log_context.start_event()
        logging.getLogger("immtrax_portal.services.delivery").info("Mail #3 (reminder) sent")
        text = stream.getvalue()
        assert " INFO immtrax_portal.services.delivery: Mail #3 (reminder) sent [event_id=" in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text.splitlines()[-1])
    finally:
        logging.getLogger().removeHandler(portal_handler())


def test_json_format_is_configured_for_the_portal_loggers_at_info():
    stream = io.StringIO()
    configure_logging("json", "INFO", 60, stream=stream)
    try:
        logging.getLogger("immtrax_portal.background_jobs").info("Invitation housekeeping ran")
        logging.getLogger("some.library").info("library chatter stays out")
        [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
        assert line["message"] == "Invitation housekeeping ran"
    finally:
        logging.getLogger().removeHandler(portal_handler())


@pytest.mark.parametrize("line, kept", [
    ('[2026-12-01 10:00:00] 127.0.0.1 - "GET /readyz HTTP/1.1" 200 0.412', False),
    ('[2026-12-01 10:00:00] 127.0.0.1 - "GET /healthz HTTP/1.1" 200 0.101', False),
    ('127.0.0.1:5000 - "GET /metrics HTTP/1.1" 200', False),
    ('[2026-12-01 10:00:00] 127.0.0.1 - "GET /dashboard HTTP/1.1" 200 3.2', True),
    ('[2026-12-01 10:00:00] 127.0.0.1 - "GET /readyz-not HTTP/1.1" 200 3.2', True),
])
def test_probe_requests_are_left_out_of_access_logs(line, kept):
    record = logging.makeLogRecord({"name": "granian.access", "msg": line, "levelno": logging.INFO})
    assert ProbeAccessFilter().filter(record) is kept
