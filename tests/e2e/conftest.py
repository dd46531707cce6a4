"""The whole app as a user runs it: the production build served by `reflex run` on one port,
on a fresh data directory, driven by Playwright in Debian's Chromium.

Chromium and the app are required when CI=true: a missing browser is an error there, a skip on a
laptop without it.
"""

from __future__ import annotations

import contextlib
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


@dataclass(frozen=True)
class AppServer:
    base_url: str
    database_url: str  # the server's own SQLite file, for tests that prepare data directly


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


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Start the production build on a free port with an empty data directory."""
    with running_app(tmp_path_factory) as server:
        yield server


@contextlib.contextmanager
def running_app(tmp_path_factory):
    """The production build on a free port and a fresh data directory, with the product's
    defaults (and test services reachable on TEST_SERVICES_HOST only)."""
    if shutil.which("bun", path=str(ROOT / "node_modules" / ".bin")) is None:
        require_or_skip("bun is not installed: run scripts/bootstrap.sh")
    data_dir = tmp_path_factory.mktemp("app-data")
    port = _free_port()
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
    log_path = data_dir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reflex",
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(port),
                "--backend-port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base_url, process, log_path)
        yield AppServer(base_url, f"sqlite:///{data_dir / 'chatapp.db'}")
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
    context = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
