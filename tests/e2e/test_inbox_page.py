"""The Inbox in a real browser against the production build: a visitor asks for a person through
the public API, the sidebar badge counts it live, an agent takes it (a second agent gets a
readable refusal), replies (the reply arrives on the visitor's public event stream), sees the
visitor's next message and typing live, and resolves it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id
from tests.utils.live_server import SSEReader

pytestmark = pytest.mark.e2e


def test_agent_takes_replies_live_and_resolves(app_server, browser, page):
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", engine=engine)
    base = app_server.base_url
    sid = new_session_id()
    visitor = {"bot_id": tenant.bot.public_id, "session_id": sid, "api_key": key}

    log_in(page, f"agent-{label}@example.com")
    expect(page.locator("#nav-inbox")).to_be_visible()
    expect(page.locator("#inbox-badge")).to_have_count(0)

    other = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
    admin = other.new_page()
    admin.set_default_timeout(30_000)
    log_in(admin, f"admin-{label}@example.com")

    with httpx.Client(base_url=base, timeout=15) as http:
        http.post("/api/chat", json={**visitor, "message": "Hello, my parcel is late"})
        asked = http.post("/api/public/handoff", json=visitor)
        assert asked.json()["status"] == "pending", asked.text
        expect(page.locator("#inbox-badge")).to_have_text("1")  # live, no reload

        open_section(page, "Inbox")
        item = page.locator(".inbox-item").first
        expect(item).to_contain_text("Hello, my parcel is late")
        expect(item).to_contain_text("Waiting")
        item.click()
        expect(page.locator("#thread-messages")).to_contain_text("Hello, my parcel is late")
        open_section(admin, "Inbox")
        admin.locator(".inbox-item").first.click()
        expect(admin.locator("#inbox-take")).to_be_visible()

        page.click("#inbox-take")
        expect(page.locator("#thread-status")).to_have_text("assigned")
        expect(page.locator("#inbox-badge")).to_have_count(0)
        admin.click("#inbox-take")
        expect(admin.locator("#inbox-notice")).to_contain_text(
            f"agent-{label} is already handling this conversation"
        )

        stream = f"{base}/api/public/conversations/events?" + str(
            httpx.QueryParams({"bot_id": tenant.bot.public_id, "session_id": sid, "key": key})
        )
        with SSEReader(stream) as widget:
            widget.wait_for(lambda ev: any(e["data"].get("status") == "assigned" for e in ev))
            page.fill("#inbox-reply", "Hi, I'm looking into it now.")
            widget.wait_for(lambda ev: any(e["event"] == "typing" for e in ev))
            page.click("#inbox-send")
            widget.wait_for(
                lambda ev: any(e["event"] == "message" and e["data"]["role"] == "agent" for e in ev)
            )
            reply = [e["data"] for e in widget.events if e["event"] == "message"][-1]
            assert reply["content"] == "Hi, I'm looking into it now."
            assert reply["author"] == f"agent-{label}"
            expect(page.locator("#inbox-reply")).to_have_value("")

            http.post("/api/public/typing", json={**visitor, "typing": True})
            expect(page.locator("#visitor-typing")).to_be_visible()
            answer = http.post("/api/chat", json={**visitor, "message": "Order 1234, thanks!"})
            assert '"handled_by":"human"' in answer.text
            expect(page.locator("#thread-messages")).to_contain_text("Order 1234, thanks!")
            expect(page.locator("#visitor-typing")).to_have_count(0)
            screenshot(page, "inbox")

            page.click("#inbox-resolve")
            expect(page.locator("#thread-status")).to_have_text("resolved")
            widget.wait_for(lambda ev: any(e["data"].get("status") == "resolved" for e in ev))
    page.click("#inbox-view-resolved")
    expect(page.locator(".inbox-item")).to_have_count(1)
    other.close()


def test_viewer_sees_no_inbox(app_server, page):
    label, _ = new_tenant(app_server)
    log_in(page, f"viewer-{label}@example.com")
    expect(page.locator("#nav-inbox")).to_have_count(0)
    page.goto("/inbox")
    expect(page.locator("#inbox-viewer")).to_be_visible()


def test_the_queue_filtered_by_bot(app_server, page):
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        bots.create_bot(session, tenant.owner, BotCreate(name=f"Quiet {label}"))
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", engine=engine)
    visitor = {"bot_id": tenant.bot.public_id, "session_id": new_session_id(), "api_key": key}
    with httpx.Client(base_url=app_server.base_url, timeout=15) as http:
        http.post("/api/chat", json={**visitor, "message": "Where is my parcel?"})
        assert http.post("/api/public/handoff", json=visitor).json()["status"] == "pending"

    log_in(page, f"agent-{label}@example.com")
    open_section(page, "Inbox")
    expect(page.locator(".inbox-item")).to_have_count(1)
    page.click("#inbox-bot-filter")
    page.get_by_role("option", name=f"Quiet {label}", exact=True).click()
    expect(page.locator("#inbox-empty")).to_be_visible()
    expect(page.locator("#inbox-view-pending")).to_contain_text("0")
    page.click("#inbox-bot-filter")
    page.get_by_role("option", name=tenant.bot.name, exact=True).click()
    expect(page.locator(".inbox-item")).to_contain_text("Where is my parcel?")
    expect(page.locator("#inbox-view-pending")).to_contain_text("1")
