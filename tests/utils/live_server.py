"""The API under granian on loopback (one or more processes on one database), and a reader of
its Server-Sent Events streams in a thread: for the live handoff's API tests and its benchmark."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.utils.widget_stack import ROOT, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def postgres_and_redis(monkeypatch) -> Iterator[str]:
    """A fresh PostgreSQL database, migrated and made the configured one, with Redis reachable
    (what several processes share); yields the database URL."""
    import redis

    from chatapp.core import migrations
    from tests.utils.databases import make_current, postgres_database, require_or_skip

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_or_skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    with postgres_database() as url:
        migrations.upgrade(url)
        make_current(url, monkeypatch)
        yield url


def serve_api(workers: int) -> Callable[[int], list[str]]:
    """The product's own `python -m chatapp serve-api` with `workers` processes, for api_server."""

    def command(port: int) -> list[str]:
        host = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return [sys.executable, "-m", "chatapp", "serve-api", *host]

    return command


@contextmanager
def api_server(
    env: dict[str, str], log_path: Path, command: Callable[[int], list[str]] | None = None
) -> Iterator[str]:
    """`create_api()` served by granian (one worker) with `env` added, or `command(port)`
    instead (the product's own `serve-api`); yields its base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "CHATAPP_ENV": "development",
        "INGEST_WORKER": "false",
        "CHAT_IP_PER_MINUTE": "0",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command(port)
            if command
            else [
                str(Path(sys.executable).parent / "granian"),
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--log-level",
                "warning",
                "chatapp.api.app:create_api",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the API exited:\n{log_path.read_text()[-4000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{base}/api/health").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not start:\n{log_path.read_text()[-4000:]}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class SSEReader:
    """Reads one event stream in a thread; `events` are dicts with `id`, `event`, `data`."""

    def __init__(self, url: str, headers: dict[str, str] | None = None):
        self.url = url
        self.headers = headers or {}
        self.events: list[dict[str, Any]] = []
        self.comments = 0
        self.status: int | None = None
        self.body = ""
        self.opened = threading.Event()
        self.stopped = threading.Event()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._socket: socket.socket | None = None

    def __enter__(self) -> SSEReader:
        self.thread.start()
        if not self.opened.wait(15):
            raise AssertionError(f"the stream did not open: {self.url}")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stopped.set()
        if self._socket is not None:  # ends the blocked read now, not at the next keep-alive
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=15)

    def _run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=30) as response:
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                self.status = response.status_code
                if response.status_code != 200:
                    self.body = response.read().decode()
                    self.opened.set()
                    return
                self.opened.set()
                current: dict[str, Any] = {}
                for line in response.iter_lines():
                    if self.stopped.is_set():
                        return
                    if line.startswith(":"):
                        with self.changed:
                            self.comments += 1
                            self.changed.notify_all()
                    elif line == "":
                        if "data" in current:
                            current["data"] = json.loads(current["data"])
                            with self.changed:
                                self.events.append(current)
                                self.changed.notify_all()
                        current = {}
                    else:
                        name, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "id":
                            current["id"] = int(value)
                        elif name in ("event", "data"):
                            current[name] = value
        except Exception:
            if not self.stopped.is_set():
                self.opened.set()
                if not isinstance(sys.exc_info()[1], httpx.HTTPError):
                    raise

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 15):
        """Block until `predicate(events)` holds (or fail with what arrived)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self.events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"stream condition not met; got {self.events}")
                self.changed.wait(left)
        return self.events

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]
