"""Audiences and routing in a real browser: the Settings editor (add, edit, remove, validation
errors, the router switch naming the bots it routes to) and Activity's audience filter, with the
conversation's audience and the bot a router sent the question to."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.chat import conversations
from chatapp.services.models import Bot, BotCreate, BotUpdate, Conversation
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.e2e.test_activity_page import store_conversation

pytestmark = pytest.mark.e2e


def db(app_server):
    return session_scope(get_engine(app_server.database_url))


def saved_bot(app_server, bot_id: int) -> Bot:
    with db(app_server) as session:
        bot = session.get(Bot, bot_id)
        session.expunge(bot)
        return bot


def choose(page, select_id: str, option: str) -> None:
    page.click(f"#{select_id}")
    page.get_by_role("option", name=option, exact=True).click()


def test_settings_edits_audiences_and_makes_a_router(page, app_server):
    label, tenant = new_tenant(app_server)
    with db(app_server) as session:
        billing = bots.create_bot(session, tenant.owner, BotCreate(name="Billing desk"))
        bots.update_bot(
            session, tenant.owner, billing.id, BotUpdate(description="Invoices and refunds")
        )
        bots.create_bot(session, tenant.owner, BotCreate(name="No description bot"))
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Settings")
    choose(page, "bot-switcher", f"Bot {label}")  # the newest bot comes first
    page.click("#tab-routing")

    page.fill("#field-description", "The front desk: sends you to the right team.")
    page.click("#add-audience")
    page.click("#add-audience")
    cards = page.locator(".audience-card")
    expect(cards).to_have_count(2)
    cards.nth(0).locator(".audience-label input").fill("Recruiter")
    cards.nth(0).get_by_label("Audience instructions").fill("Stress skills and availability.")
    cards.nth(0).get_by_label("Audience starter questions").fill(
        "What roles fit you?\nWhen can you start?"
    )
    page.click("#save-routing")  # the second audience has no label yet
    expect(page.locator("#error-audiences")).to_have_text(
        "An audience needs a label of 1 to 40 characters."
    )
    assert saved_bot(app_server, tenant.bot.id).audiences == []  # nothing half-saved

    cards.nth(1).locator(".audience-label input").fill("Peer engineer")
    expect(page.locator("#error-audiences")).to_have_count(0)  # editing clears the error
    page.click("#field-is_router")
    expect(page.locator("#routes-to")).to_contain_text("Billing desk")
    expect(page.locator("#routes-to")).not_to_contain_text("No description bot")
    page.click("#save-routing")
    expect(page.get_by_text("Audiences and routing saved.")).to_be_visible()
    screenshot(page, "settings-audiences")
    bot = saved_bot(app_server, tenant.bot.id)
    assert bot.is_router and bot.description == "The front desk: sends you to the right team."
    assert bot.audiences == [
        {
            "key": "recruiter",
            "label": "Recruiter",
            "instructions": "Stress skills and availability.",
            "starter_questions": ["What roles fit you?", "When can you start?"],
        },
        {
            "key": "peer-engineer",
            "label": "Peer engineer",
            "instructions": "",
            "starter_questions": [],
        },
    ]

    page.reload()
    page.click("#tab-routing")
    expect(page.locator(".audience-card")).to_have_count(2)
    page.locator(".audience-card").nth(0).locator(".audience-remove").click()
    page.click("#save-routing")
    expect(page.get_by_text("Audiences and routing saved.").first).to_be_visible()
    assert [a["key"] for a in saved_bot(app_server, tenant.bot.id).audiences] == ["peer-engineer"]


def test_activity_filters_by_audience_and_shows_the_routed_bot(page, app_server):
    label, tenant = new_tenant(app_server)
    with db(app_server) as session:
        owner = tenant.owner
        bots.update_bot(
            session,
            owner,
            tenant.bot.id,
            BotUpdate(audiences=[{"label": "Recruiter"}, {"label": "Peer engineer"}]),
        )
        billing = bots.create_bot(session, owner, BotCreate(name="Billing desk"))
        bot = session.get(Bot, tenant.bot.id)
        recruiter = store_conversation(session, bot, "Are you open to new roles?")
        peer = store_conversation(session, bot, "Which database do you use?")
        store_conversation(session, bot, "Hello there")
        for conversation_id, key in ((recruiter, "recruiter"), (peer, "peer-engineer")):
            row = session.get(Conversation, conversation_id)
            row.audience = key
            session.add(row)
        routed = session.get(Conversation, peer)
        conversations.add_answer(
            session,
            routed,
            conversations.Answer(
                "Refunds take 5 days.", [], False, "extractive", 5, 1, 0, 0, billing.id
            ),
            None,
        )
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Activity")
    choose(page, "bot-switcher", f"Bot {label}")  # the newest bot comes first
    rows = page.locator(".conversation-row")
    expect(rows).to_have_count(3)
    choose(page, "activity-audience", "Recruiter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Are you open to new roles?")
    expect(rows.first.locator(".row-audience")).to_have_text("Recruiter")
    choose(page, "activity-audience", "Peer engineer")
    expect(rows).to_have_count(1)
    page.locator(".conversation-open").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("audience: Peer engineer")
    expect(dialog.locator(".routed-bot")).to_have_text("answered by Billing desk")
    screenshot(page, "activity-audience")
    page.keyboard.press("Escape")
    choose(page, "activity-audience", "All")
    expect(rows).to_have_count(3)
