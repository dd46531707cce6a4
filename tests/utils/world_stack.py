"""Two prepared workspaces behind the real API under granian, and a request that bounds streams.

Used by the fuzz test and the tenant matrix: both must reach the endless SSE routes (inbox and
visitor event streams) without hanging, so `call` reads a stream only for `stream_seconds`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.routing import APIRoute

from tests.utils.tenant_world import World
from tests.utils.widget_stack import ROOT, ApiProcess, _test_env


@contextmanager
def world_stack(
    data_dir: Path, database_url: str | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, World, World]]:
    """Prepare workspaces a and b in `data_dir` (child process), serve the API (with `env`
    added to its environment); yields (base URL, a, b). Without `database_url`: the embedded
    SQLite file under `data_dir`."""
    extra = {"DATABASE_URL": database_url} if database_url else {}
    data_dir.mkdir(parents=True, exist_ok=True)
    prepared = subprocess.run(
        [sys.executable, "-m", "tests.utils.tenant_world", str(data_dir)],
        cwd=ROOT,
        env=_test_env(data_dir) | extra,
        capture_output=True,
        text=True,
        check=False,
    )
    if prepared.returncode != 0:
        raise RuntimeError(f"preparing the workspaces failed:\n{prepared.stderr[-4000:]}")
    a, b = (World(**w) for w in json.loads(prepared.stdout.strip().splitlines()[-1]))
    server = ApiProcess(data_dir, llm_base_url=None)
    # Streams send a keep-alive often, so a bounded read ends on time without a read timeout;
    # no per-session chat limit, so fuzzing reaches the pipeline instead of a 429.
    server.env |= {"LIVE_KEEPALIVE_SECONDS": "0.2", "CHAT_SESSION_PER_MINUTE": "0", **extra}
    server.env |= env or {}
    try:
        yield server.start(), a, b
    finally:
        server.stop()


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    text: str


def call(
    client: httpx.Client, method: str, url: str, *, stream_seconds: float = 0.4, **kwargs: Any
) -> Reply:
    """One request; an event stream is read for at most `stream_seconds` (an open stream is an
    answer too: what it sent so far is the body)."""
    with client.stream(method, url, **kwargs) as response:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            response.read()
            return Reply(response.status_code, response.headers, response.text)
        chunks: list[bytes] = []
        deadline = time.monotonic() + stream_seconds
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            pass  # nothing more within the read timeout: the stream is idle, not broken
        return Reply(
            response.status_code, response.headers, b"".join(chunks).decode(errors="replace")
        )


def api_routes(app) -> Iterator[tuple[str, frozenset[str], Any]]:
    """Every (path, methods, route) an app serves, through included routers of any depth (FastAPI
    >= 0.16x keeps them as `_IncludedRouter` branches; older versions list APIRoutes directly)."""
    stack = list(app.routes)
    while stack:
        route = stack.pop(0)
        if hasattr(route, "effective_candidates"):
            stack[:0] = route.effective_candidates()
        elif isinstance(route, APIRoute) or hasattr(route, "original_route"):
            yield route.path, frozenset(route.methods or ()), route
