"""Keeping secrets out of log lines: session cookies, invitation and tab tokens, OIDC codes and
tokens, and whatever a browser put in an event's payload (signature data included).

Reflex logs whole events in some warnings and errors. Most visibly, an event naming a handler
that does not exist is logged as ``Error processing event queue entry for Event(token=…,
name=…, router_data={… 'headers': {'cookie': …}}, payload={…})``: any client can trigger that
and write someone's cookie into the server log. Rather than patch Reflex, every log record is
rewritten as it is created (``logging.setLogRecordFactory``), whichever library logs it and
whichever handler prints it: events keep only their handler name, and known secret shapes are
replaced with ``[redacted]``. Tracebacks are formatted and redacted the same way.
"""

from __future__ import annotations

import logging
import re
import traceback

REDACTED = "[redacted]"

# Names of secrets (not secrets themselves).
_SECRET_NAMES = (
    r"token|code|id_token|access_token|refresh_token|client_secret|code_verifier|nonce|state|"  # noqa: S105
    r"session_state|id_token_hint|password|secret|signature|signature_data|typed_name|"
    r"invitation_token|raw_session_id|idempotency_key|cookie|set-cookie|authorization"
)

# Reflex's Event dataclass repr: keep the handler name, drop token, router data and payload.
_EVENT_REPR = re.compile(
    r"Event\((?:token=.*?, )?name=(?P<name>'[^']*'|\"[^\"]*\"), .*?(?:\)(?= \[txid=)|\)\s*\Z|\Z)",
    re.DOTALL,
)
# Reflex warnings that print the raw event a client sent, up to the end of the message.
_RAW_EVENT_DATA = re.compile(
    r"(?P<lead>Event data:|Failed to deserialize event data:|Event data must be a dictionary, but "
    r"received)\s.*",
    re.DOTALL,
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # 'cookie': '…' / "authorization": "…" in dict reprs and JSON.
    (re.compile(rf"(?i)(['\"](?:{_SECRET_NAMES})['\"]\s*:\s*)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"),
     rf"\1'{REDACTED}'"),
    # Header lines: "Cookie: a=b; c=d"
    (re.compile(r"(?im)^(\s*(?:cookie|set-cookie|authorization)\s*:\s*).*$"), rf"\1{REDACTED}"),
    # name=value in URLs, form bodies, cookie strings.
    (re.compile(rf"(?i)(?<![\w-])((?:__Host-)?immtrax_\w+|{_SECRET_NAMES})=([^&;\s'\"]+)"),
     rf"\1={REDACTED}"),
    # Reflex's tab token where it is named in messages and task names.
    (re.compile(r"(disconnected client )('[^']*'|\"[^\"]*\")"), rf"\1'{REDACTED}'"),
    (re.compile(r"(reflex_disconnect_token\|)[^|]+"), rf"\1{REDACTED}"),
    # JSON Web Tokens and bearer tokens wherever they appear.
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), REDACTED),
    (re.compile(r"(?i)(bearer\s+)[\w\-.~+/=]+"), rf"\1{REDACTED}"),
]


def redact(text: str) -> str:
    """``text`` with every secret shape replaced by ``[redacted]``."""
    if not text:
        return text
    text = _EVENT_REPR.sub(lambda m: f"Event(name={m['name']}, token/router data/payload withheld)", text)
    text = _RAW_EVENT_DATA.sub(lambda m: f"{m['lead']} {REDACTED}", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record must still be logged, not raise here
        message = f"{record.msg!r} (unformattable arguments)"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Format now and drop the live exception: handlers that render tracebacks themselves
        # (with local variables) would otherwise print unredacted values.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_installed = False


def install_log_redaction() -> None:
    """Rewrite every log record of this process as it is created (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_record_factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(redacting_record_factory)
    _installed = True
