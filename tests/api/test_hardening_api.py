"""Hardening over HTTP: the audit log route, security headers, strict CORS for admin routes,
Bearer-only admin auth (no cookie can stand in for it), login throttling per IP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette

from chatapp.api.app import create_api
from chatapp.api.cors import ScopedCORS
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.accounts import api_tokens
from tests.api.test_admin_api import login
from tests.utils.factories import make_tenant

EVIL = "https://evil.example"


@pytest.fixture
def tenants(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
    return a, b


def test_audit_route_lists_changes_newest_first_for_owners_and_admins(client, tenants):
    a, _ = tenants
    owner = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}"
    client.patch(f"{base}/bots/{a.bot.id}", json={"name": "First"}, headers=owner)
    client.patch(f"{base}/bots/{a.bot.id}", json={"name": "Second"}, headers=owner)
    for who in ("owner", "admin"):
        page = client.get(
            f"{base}/audit", params={"per_page": 2}, headers=login(client, f"{who}-a@example.com")
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert [e["changes"]["name"] for e in body["entries"]] == [
            ["First", "Second"],
            ["Bot a", "First"],
        ]
        assert body["entries"][0]["actor"] == "owner-a@example.com"
        assert body["entries"][0]["ip"] == "testclient"
        assert body["total"] >= 2 and body["per_page"] == 2


def test_agents_viewers_and_other_workspaces_cannot_read_the_log(client, tenants):
    a, b = tenants
    url = f"/api/v1/workspaces/{a.workspace.id}/audit"
    for who in ("agent-a", "viewer-a"):
        refused = client.get(url, headers=login(client, f"{who}@example.com"))
        assert refused.status_code == 403
        assert "not allowed" in refused.json()["detail"]
    stranger = client.get(url, headers=login(client, "owner-b@example.com"))
    assert stranger.status_code == 404
    with session_scope() as session:
        _, plain = api_tokens.create_token(session, b.owner, name="b script")
    token_of_b = client.get(url, headers={"Authorization": f"Bearer {plain}"})
    assert token_of_b.status_code == 401


def test_admin_api_takes_bearer_tokens_only_never_cookies(client, tenants):
    token = login(client, "owner-a@example.com")["Authorization"][7:]
    cookies = {"chatapp_session": token, "chatapp_remember": token}
    for name, value in cookies.items():
        client.cookies.set(name, value)
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_admin_responses_carry_security_headers_public_ones_stay_embeddable(client, tenants):
    a, _ = tenants
    admin = client.get("/api/v1/me")
    assert admin.headers["x-content-type-options"] == "nosniff"
    assert admin.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in admin.headers["content-security-policy"]
    assert admin.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in admin.headers["permissions-policy"]
    assert "strict-transport-security" not in admin.headers  # PUBLIC_URL is http here
    public = client.get(f"/api/public/bots/{a.bot.public_id}/config")
    assert public.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in public.headers
    assert "content-security-policy" not in public.headers


def test_hsts_is_sent_behind_https(database_url, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://chat.example.com")
    reset_settings()
    with TestClient(create_api()) as client:
        hsts = client.get("/api/health").headers["strict-transport-security"]
    assert hsts == "max-age=31536000; includeSubDomains"
    monkeypatch.setenv("HSTS_SECONDS", "0")
    reset_settings()
    with TestClient(create_api()) as client:
        assert "strict-transport-security" not in client.get("/api/health").headers


@pytest.fixture
def reflex_like(database_url):
    """Our API wrapped the way Reflex wraps the backend, with its default origins ('*')."""
    outer = Starlette()
    outer.mount("", create_api())
    outer.add_middleware(
        ScopedCORS,
        allow_origins=["*"],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    with TestClient(outer) as client:
        yield client


def test_admin_preflights_are_refused_and_get_no_cors_headers(reflex_like):
    preflight = reflex_like.options(
        "/api/v1/workspaces/1/bots",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    simple = reflex_like.get("/api/v1/me", headers={"Origin": EVIL, "Cookie": "a=b"})
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers


def test_public_routes_stay_open_to_any_site(reflex_like):
    preflight = reflex_like.options(
        "/api/chat",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-widget-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    config = reflex_like.get("/api/public/bots/bot_missing/config", headers={"Origin": EVIL})
    assert config.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in config.headers


def test_login_throttling_per_ip_spans_emails(client, tenants, monkeypatch):
    """One address spraying many emails is locked (4x the per-email limit); another is not."""
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    reset_settings()
    sprayer = {"X-Forwarded-For": "203.0.113.9"}
    for n in range(20):
        response = client.post(
            "/api/v1/auth/login",
            json={"email": f"nobody{n}@example.com", "password": "wrong!!!"},
            headers=sprayer,
        )
        assert response.status_code == 401
    body = {"email": "owner-a@example.com", "password": "correct horse battery"}
    assert client.post("/api/v1/auth/login", json=body, headers=sprayer).status_code == 429
    other = {"X-Forwarded-For": "198.51.100.7"}
    assert client.post("/api/v1/auth/login", json=body, headers=other).status_code == 200
