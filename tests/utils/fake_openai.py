"""A real, small OpenAI-compatible HTTP server on loopback, for tests of the `openai` client path.

POST /v1/embeddings answers deterministic vectors derived from a hash of each input (in float or
base64 encoding, as the client asks). `server.mode` switches behaviour: "ok", "error" (HTTP 500),
"ratelimit" (HTTP 429 with Retry-After), "slow" (sleeps `server.delay` seconds first), "short"
(one vector too few), "unauthorized" (HTTP 401). Every request body is kept in `server.requests`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

FAKE_DIM = 16


def fake_vector(text: str, dim: int = FAKE_DIM) -> np.ndarray:
    """The (unnormalised) vector the fake server returns for `text`."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.delay = 2.0
        self.dim = FAKE_DIM
        self.requests: list[dict] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAIServer

    def log_message(self, format, *args):  # keep test output quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)
        if self.path.rstrip("/") != "/v1/embeddings":
            self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        mode = self.server.mode
        if mode == "error":
            self._send(500, {"error": {"message": "boom", "type": "server_error"}})
            return
        if mode == "ratelimit":
            self._send(
                429,
                {"error": {"message": "slow down", "type": "rate_limit_error"}},
                {"Retry-After": "7"},
            )
            return
        if mode == "unauthorized":
            self._send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
            return
        if mode == "slow":
            time.sleep(self.server.delay)
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        dim = int(body.get("dimensions") or self.server.dim)
        data = []
        for index, text in enumerate(texts):
            vector = fake_vector(text, dim)
            if body.get("encoding_format") == "base64":
                embedding = base64.b64encode(vector.astype("<f4").tobytes()).decode()
            else:
                embedding = [float(x) for x in vector]
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        if mode == "short":
            data = data[:-1]
        # Answer out of order: clients must sort by index.
        data.reverse()
        self._send(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            },
        )


@contextmanager
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
