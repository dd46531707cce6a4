"""The whole app as a user runs it: the production build served by `reflex run` on one port,
on a fresh data directory, driven by Playwright in Debian's Chromium.

Chromium and the app are required when CI=true: a missing browser is an error there, a skip on a
laptop without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.utils.databases import require_or_skip
from tests.utils.parallel import group_of

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_SECONDS = 300
# How long an `expect(...)` waits for its condition (Playwright's default is 5 s). The suite runs
# four workers on two cores beside servers and Chromium; an event that chains two worker-thread
# calls has taken longer than 5 s there. A condition that never holds still fails.
EXPECT_TIMEOUT_MS = 15_000
# The shared app may reach this loopback address only (PRIVATE_URL_NETWORKS): the test APIs of
# actions live there, while 127.0.0.1 stays refused as on any default install.
TEST_SERVICES_HOST = "127.0.0.2"
# Where a second app serves the shared production build (DashboardApps).
SECOND_APP_HOST = "127.0.0.3"


@dataclass(frozen=True)
class AppServer:
    base_url: str
    database_url: str  # the server's own SQLite file, for tests that prepare data directly
    port: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll the health route and the login page until both answer, or fail with the log."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(timeout=5, follow_redirects=True) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the app exited early:\n{log_path.read_text()[-4000:]}")
            try:
                health = client.get(f"{base_url}/api/health")
                page = client.get(f"{base_url}/login")
                if health.status_code == 200 and page.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # Wait a little for the next poll; returns early if the server process dies.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
    pytest.fail(f"the app did not start in time:\n{log_path.read_text()[-4000:]}")


def pytest_collection_modifyitems(config, items):
    """Run `first_run` tests before the other browser tests: they need the shared app's database
    still empty (no account yet), and every other test adds accounts to it."""
    slots = [i for i, item in enumerate(items) if item.get_closest_marker("e2e")]
    ordered = sorted(
        (items[i] for i in slots), key=lambda item: item.get_closest_marker("first_run") is None
    )
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item


class DashboardApps:
    """The dashboard apps of this test process, one per group of browser tests
    (tests/utils/parallel.py), so two workers drive the dashboard side by side.

    The first app of the whole run makes the production build and serves it on 127.0.0.1; any
    other app (another worker's, or this worker's other group) waits for that build under a lock
    and serves the same files on SECOND_APP_HOST, at the port the build baked in. Every app has
    its own empty data directory."""

    def __init__(self, tmp_path_factory):
        self.factory = tmp_path_factory
        self.stack = contextlib.ExitStack()
        self.by_group: dict[str, AppServer] = {}
        base = tmp_path_factory.getbasetemp()
        # Under xdist each worker's temp dir sits in one directory of the run: the apps meet there.
        self.run_dir = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base

    def get(self, group: str) -> AppServer:
        if group not in self.by_group:
            self.by_group[group] = self._start()
        return self.by_group[group]

    def _start(self) -> AppServer:
        record = self.run_dir / "dashboard-build.json"
        with (self.run_dir / "dashboard-build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another worker builds
            if record.exists():
                port = json.loads(record.read_text())["port"]
                return self.stack.enter_context(running_app(self.factory, SECOND_APP_HOST, port))
            server = self.stack.enter_context(running_app(self.factory, "127.0.0.1", _free_port()))
            record.write_text(json.dumps({"port": server.port}))
            return server

    def close(self) -> None:
        self.stack.close()


@pytest.fixture(scope="session")
def dashboard_apps(tmp_path_factory):
    apps = DashboardApps(tmp_path_factory)
    yield apps
    apps.close()


@pytest.fixture
def app_server(request, dashboard_apps) -> AppServer:
    """The running app of this test's group, started on first use with an empty data directory."""
    return dashboard_apps.get(group_of(request.node.nodeid))


@contextlib.contextmanager
def running_app(tmp_path_factory, host: str, port: int):
    """The production build on `host:port` and a fresh data directory, with the product's
    defaults (and test services reachable on TEST_SERVICES_HOST only). On 127.0.0.1 it builds
    (`reflex run`); elsewhere it serves the build already made (tests/e2e/second_app.py)."""
    if shutil.which("bun", path=str(ROOT / "node_modules" / ".bin")) is None:
        require_or_skip("bun is not installed: run scripts/bootstrap.sh")
    data_dir = tmp_path_factory.mktemp("app-data")
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "CHATAPP_ENV": "development",
        "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "INGEST_WORKER": "true",
        # Reflex keeps visitors' states under ./.states and empties it at start: each app its own,
        # or an app started by another test (or xdist worker) wipes this one's.
        "REFLEX_STATES_WORKDIR": str(data_dir / "states"),
    }
    # The server runs with the product's defaults, not the per-test tweaks of the test process.
    for name in ("DATABASE_URL", "ARGON2_MEMORY_KIB", "ARGON2_ROUNDS", "ALLOW_PRIVATE_URLS"):
        env.pop(name, None)
    env["PRIVATE_URL_NETWORKS"] = f"{TEST_SERVICES_HOST}/32"
    subprocess.run([sys.executable, "-m", "chatapp", "migrate"], cwd=ROOT, env=env, check=True)
    if host == "127.0.0.1":
        command = ["-m", "reflex", "run", "--env", "prod", "--single-port", "--backend-host", host]
        command += ["--frontend-port", str(port), "--backend-port", str(port)]
    else:
        command = ["-m", "tests.e2e.second_app", host, str(port)]
    log_path = data_dir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://{host}:{port}"
    try:
        _wait_until_serving(base_url, process, log_path)
        yield AppServer(base_url, f"sqlite:///{data_dir / 'chatapp.db'}", port)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="package")
def browser():
    # Package scope: Playwright's sync API keeps an asyncio loop running while the browser is open,
    # which would break asyncio.run() in the tests collected after tests/e2e.
    if not Path(CHROMIUM).exists():
        require_or_skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_server):
    # Reduced motion: Radix's dialogs and menus open without their 160-200 ms animations, which
    # each click otherwise waits out (and the browser draws, on the busy machine).
    context = browser.new_context(
        base_url=app_server.base_url,
        viewport={"width": 1280, "height": 800},
        reduced_motion="reduce",
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
