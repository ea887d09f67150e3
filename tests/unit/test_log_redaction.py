"""Log redaction: secret shapes that Reflex, Starlette or our own code could write to a log line."""

from __future__ import annotations

import logging

import pytest

from immtrax_portal.log_redaction import install_log_redaction, redact

SECRET = "s3cr3t-MARKER-value"


@pytest.mark.parametrize("line", [
    # Reflex 0.10.1's own form: no token field, the headers inside router_data.
    ("Error processing event queue entry for Event(name='reflex___state____state.no_such_handler', "
     "router_data={'pathname': '/index', 'headers': {'cookie': 'a=%s', 'x-secret-ish': '%s'}, "
     "'token': 'tab'}, payload={'typed_name': '%s'}) [txid=26e314174f97]:"),
    # Reflex: an event for a handler that does not exist, with the tab token, headers and payload.
    ("Error processing event queue entry for Event(token='%s', name='state.no_such_handler', "
     "router_data={'pathname': '/', 'headers': {'cookie': 'immtrax_session=%s; other=1', "
     "'user-agent': 'x'}}, payload={'signature': '%s', 'nested': {'a': [1, 2]}}) [txid=abc]:"),
    ("Received event from session sid with no associated token. This may indicate a bug. "
     "Event data: {'token': '%s', 'x': '%s', 'y': '%s'}"),
    "Failed to deserialize event data: {\"name\": \"x\", \"payload\": \"%s%s%s\"}.",
    "GET /auth/callback?code=%s&state=%s&session_state=%s HTTP/1.1",
    "Cookie: immtrax_session=%s; immtrax_signin=%s; theme=%s",
    "{'authorization': 'Bearer %s', 'id_token': '%s', 'access_token': \"%s\"}",
    "Attempting to send delta to disconnected client '%s'",
    "opened /agreement?token=%s",
])
def test_a_secret_in_a_log_line_is_replaced(line):
    text = line.replace("%s", SECRET)
    assert SECRET not in redact(text)


def test_an_event_keeps_its_handler_name_so_the_log_still_helps():
    text = ("Error processing event queue entry for Event(token='t', name='state.no_such_handler', "
            "router_data={}, payload={}) [txid=abc]:")
    assert redact(text) == ("Error processing event queue entry for Event(name='state.no_such_handler', "
                            "token/router data/payload withheld) [txid=abc]:")


def test_ordinary_lines_are_left_alone():
    line = "wizard submit failed for person 42 at /requests/new"
    assert redact(line) == line


def test_installed_redaction_rewrites_records_and_tracebacks(caplog):
    install_log_redaction()
    logger = logging.getLogger("immtrax.test.redaction")
    with caplog.at_level(logging.INFO, logger="immtrax.test.redaction"):
        logger.warning("cookie header %s", f"immtrax_session={SECRET}")
        try:
            raise ValueError(f"bad payload {{'token': '{SECRET}'}}")
        except ValueError:
            logger.exception("handler failed")
    output = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert "handler failed" in output and "ValueError" in output
    assert SECRET not in output


# Texts built to make a backtracking pattern scan to the end from every start: 256 KB each, the
# size of the largest event frame the portal accepts.
_SIZE = 256 * 1024
_WORST_CASES = {
    "repeated_event_starts": "Event(token=, " * (_SIZE // 14),
    "event_named_without_end": "Event(token='t', name='x', router_data={'a': '" + "b" * _SIZE,
    "secret_key_with_unclosed_value": "'cookie': '" + "\\'" * (_SIZE // 2),
    "repeated_secret_keys": "'token': \"" * (_SIZE // 10),
    "newlines": "\n" * _SIZE,
    "header_name_runs": "cookie    \n" * (_SIZE // 11),
    "jwt_starts_in_one_word": "eyJ" * (_SIZE // 3),
    "unclosed_tab_tokens": "disconnected client '" * (_SIZE // 21),
    "bearer_runs": "bearer " * (_SIZE // 7),
    "long_cookie_name": "immtrax_" + "a" * _SIZE,
}


@pytest.mark.parametrize("name", sorted(_WORST_CASES))
def test_redaction_takes_linear_time_on_text_built_to_make_patterns_backtrack(name):
    import time

    started = time.perf_counter()
    redact(_WORST_CASES[name])
    assert time.perf_counter() - started < 1.0, f"{name}: redaction must not hold the event loop"


def test_a_newline_in_a_logged_value_cannot_start_a_fake_log_line(caplog):
    install_log_redaction()
    logger = logging.getLogger("immtrax.test.redaction")
    forged = "boom\n2026-12-01 12:00:00 INFO immtrax_portal: staff role granted to mallory\x1b[2J"
    with caplog.at_level(logging.INFO, logger="immtrax.test.redaction"):
        logger.error("[Reflex Frontend Exception] %s", forged)
    (record,) = caplog.records
    assert "\n" not in record.getMessage() and "\x1b" not in record.getMessage()
    assert "boom\\n2026-12-01" in record.getMessage() and "\\x1b[2J" in record.getMessage()


def test_a_newline_in_an_exception_message_stays_inside_the_traceback(caplog):
    install_log_redaction()
    logger = logging.getLogger("immtrax.test.redaction")
    with caplog.at_level(logging.INFO, logger="immtrax.test.redaction"):
        try:
            raise ValueError("bad\n2026-12-01 12:00:00 INFO fake line")
        except ValueError:
            logger.exception("handler failed")
    exc_text = caplog.records[0].exc_text
    assert all(line.startswith("  | ") for line in exc_text.split("\n"))


def test_a_long_client_value_in_a_log_line_is_cut_to_a_bounded_length(caplog):
    install_log_redaction()
    logger = logging.getLogger("immtrax.test.redaction")
    with caplog.at_level(logging.INFO, logger="immtrax.test.redaction"):
        logger.warning("unknown handler %s", "x" * 200_000)
    message = caplog.records[0].getMessage()
    assert len(message) < 4_100 and message.endswith("[cut: 200016 characters in all]")
