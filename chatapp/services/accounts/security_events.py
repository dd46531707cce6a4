"""Security events as structured log lines on the `chatapp.security` logger.

One call per refusal worth an operator's attention (a failed login, a refused widget key or
website, an address the SSRF guard refused, a throttled login, a refused API token). Each line
carries `event`, `reason`, the client `ip` and request id of the request being served and the
ids involved; never a password, a token or a whole key (at most a short prefix).
"""

from __future__ import annotations

import logging
from typing import Any

from chatapp.core.logs import client_ip_var

log = logging.getLogger("chatapp.security")

FAILED_LOGIN = "login_failed"
LOGIN_THROTTLED = "login_throttled"
WIDGET_KEY_REFUSED = "widget_key_refused"
ORIGIN_REFUSED = "origin_refused"
SSRF_REFUSED = "ssrf_refused"
API_TOKEN_REFUSED = "api_token_refused"


def key_hint(value: str | None, keep: int = 6) -> str:
    """What of a key may appear in a log: its first few characters, never the rest."""
    value = (value or "").strip()
    return value[:keep] + "..." if len(value) > keep else ("" if not value else "...")


def emit(event: str, reason: str, **fields: Any) -> None:
    """Log one security event (WARNING), with the request's client address when there is one."""
    extra = {"event": event, "reason": reason, "ip": fields.pop("ip", None) or client_ip_var.get()}
    extra.update({name: value for name, value in fields.items() if value is not None})
    log.warning("security event: %s (%s)", event, reason, extra=extra)
