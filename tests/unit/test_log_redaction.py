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
