"""Log set-up: one handler, and the HTTP clients' per-request INFO lines kept out."""

import logging

from chatapp.core import logs


def test_http_client_request_lines_are_quiet_but_their_warnings_show(monkeypatch):
    root = logging.getLogger()
    monkeypatch.setattr(logs, "_configured", False)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    for name in logs.QUIET_LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    logs.configure("text", "INFO")
    for name in logs.QUIET_LOGGERS:
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO)
        assert logger.isEnabledFor(logging.WARNING)
    assert logging.getLogger("chatapp.chat").isEnabledFor(logging.INFO)
