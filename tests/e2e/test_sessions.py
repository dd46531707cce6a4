"""Dashboard sessions in a real browser against the production single-port build: the session
lives in an HttpOnly cookie that page scripts cannot read, survives a reload, and logout ends it;
after a logout nothing of the previous user's state (an open conversation dialog, the Inbox's
thread and its live messages, a new widget key) reaches the tab (issue 18, items 14 and 15a)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from tests.e2e.dashboard_helpers import log_in, log_out, new_tenant, open_section
from tests.utils.factories import PASSWORD
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id

pytestmark = pytest.mark.e2e

COOKIE = "chatapp_session"


def _session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE), None)


def test_the_session_cookie_is_httponly_survives_a_reload_and_logout_ends_it(page, app_server):
    label, _ = new_tenant(app_server)
    email = f"owner-{label}@example.com"
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#remember")
    page.click("#login-submit")
    expect(page.get_by_role("heading", name="Bots")).to_be_visible()

    cookie = _session_cookie(page)
    assert cookie is not None, page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 6.9 * 24 * 3600  # "remember me": 7 days
    token = cookie["value"]
    seen_by_scripts = page.evaluate("document.cookie")
    assert COOKIE not in seen_by_scripts and token not in seen_by_scripts
    assert token not in page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")

    page.reload()  # the websocket's handshake carries the cookie: still logged in
    expect(page.locator("#current-user")).to_have_text(email)

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/?$"))
    assert _session_cookie(page) is None
    with httpx.Client(base_url=app_server.base_url, timeout=15) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401  # revoked on the server, not only forgotten by the browser
    page.reload()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))

    log_in(page, email)  # without "remember me": a browser-session cookie
    assert _session_cookie(page)["expires"] == -1


def _pending_conversation(app_server, tenant, text: str) -> dict:
    """A visitor of `tenant`'s bot who said `text` and asked for a person."""
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", engine=engine)
    visitor = {"bot_id": tenant.bot.public_id, "session_id": new_session_id(), "api_key": key}
    with httpx.Client(base_url=app_server.base_url, timeout=15) as http:
        assert http.post("/api/chat", json={**visitor, "message": text}).status_code == 200
        assert http.post("/api/public/handoff", json=visitor).json()["status"] == "pending"
    return visitor


def test_after_a_logout_the_tab_keeps_nothing_of_the_previous_user(page, app_server):
    label_a, _ = new_tenant(app_server)
    label_b, tenant_b = new_tenant(app_server)
    secret = f"zqb{label_b} my parcel is late"
    visitor = _pending_conversation(app_server, tenant_b, secret)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))

    log_in(page, f"owner-{label_b}@example.com")
    open_section(page, "Activity")  # B's conversation open in its dialog
    page.locator(".conversation-open").first.click()
    expect(page.get_by_role("dialog")).to_contain_text(secret)
    page.keyboard.press("Escape")
    open_section(page, "Connect")  # a fresh widget key
    page.click("#regenerate-key")
    page.click("#confirm-regenerate")
    expect(page.locator("#widget-key")).to_contain_text("ck_")
    expect(page.locator("#widget-key")).not_to_have_text(visitor["api_key"])
    visitor["api_key"] = new_key = page.locator("#widget-key").inner_text()
    open_section(page, "Inbox")  # and B's conversation followed live in the Inbox
    page.locator(".inbox-item").first.click()
    expect(page.locator("#thread-messages")).to_contain_text(secret)
    assert any(secret in frame for frame in frames)  # the frames are what the tab receives

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/?$"))
    frames.clear()
    page.reload()  # the login page's state, sent in full
    expect(page.locator("#login-submit")).to_be_visible()
    log_in(page, f"viewer-{label_a}@example.com")
    with httpx.Client(base_url=app_server.base_url, timeout=15) as http:
        later = f"zqb{label_b} still waiting"
        assert http.post("/api/chat", json={**visitor, "message": later}).status_code == 200
    open_section(page, "Activity")  # a round trip after the visitor's message was published
    expect(page.locator("#current-user")).to_have_text(f"viewer-{label_a}@example.com")
    leaked = [frame for frame in frames if f"zqb{label_b}" in frame or new_key in frame]
    assert leaked == [], leaked[0][:300]
