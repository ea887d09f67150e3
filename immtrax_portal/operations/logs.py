"""Log lines an operator can read: the portal's own INFO lines, JSON when asked, floods throttled.

Why this is needed: under ``reflex run`` (Granian workers) nothing configured Python logging for
the portal, so its records fell through to ``logging.lastResort``, which prints WARNING and above
only: "mail sent" never appeared. And a database outage made every worker log the same failure
many times a second (an 82 s outage with three workers wrote 48,850 lines).

``configure_logging`` (called when the app module is imported, so in every worker process):

- one handler on the root logger, writing to stderr, plain text by default or one JSON object per
  line with ``IMMTRAX_LOG_FORMAT=json`` (time, level, logger, message, worker pid, request or
  event id, actor id);
- the ``immtrax_portal`` loggers at ``IMMTRAX_LOG_LEVEL`` (INFO), everything else at WARNING;
- every WARNING-or-worse line that repeats (same place in the code, same message once numbers
  and references are set aside) is written once per interval (``IMMTRAX_LOG_REPEAT_SECONDS``),
  then one line saying how many more times it happened; Reflex's own log sinks get the same;
- the HTTP access loggers (Granian's, uvicorn's) skip the health and metrics probes.

Redaction (``log_redaction``) still rewrites every record as it is created, before any of this
sees it: log lines carry no cookies, tokens or event payloads. The log calls themselves name
records by id (``Mail #12``), never by a person's name or address.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from immtrax_portal.log_redaction import install_log_redaction
from immtrax_portal.operations import log_context

PORTAL_LOGGER = "immtrax_portal"
# Paths polled every few seconds by balancers and scrapers: never one access-log line per call.
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")

_PORTAL_HANDLER_FLAG = "_immtrax_portal_handler"


def _utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line; the keys operators' tools index on."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker
            **(getattr(record, "log_context", None) or log_context.current()),
        }
        if repeated := getattr(record, "repeated", None):
            line["repeated"] = repeated
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger: message [event_id=… actor_id=…]`` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = getattr(record, "log_context", None) or log_context.current()
        if ids:
            first, newline, rest = text.partition("\n")
            suffix = " [" + " ".join(f"{key}={value}" for key, value in ids.items()) + "]"
            text = first + suffix + newline + rest
        return text


# Numbers, hex references and ids vary between otherwise identical failures. Linear-time.
_VARYING = re.compile(r"[0-9A-Fa-f]{6,}|\d+")


def repeat_key(record: logging.LogRecord) -> tuple:
    """What makes two records "the same failure": where they were logged and what they say,
    with the numbers and references in the message set aside."""
    message = _VARYING.sub("#", record.getMessage()[:300])
    return record.name, record.levelno, record.pathname, record.lineno, message


@dataclass
class _Window:
    started: float
    suppressed: int
    sample: logging.LogRecord


class RepeatThrottle(logging.Filter):
    """A filter for one handler: a repeating WARNING-or-worse record passes once per interval;
    the repeats are counted and reported in one line when the interval is over (on the next
    record, or by a small background thread when nothing else is logged)."""

    def __init__(self, handler: logging.Handler, interval_s: float,
                 clock: Callable[[], float] = time.monotonic, background_flush: bool = True) -> None:
        super().__init__()
        self.handler, self.interval_s, self.clock = handler, interval_s, clock
        self.background_flush = background_flush
        self._windows: dict[tuple, _Window] = {}
        self._lock = threading.Lock()
        self._flusher_pid: int | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if (getattr(record, "repeated", None) or record.levelno < logging.WARNING
                or self.interval_s <= 0):
            return True
        key, now = repeat_key(record), self.clock()
        with self._lock:
            due = self._take_finished_windows(now)
            window = self._windows.get(key)
            if window is None:
                # Keep the ids of the first occurrence: the count line is about it.
                record.log_context = log_context.current()
                self._windows[key] = _Window(started=now, suppressed=0, sample=record)
                passes = True
            else:
                window.suppressed += 1
                passes = False
        self._write_counts(due)
        if not passes:
            self._ensure_flusher()
        return passes

    def flush_due(self) -> None:
        """Write the count line of every interval that has ended."""
        with self._lock:
            due = self._take_finished_windows(self.clock())
        self._write_counts(due)

    def _take_finished_windows(self, now: float) -> list[_Window]:
        finished = [key for key, window in self._windows.items()
                    if now - window.started >= self.interval_s]
        return [window for key in finished if (window := self._windows.pop(key)).suppressed]

    def _write_counts(self, windows: list[_Window]) -> None:
        for window in windows:
            sample = window.sample
            summary = logging.makeLogRecord({
                "name": sample.name, "levelno": sample.levelno, "levelname": sample.levelname,
                "pathname": sample.pathname, "lineno": sample.lineno,
                "msg": f"repeated {window.suppressed} more times in {self.interval_s:g} s: "
                       f"{sample.getMessage()[:200]}",
                "args": (), "repeated": window.suppressed,
                "log_context": getattr(sample, "log_context", None) or {},
            })
            self.handler.handle(summary)

    def _ensure_flusher(self) -> None:
        """One flushing thread per process (threads do not survive the fork into a worker)."""
        if not self.background_flush or self._flusher_pid == os.getpid():
            return
        self._flusher_pid = os.getpid()
        tick = max(min(self.interval_s / 4, 5.0), 0.05)

        def flush_forever() -> None:
            while True:
                time.sleep(tick)
                self.flush_due()

        threading.Thread(target=flush_forever, name="log-repeat-counts", daemon=True).start()


class ProbeAccessFilter(logging.Filter):
    """Drops access-log lines of the health and metrics probes."""

    _PROBE = re.compile(r"\s(?:" + "|".join(re.escape(p) for p in PROBE_PATHS) + r")[\s?\"]")

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._PROBE.search(record.getMessage() + " ")


def _formatter(log_format: str) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else PlainFormatter()


def portal_handler() -> logging.Handler | None:
    return next((h for h in logging.getLogger().handlers if getattr(h, _PORTAL_HANDLER_FLAG, False)),
                None)


def configure_logging(log_format: str = "plain", level: str = "INFO", repeat_interval_s: float = 60,
                      stream=None) -> logging.Handler:
    """Set up this process's logging as the module says (idempotent: reconfigures one handler)."""
    install_log_redaction()
    handler = portal_handler()
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        setattr(handler, _PORTAL_HANDLER_FLAG, True)
        logging.getLogger().addHandler(handler)
    elif stream is not None and isinstance(handler, logging.StreamHandler):
        handler.setStream(stream)
    handler.setFormatter(_formatter(log_format))
    handler.filters = [RepeatThrottle(handler, repeat_interval_s)]
    logging.getLogger(PORTAL_LOGGER).setLevel(level.upper())
    _throttle_reflex_sinks(repeat_interval_s)
    for access_logger in ("granian.access", "uvicorn.access"):
        target = logging.getLogger(access_logger)
        if not any(isinstance(f, ProbeAccessFilter) for f in target.filters):
            target.addFilter(ProbeAccessFilter())
    return handler


def _throttle_reflex_sinks(repeat_interval_s: float) -> None:
    """Reflex logs through its own handlers (not the root logger): throttle those too."""
    try:
        from reflex_base.utils import log as reflex_log

        sinks = [reflex_log._console_handler(), reflex_log._json_handler()]
    except (ImportError, AttributeError):  # Reflex reorganised its logging: leave it as it is
        return
    for sink in sinks:
        sink.filters = [f for f in sink.filters if not isinstance(f, RepeatThrottle)]
        sink.addFilter(RepeatThrottle(sink, repeat_interval_s))


def configure_logging_from_settings() -> logging.Handler:
    from immtrax_portal.settings import get_settings

    settings = get_settings()
    return configure_logging(settings.log_format, settings.log_level, settings.log_repeat_seconds)
