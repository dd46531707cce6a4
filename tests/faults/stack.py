"""The real pieces the fault tests break: the API under granian (killable), SSE reading, and
direct reads of what the app stored.

`FaultApi` is `tests.utils.widget_stack.ApiProcess` with the knobs a fault needs: any extra
environment (a private PostgreSQL, a dead Redis, a short LLM timeout), the ingest worker running
in the server process as in production (`create_app` below starts it like chatapp.py's lifespan
task), readiness that accepts a degraded health check, and `kill()` with SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.utils import widget_stack

ROOT = widget_stack.ROOT


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)  # a polling interval, not a synchronisation


def prepare(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """widget_stack's three bots, in `data_dir` and the database `env` names (default SQLite)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.utils.widget_stack", str(data_dir)],
        cwd=ROOT,
        env=widget_stack._test_env(data_dir) | (env or {}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"preparing the data failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class FaultApi:
    """The API (and, with `ingest=True`, the ingest worker) in a granian process we may kill."""

    def __init__(
        self,
        data_dir: Path,
        *,
        llm_base_url: str | None = None,
        env: dict[str, str] | None = None,
        ingest: bool = False,
        port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or widget_stack.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = widget_stack._test_env(data_dir) | {"INGEST_WORKER": str(ingest).lower()}
        if llm_base_url:
            self.env |= {"OPENAI_BASE_URL": llm_base_url, "OPENAI_API_KEY": "sk-fault-test-key"}
        self.env |= env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "api.log"

    def start(self, timeout: float = 120) -> str:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "granian"),
                    *("--interface", "asgi", "--factory", "--host", "127.0.0.1"),
                    *("--port", str(self.port), "--workers", "1", "--log-level", "warning"),
                    "tests.utils.widget_stack:create_app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the API exited:\n{self.log()[-4000:]}")
                try:  # up, even if degraded (a dependency down is what some tests are about)
                    client.get(f"{self.base}/api/health")
                    return self.base
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the API did not start:\n{self.log()[-4000:]}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no finally blocks, as a power cut."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)

    def stop(self) -> None:
        process, self.process = self.process, None
        widget_stack.stop_process_group(process)

    def __enter__(self) -> FaultApi:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def parse_sse(raw: str) -> list[tuple[str, dict]]:
    """`event:`/`data:` frames -> [(type, data)] (comments and retry lines skipped)."""
    events = []
    for frame in raw.replace("\r\n", "\n").split("\n\n"):
        kind, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((kind, json.loads("\n".join(data))))
    return events


def chat_body(bot: dict, message: str, session_id: str, **extra: Any) -> dict:
    return {"bot_id": bot["bot"], "api_key": bot["key"], "message": message,
            "session_id": session_id, **extra}  # fmt: skip


class Store:
    """Read what the app stored, straight from its database (never through the app)."""

    def __init__(self, url: str) -> None:
        from chatapp.core.db import normalize_url

        self.engine = create_engine(normalize_url(url), pool_pre_ping=True)

    @classmethod
    def sqlite(cls, data_dir: Path) -> Store:
        return cls(f"sqlite:///{data_dir / 'chatapp.db'}")

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def messages(self, session_id: str) -> list[tuple[str, str]]:
        """(role, content) of a visitor's conversation, in order."""
        return self.rows(
            "SELECT m.role, m.content FROM message m JOIN conversation c "
            "ON c.id = m.conversation_id WHERE c.session_id = :sid ORDER BY m.id",
            sid=session_id,
        )

    def quota_used(self, public_id: str) -> int:
        return self.scalar("SELECT message_count FROM bot WHERE public_id = :p", p=public_id)

    def close(self) -> None:
        self.engine.dispose()


SECRETS = ("Traceback", "sk-fault-test-key", 'File "/', "psycopg", "sqlalchemy")


def assert_readable(text_: str) -> None:
    """What a visitor sees holds no stack trace, no key, no driver internals."""
    for secret in SECRETS:
        assert secret.lower() not in text_.lower(), f"{secret!r} leaked to the visitor: {text_}"
