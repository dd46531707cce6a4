"""The first look at the dashboard is quiet: loading the main pages logs no error or warning in
the browser's console (no missing favicon, no failed request), and the server does not warn that
its pages are "being redefined" (they were registered at each of two compiles)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section

pytestmark = pytest.mark.e2e

SECTIONS = [
    "Playground",
    "Activity",
    "Analytics",
    "Sources",
    "Contacts",
    "Actions",
    "Connect",
    "Settings",
    "Team",
    "Account",
    "Bots",
]


def _server_log(app_server) -> str:
    """The shared app's log: it lives beside its SQLite file (tests/e2e/conftest.py)."""
    database = Path(app_server.database_url.removeprefix("sqlite:///"))
    return (database.parent / "server.log").read_text()


def test_the_main_pages_load_without_console_errors_or_warnings(browser, app_server):
    label, _ = new_tenant(app_server)
    context = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    noise: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type in ("error", "warning")
            and noise.append(f"{message.type}: {message.text} ({message.location.get('url')})")
        ),
    )
    page.on("pageerror", lambda error: noise.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and noise.append(f"HTTP {response.status}: {response.url}")
        ),
    )
    try:
        log_in(page, f"owner-{label}@example.com")
        for name in SECTIONS:
            open_section(page, name)
        page.goto("/playground")  # a full load too, not only the app's own navigation
        expect(page.get_by_role("heading", name="Playground", exact=True)).to_be_visible()
        icon = page.evaluate(
            "fetch('/favicon.ico').then(r => r.status + ' ' + r.headers.get('content-type'))"
        )
        assert icon.startswith("200 image/"), icon
    finally:
        context.close()
    assert noise == []
    redefined = [line for line in _server_log(app_server).splitlines() if "redefined" in line]
    assert redefined == []
