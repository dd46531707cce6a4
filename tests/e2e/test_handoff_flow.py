"""The whole human handoff in two browsers: a visitor on a website asks the widget for a person,
an agent in the dashboard's Inbox (another browser context) takes the conversation, they write to
each other live both ways (typing indicators too), and the agent resolves it; the bot then answers
the visitor again, and Analytics shows the handoff with its reply and resolution times."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section
from tests.utils.handoff import add_action
from tests.utils.widget_stack import HostSite

pytestmark = pytest.mark.e2e


def test_visitor_and_agent_talk_live_until_the_agent_resolves(app_server, browser, page):
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", engine=engine)
    base = app_server.base_url

    log_in(page, f"agent-{label}@example.com")
    open_section(page, "Inbox")
    expect(page.locator("#inbox-badge")).to_have_count(0)

    tag = (
        f'<script src="{base}/widget.js" data-bot-id="{tenant.bot.public_id}" '
        f'data-key="{key}" async></script>'
    )
    visitor_context = browser.new_context(viewport={"width": 1280, "height": 800})
    with HostSite() as site:
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(30_000)
        visitor.goto(site.add("/", f"<!doctype html><html lang=en><title>Shop</title>{tag}"))
        visitor.locator("chatapp-widget .l").click()
        dialog = visitor.get_by_role("dialog", name=f"Bot {label}")
        expect(dialog).to_be_visible()

        # The visitor asks for a person: the agent's badge counts it without a reload.
        with visitor.expect_response("**/api/public/handoff") as asked:
            dialog.get_by_role("button", name="Talk to a person").click()
        assert asked.value.json()["status"] == "pending"
        expect(dialog.locator(".m.sy").last).to_contain_text("Connecting you with our team.")
        expect(page.locator("#inbox-badge")).to_have_text("1")

        # The agent takes it; the visitor is told who joined.
        page.locator(".inbox-item").first.click()
        page.click("#inbox-take")
        expect(page.locator("#thread-status")).to_have_text("assigned")
        expect(dialog.locator(".m.sy").last).to_contain_text(f"agent-{label} joined")

        # Agent -> visitor: typing, then the reply, live.
        page.fill("#inbox-reply", "Hi, I'm here to help.")
        expect(dialog.locator(".m.typing")).to_contain_text("is typing")
        page.click("#inbox-send")
        expect(dialog.locator(".m.g .b")).to_have_text(["Hi, I'm here to help."])
        expect(dialog.locator(".m.typing")).to_have_count(0)

        # Visitor -> agent: typing, then the message, live; the bot stays silent.
        visitor.locator("#chatapp-input").press_sequentially("My parcel")
        expect(page.locator("#visitor-typing")).to_be_visible()
        visitor.locator("#chatapp-input").fill("My parcel 4411 is late.")
        visitor.locator("#chatapp-input").press("Enter")
        expect(page.locator("#thread-messages")).to_contain_text("My parcel 4411 is late.")
        expect(page.locator("#visitor-typing")).to_have_count(0)
        expect(dialog.locator(".m.u").last).to_have_attribute("data-state", "sent")
        expect(dialog.locator('.m[data-state="done"]')).to_have_count(1)  # the welcome only

        # The agent resolves: the visitor is told, and the bot answers again.
        page.click("#inbox-resolve")
        expect(page.locator("#thread-status")).to_have_text("resolved")
        expect(dialog.locator(".m.sy").last).to_have_text("The conversation was closed.")
        visitor.locator("#chatapp-input").fill("Thanks!")
        visitor.locator("#chatapp-input").press("Enter")
        expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)
    visitor_context.close()

    # Analytics counts the handoff and how fast the team answered and resolved it.
    open_section(page, "Analytics")
    expect(page.locator("#stat-handoffs")).to_have_text("1")
    expect(page.locator("#stat-first-reply")).to_have_text(re.compile(r"^\d+ (s|min)$"))
    expect(page.locator("#stat-resolution")).to_have_text(re.compile(r"^\d+ (s|min)$"))
