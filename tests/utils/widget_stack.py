"""Everything the widget talks to, on loopback, for its browser tests and its benchmark.

* `build_widget()`: `node widget/build.mjs` (assets/widget.js + assets/widget-panel.js).
* `prepare(data_dir)`: in a child process, a migrated database with three bots (a shop with
  knowledge and starter questions; a bot whose monthly quota is used up; a bot whose sources carry
  XSS payloads), printed as JSON with their widget keys.
* `api_server(...)`: the public API (`create_app` below: the FastAPI app Reflex mounts, plus
  `assets/` at the root as the production build serves it) under granian, like `reflex run --env
  prod`, so the widget's own origin is also its API's origin.
* `HostSite`: a loopback web server for the host pages (on `localhost`, another origin and site
  than the API on `127.0.0.1`), each page with its own headers (e.g. a Content-Security-Policy).

Run as `python -m tests.utils.widget_stack DATA_DIR` to prepare a data directory.
"""

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
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
XSS = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
XSS_URL = "javascript:window.__xss=(window.__xss||0)+1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_widget() -> str:
    """Build the widget from widget/src; returns the build's size report."""
    result = subprocess.run(
        ["node", str(ROOT / "widget" / "build.mjs")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"widget build failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def create_app():
    """The API as the widget sees it in production: the product's visitor server (public routes
    and /widget.js on one origin; the ingest worker runs when INGEST_WORKER says so)."""
    from chatapp.api.visitors import create_visitor_server

    return create_visitor_server()


# --- data ------------------------------------------------------------------------------------


def _prepare_here() -> dict[str, Any]:
    """Runs in the child process, with DATA_DIR set: the three bots."""
    from sqlmodel import select

    from chatapp.core import migrations
    from chatapp.core.db import session_scope
    from chatapp.services.bots import bots
    from chatapp.services.knowledge import sources
    from chatapp.services.models import Bot, KnowledgeChunk
    from chatapp.workers import ingest as worker
    from tests.utils.factories import make_tenant
    from tests.utils.knowledge import make_shop

    migrations.upgrade()
    shop = make_shop("widget")
    quota = make_shop("quota")
    with session_scope() as session:
        bot = session.get(Bot, shop.bot_id)
        bot.name = "Shop Assistant"
        bot.welcome_message = "Hi! Ask me about our shop."
        bot.starter_questions = ["When are you open on Saturdays?", "Do you ship to Canada?"]
        bot.accent_color = "#4f46e5"
        limited = session.get(Bot, quota.bot_id)
        limited.name = "Busy Bot"
        limited.message_limit = 0  # every message is over the monthly quota
        limited.accent_color = "#ffd400"  # light: the widget must pick black text
        limited.position = "bottom-left"
        limited.show_button_text = True
        limited.button_text = "Ask us"

        tenant = make_tenant(session, "xss")
        tenant.bot.position = "center"  # the dashboard's third choice
        session.add(tenant.bot)
        _, xss_key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        sources.add_text(
            session,
            tenant.owner,
            tenant.bot.id,
            title=f"Opening hours {XSS}",
            text=(
                "Opening hours\n\nOur shop is open Monday to Friday from 9am to 6pm "
                f"<script>window.__xss=(window.__xss||0)+1</script> {XSS} and on Saturdays."
            ),
        )
        xss_public_id = tenant.bot.public_id
        xss_bot_id = tenant.bot.id
    worker.run_until_idle()
    with session_scope() as session:
        for chunk in session.exec(
            select(KnowledgeChunk).where(KnowledgeChunk.bot_id == xss_bot_id)
        ).all():
            chunk.url = XSS_URL
            session.add(chunk)
    return {
        "shop": {"bot": shop.public_id, "key": shop.key},
        "quota": {"bot": quota.public_id, "key": quota.key},
        "xss": {"bot": xss_public_id, "key": xss_key},
    }


def _test_env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "CHATAPP_ENV": "development",
        "INGEST_WORKER": "false",
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_ROUNDS": "1",
        "CHAT_IP_PER_MINUTE": "0",  # every visitor here comes from 127.0.0.1
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "QDRANT_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    return env


def prepare(data_dir: Path, module: str = "tests.utils.widget_stack") -> dict[str, Any]:
    """Prepare `data_dir` by running `python -m module DATA_DIR` in a child process (this
    process's settings stay untouched); the module prints its result as JSON on its last line."""
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", module, str(data_dir)],
        cwd=ROOT,
        env=_test_env(data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"preparing {module} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def stop_process_group(process: subprocess.Popen | None) -> None:
    """SIGTERM a server started in its own session (granian and its workers), SIGKILL if it
    lingers past 20 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


class ApiProcess:
    """`create_app` under granian on 127.0.0.1:`port` (free by default), stoppable and restartable
    on the same port (a real drop for the widget's live streams). No `llm_base_url`: offline."""

    def __init__(
        self, data_dir: Path, llm_base_url: str | None, port: int | None = None, workers: int = 1
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = _test_env(data_dir)
        if llm_base_url:
            self.env |= {"OPENAI_BASE_URL": llm_base_url, "OPENAI_API_KEY": "test"}
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        log_path = self.data_dir / "api.log"
        with log_path.open("a") as log:
            self.process = process = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "granian"),
                    "--interface",
                    "asgi",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--log-level",
                    "warning",
                    "tests.utils.widget_stack:create_app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the API exited:\n{log_path.read_text()[-4000:]}")
                try:
                    if client.get(f"{self.base}/api/health").status_code == 200:
                        return self.base
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the API did not start:\n{log_path.read_text()[-4000:]}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.2)  # a pause between polls that ends if it dies

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process_group(process)

    def restart(self) -> str:
        self.stop()
        return self.start()


@contextmanager
def api_server(data_dir: Path, llm_base_url: str | None, port: int | None = None):
    """Serve `create_app` with granian on a free port; yields its base URL."""
    server = ApiProcess(data_dir, llm_base_url, port)
    try:
        yield server.start()
    finally:
        server.stop()


# --- host pages ------------------------------------------------------------------------------


class HostSite:
    """Host pages on http://localhost:PORT: `site.add(path, html, headers)` -> the page's URL."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[bytes, dict[str, str]]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = site.pages.get(self.path.split("?")[0])
                if page is None:
                    self.send_error(404)
                    return
                body, headers = page
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, path: str, html: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (html.encode(), headers or {})
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://localhost:{self.port}{path}"


if __name__ == "__main__":
    os.environ["DATA_DIR"] = sys.argv[1]
    print(json.dumps(_prepare_here()))
