"""Logging set up once per process: plain text for a developer, one JSON object per line for a
log collector, and the request id (and client address) of the request being served on every line.

The API's middleware puts the request id and client IP into context variables; a record factory
stamps the request id onto each record when it is made, so a line logged deep in a service (and
seen by any handler, pytest's too) still says which request it belongs to.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="")

# Attributes every LogRecord has: anything else on a record came from `extra=` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_configured = False


def _stamp_request_id(factory):
    def make(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = request_id_var.get() or "-"
        return record

    make.chatapp_stamps = True
    return make


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, then the `extra=` fields; exceptions as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")


def configure(log_format: str, level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (once per process; later calls no-op)."""
    global _configured
    if not getattr(logging.getLogRecordFactory(), "chatapp_stamps", False):
        logging.setLogRecordFactory(_stamp_request_id(logging.getLogRecordFactory()))
    if _configured:
        return
    _configured = True
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The HTTP clients log every request at INFO (each LLM call, each webhook): a line per chat
    # message that says nothing our own request log does not. Their warnings still show.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
