"""Request ids and request metrics for every HTTP request, as one pure ASGI middleware.

* The request id: a sane incoming `X-Request-ID` (1-64 letters, digits, `._-`) is kept so a
  proxy's id follows the request; anything else is replaced by a new random one. It is put into a
  context variable (every log line of the request carries it) and returned in `X-Request-ID` on
  every response, errors and event streams included.
* Metrics: count and time by route template (`/api/v1/workspaces/{workspace_id}/bots`, never
  the raw path, so ids do not explode the number of series), method and status.
* An exception that escapes a route is logged with the request id and answered with a 500 that
  quotes it, so a visitor's report can be found in the logs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatapp.api.deps import client_ip
from chatapp.core import metrics
from chatapp.core.logs import client_ip_var, request_id_var

log = logging.getLogger("chatapp.api")

REQUEST_ID_HEADER = b"x-request-id"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
OTHER_ROUTE = "<other>"  # no route matched (404s) or a mounted app (the dashboard, static files)


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when it is short and safe, else a new one (32 hex digits)."""
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1").strip()
            if VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else OTHER_ROUTE


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers") or [])
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(client_ip(Request(scope)))
        status = 500
        started = False
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], route_label(scope))
            status = 500
            if not started:
                await _internal_error(send_with_id, request_id)
        finally:
            method = scope["method"]
            route = route_label(scope)
            metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
            metrics.HTTP_LATENCY.labels(route, method).observe(time.perf_counter() - start)
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)


async def _internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {"detail": f"Something went wrong on our side. Reference: {request_id}."}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
