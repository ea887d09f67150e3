"""Keeping secrets out of log lines: session cookies, invitation and tab tokens, OIDC codes and
tokens, and whatever a browser put in an event's payload (signature data included).

Reflex logs whole events in some warnings and errors. Most visibly, an event naming a handler
that does not exist is logged as ``Error processing event queue entry for Event(token=…,
name=…, router_data={… 'headers': {'cookie': …}}, payload={…})``: any client can trigger that
and write someone's cookie into the server log. Rather than patch Reflex, every log record is
rewritten as it is created (``logging.setLogRecordFactory``), whichever library logs it and
whichever handler prints it: events keep only their handler name, and known secret shapes are
replaced with ``[redacted]``. Tracebacks are formatted and redacted the same way.

A log line also carries text a client chose (an unknown handler name, a frontend error report,
a provider's error parameter), so every message is written as one line (control characters
escaped: a newline cannot start a fake record, ESC cannot restyle a terminal) and cut to a
bounded length; traceback lines are kept but each marked as a continuation.
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

# Every pattern below runs in time linear in the text it is given, whatever a client put there:
# no unbounded repetition that can fail after scanning far (each either always succeeds once
# its literal start matched, or is bounded, or is possessive), and no start that can recur at
# every position of one long run. A client can put text into a log line (an unknown handler
# name, a frontend error report), so a pattern that backtracks would let one message hold the
# event loop for seconds.

# Reflex warnings that print the raw event a client sent, up to the end of the message.
_RAW_EVENT_DATA = re.compile(
    r"(?P<lead>Event data:|Failed to deserialize event data:|Event data must be a dictionary, but "
    r"received)\s.*",
    re.DOTALL,
)
_EVENT_START = "Event("
# The handler name as it starts (a client can send a name of any length: it is cut, not kept).
_EVENT_NAME = re.compile(r"name=(?P<name>'[^']{0,200}+'?|\"[^\"]{0,200}+\"?)")
_EVENT_END = ") [txid="
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # 'cookie': '…' / "authorization": "…" in dict reprs and JSON; a value cut off by the end of
    # the text is replaced too.
    (re.compile(rf"(?i)(['\"](?:{_SECRET_NAMES})['\"][ \t]*+:[ \t]*+)"
                r"('(?:[^'\\]|\\[\s\S])*+(?:'|\\?\Z)|\"(?:[^\"\\]|\\[\s\S])*+(?:\"|\\?\Z))"),
     rf"\1'{REDACTED}'"),
    # Header lines: "Cookie: a=b; c=d"
    (re.compile(r"(?im)^([ \t]*+(?:cookie|set-cookie|authorization)[ \t]*+:[ \t]*+).*$"), rf"\1{REDACTED}"),
    # Reflex's tab token where it is named in messages and task names.
    (re.compile(r"(disconnected client )('[^']*+(?:'|\Z)|\"[^\"]*+(?:\"|\Z))"), rf"\1'{REDACTED}'"),
    (re.compile(r"(reflex_disconnect_token\|)[^|]++"), rf"\1{REDACTED}"),
    # JSON Web Tokens and bearer tokens wherever they appear.
    (re.compile(r"(?<![\w-])eyJ[\w-]{5,}+\.[\w-]{5,}+\.[\w-]*+"), REDACTED),
    (re.compile(r"(?i)(bearer\s++)[\w\-.~+/=]++"), rf"\1{REDACTED}"),
]

# name=value in URLs, form bodies, cookie strings: one scan over word=value pairs, the name then
# looked up (an alternation of every secret name tried at every position is slow on long text).
_NAME_VALUE = re.compile(r"(?<![\w-])([\w-]++)=([^&;\s'\"]++)")
_SECRET_NAME_SET = frozenset(_SECRET_NAMES.split("|"))
_OUR_COOKIE = re.compile(r"(?i)(?:__Host-)?immtrax_\w")


def _name_value_redacted(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.lower() in _SECRET_NAME_SET or _OUR_COOKIE.match(name):
        return f"{name}={REDACTED}"
    return match.group(0)


# Longest message and traceback kept in a log line; longer ones are cut, saying by how much.
MAX_MESSAGE_CHARS = 4_000
MAX_TRACEBACK_CHARS = 20_000
# C0 and C1 control characters and DEL: a newline would start a fake log line, ESC would
# restyle the terminal. (Tabs are left alone.)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _without_event_details(text: str) -> str:
    """Reflex's ``Event(token=…, name=…, router_data=…, payload=…)`` reprs with only the handler
    name kept, up to ``) [txid=`` or the end of the text. A plain scan: every search starts where
    the last one ended, so the work is linear however many ``Event(`` a client repeats."""
    out, position = [], 0
    while (start := text.find(_EVENT_START, position)) != -1:
        name_at = text.find("name=", start)
        named = _EVENT_NAME.match(text, name_at) if name_at != -1 else None
        if named is None:
            break
        end = text.find(_EVENT_END, named.end())
        out.append(text[position:start])
        out.append(f"Event(name={named['name']}, token/router data/payload withheld)")
        if end == -1:
            position = len(text)
            break
        position = end + 1
    out.append(text[position:])
    return "".join(out)


def redact(text: str) -> str:
    """``text`` with every secret shape replaced by ``[redacted]``."""
    if not text:
        return text
    text = _without_event_details(text)
    text = _RAW_EVENT_DATA.sub(lambda m: f"{m['lead']} {REDACTED}", text)
    text = _NAME_VALUE.sub(_name_value_redacted, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _escaped_control(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")


def bounded(text: str, limit: int, *, length: int | None = None) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (``length``, when ``text`` is
    already a cut of something longer)."""
    length = len(text) if length is None else length
    if len(text) <= limit and length <= limit:
        return text
    return f"{text[:limit]}… [cut: {length} characters in all]"


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` as one bounded line: control characters written as escapes (``\\n``, ``\\x1b``), so
    what a client sent can neither start a line of its own nor restyle the terminal. Only the
    start is redacted and escaped: what lies past the cut never reaches the log."""
    head = redact(text[: 2 * limit])
    return bounded(_CONTROL.sub(_escaped_control, head), limit, length=max(len(text), len(head)))


def _indented_block(text: str) -> str:
    """A traceback keeps its lines, each marked as a continuation (``  | ``) so that no line of it,
    an exception message a client chose included, can pass for a log record of its own."""
    head = redact(text[: 2 * MAX_TRACEBACK_CHARS])
    lines = bounded(head, MAX_TRACEBACK_CHARS, length=max(len(text), len(head))).split("\n")
    return "\n".join(f"  | {_CONTROL.sub(_escaped_control, line)}" for line in lines)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record must still be logged, not raise here
        message = f"{record.msg!r} (unformattable arguments)"
    record.msg, record.args = one_line(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Format now and drop the live exception: handlers that render tracebacks themselves
        # (with local variables) would otherwise print unredacted values.
        exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = _indented_block(exc_text)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = _indented_block(record.exc_text)
    if record.stack_info:
        record.stack_info = _indented_block(record.stack_info)


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
