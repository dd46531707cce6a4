"""A loopback HTTP API for action tests: an order-status lookup, a webhook, and misbehaviours.

Routes: `GET /orders/{id}` (JSON from `orders`, 404 when unknown), `POST /hook` (records the JSON
body), `GET /text` (plain text), `GET /big` (`big_bytes` bytes), `GET /slow` (answers once
`release` is set, or after `slow_seconds`), `GET /fail` (500). Every request is recorded with its
method, path, headers and body.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class ActionAPI:
    base_url: str = ""
    orders: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    big_bytes: int = 200_000
    slow_seconds: float = 10.0
    release: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def running_action_api(
    orders: dict[str, dict] | None = None, host: str = "127.0.0.1"
) -> Iterator[ActionAPI]:
    """The API on `host` (another loopback address, e.g. 127.0.0.2, for an app that may reach
    only that one: PRIVATE_URL_NETWORKS) and a free port."""
    api = ActionAPI(orders=dict(orders or {}))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: bytes, content_type: str = "application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            api.requests.append(Recorded(self.command, self.path, headers, body))

        def do_GET(self):
            self._record()
            path = self.path.split("?", 1)[0]
            if path.startswith("/orders/"):
                order = api.orders.get(path.removeprefix("/orders/"))
                if order is None:
                    self._send(404, b'{"error": "no such order"}')
                else:
                    self._send(200, json.dumps(order).encode())
            elif path == "/text":
                self._send(200, b"All systems go.", "text/plain")
            elif path == "/big":
                self._send(200, b'"' + b"x" * api.big_bytes + b'"')
            elif path == "/slow":
                api.release.wait(api.slow_seconds)
                self._send(200, b'{"status": "late"}')
            elif path == "/fail":
                self._send(500, b'{"error": "boom"}')
            else:
                self._send(404, b"{}")

        def do_POST(self):
            self._record()
            self._send(200, b'{"ok": true}')

        def log_message(self, *_args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client that gave up (timeout and size tests) is expected here

    server = Server((host, 0), Handler)
    api.base_url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.release.set()
        server.shutdown()
        server.server_close()
