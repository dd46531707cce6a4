"""The production single-port app under its security headers: the dashboard works with its CSP
(no violation in Chromium's console), the widget's files stay embeddable, admin routes refuse
other sites' preflights, and the Team page's audit log shows admin changes to managers only."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section

pytestmark = pytest.mark.e2e

EVIL = "https://evil.example"


def test_headers_on_the_real_server(app_server):
    with httpx.Client(base_url=app_server.base_url, timeout=30, follow_redirects=True) as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        widget = client.get("/widget.js")
        assert widget.status_code == 200
        assert widget.headers["x-content-type-options"] == "nosniff"
        assert "x-frame-options" not in widget.headers
        assert "content-security-policy" not in widget.headers
        admin = client.options(
            "/api/v1/me",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
        )
        assert admin.status_code == 403
        assert "access-control-allow-origin" not in admin.headers
        public = client.options(
            "/api/chat",
            headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        )
        assert public.status_code == 204
        assert public.headers["access-control-allow-origin"] == "*"


def test_dashboard_works_under_its_csp_and_shows_the_audit_log(page, app_server):
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    label, _ = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Team")
    expect(page.locator("#audit-log")).to_be_visible()
    expect(page.locator("#audit-table")).to_contain_text("member.add")
    expect(page.locator("#audit-table")).to_contain_text(f"owner-{label}@example.com")
    assert violations == []


def test_viewers_do_not_see_the_audit_log(page, app_server):
    label, _ = new_tenant(app_server)
    log_in(page, f"viewer-{label}@example.com")
    open_section(page, "Team")
    expect(page.locator("table").first).to_contain_text(f"viewer-{label}@example.com")
    expect(page.locator("#audit-log")).to_have_count(0)
