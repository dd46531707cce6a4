"""The dashboard's session cookie over HTTP: only the server sets it (HttpOnly, SameSite=Strict,
Secure under an https PUBLIC_URL), from a one-time login ticket; logout revokes and expires it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chatapp.api.app import create_api
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.accounts import auth
from tests.utils.factories import PASSWORD, make_tenant

OPEN, END = "/api/v1/auth/session", "/api/v1/auth/session/end"


@pytest.fixture
def tenant(client):
    with session_scope() as session:
        make_tenant(session, "a")


def _ticket(remember: bool = False) -> str:
    with session_scope() as session:
        email = "owner-a@example.com"
        return auth.login(
            session, email=email, password=PASSWORD, remember=remember, ticket=True
        ).token


def _me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_ticket_becomes_an_httponly_cookie_and_a_redirect(client, tenant):
    answer = client.post(OPEN, data={"ticket": _ticket()}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    token = cookie.split(";")[0].removeprefix(f"{auth.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Max-Age" not in cookie and "Secure" not in cookie  # a browser-session cookie
    assert _me(client, token).status_code == 200

    again = client.post(OPEN, data={"ticket": _ticket(remember=True)}, follow_redirects=False)
    assert f"Max-Age={7 * 24 * 3600}" in again.headers["set-cookie"]


def test_a_used_or_made_up_ticket_is_refused_in_words(client, tenant):
    ticket = _ticket()
    assert client.post(OPEN, data={"ticket": ticket}, follow_redirects=False).status_code == 303
    for bad in (ticket, "made-up"):
        refused = client.post(OPEN, data={"ticket": bad}, follow_redirects=False)
        assert refused.status_code == 401
        assert "Please log in again" in refused.json()["detail"]
        assert "set-cookie" not in refused.headers
    assert client.post(OPEN, data={}).status_code == 422


def test_another_sites_form_cannot_log_the_browser_in(client, tenant):
    refused = client.post(
        OPEN,
        data={"ticket": _ticket()},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "set-cookie" not in refused.headers


def test_development_redirects_to_the_frontends_port(client, tenant):
    answer = client.post(
        OPEN,
        data={"ticket": _ticket()},
        headers={"Origin": "http://testserver:3000"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "http://testserver:3000/"


def test_logout_revokes_the_session_and_expires_the_cookie(client, tenant):
    opened = client.post(OPEN, data={"ticket": _ticket()}, follow_redirects=False)
    token = opened.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    client.cookies.set(auth.SESSION_COOKIE, token)
    ended = client.post(END, follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/login"
    cookie = ended.headers["set-cookie"]
    assert cookie.startswith(f'{auth.SESSION_COOKIE}=""') and "Max-Age=0" in cookie
    assert _me(client, token).status_code == 401  # revoked on the server, not only forgotten


def test_the_cookie_is_secure_when_the_dashboard_is_served_over_https(
    database_url, tenant, monkeypatch
):
    monkeypatch.setenv("PUBLIC_URL", "https://chat.example.com")
    reset_settings()
    try:
        with TestClient(create_api(), base_url="https://testserver") as secure:
            answer = secure.post(OPEN, data={"ticket": _ticket()}, follow_redirects=False)
        assert "Secure" in answer.headers["set-cookie"]
    finally:
        monkeypatch.delenv("PUBLIC_URL")
        reset_settings()
