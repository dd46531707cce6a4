"""Activity in a real browser against the running app: a playground conversation found again by
search and read with its times and citations, exports, filters, paging and a phone's viewport.

Conversations other than the playground's are stored with the chat's own storage functions,
straight into the running server's database.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.chat import conversations
from chatapp.services.models import Bot, BotCreate, Conversation, Message
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot, switch_bot
from tests.e2e.test_playground_page import ANSWER_MS, ask, shop_tenant

pytestmark = pytest.mark.e2e

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def store_conversation(
    session,
    bot: Bot,
    question: str,
    *,
    fell_back: bool = False,
    feedback: int = 0,
    when: datetime | None = None,
) -> int:
    """A widget conversation with one question and its answer, as the chat stores it."""
    conversation = conversations.find_or_create(session, bot, "v-" + secrets.token_hex(6), "widget")
    conversations.add_user_message(session, conversation, question, None)
    answer = conversations.Answer(
        "Sorry, I don't know." if fell_back else "Here you are [1].",
        [] if fell_back else [{"n": 1, "title": "Hours", "snippet": "9 to 6", "strength": "weak"}],
        fell_back,
        "extractive",
        10,
        2,
        0,
        0,
    )
    answer_id = conversations.add_answer(session, conversation, answer, None)
    if feedback:
        conversations.set_feedback(
            session,
            bot=bot,
            session_id=conversation.session_id,
            message_id=answer_id,
            rating=feedback,
        )
    if when is not None:
        row = session.get(Conversation, conversation.id)
        row.started_at = row.last_message_at = when
        for message in session.exec(
            select(Message).where(Message.conversation_id == conversation.id)
        ):
            message.created_at = when
            session.add(message)
        session.add(row)
    return conversation.id


def downloaded(page: Page, button: str) -> str:
    with page.expect_download() as info:
        page.click(button)
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_a_playground_conversation_is_found_read_and_exported(page, app_server):
    label, tenant = shop_tenant(app_server)
    with session_scope(get_engine(app_server.database_url)) as session:
        bot = session.get(Bot, tenant.bot.id)
        store_conversation(session, bot, "Widget question number 0", feedback=1)
        store_conversation(session, bot, "Widget question number 1", fell_back=True)
        store_conversation(session, bot, "Widget question number 2", feedback=-1)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Playground")
    ask(page, "What is the refund window for returns?")
    expect(page.locator("#playground-messages .bubble-assistant")).to_contain_text(
        "30 days", timeout=ANSWER_MS
    )

    open_section(page, "Activity")
    expect(page.locator("#activity-summary")).to_have_text("4 conversations", timeout=ANSWER_MS)
    newest = page.locator(".conversation-row").first
    expect(newest).to_contain_text("What is the refund window for returns?")
    expect(newest).to_contain_text(TIME)
    screenshot(page, "activity")

    page.fill("#activity-search", "refund window")
    page.click("#activity-search-submit")
    expect(page.locator("#activity-summary")).to_have_text("1 conversation", timeout=ANSWER_MS)
    expect(page.locator(".conversation-row")).to_have_count(1)
    expect(page.locator(".conversation-row")).to_contain_text("Playground")

    page.locator(".conversation-open").first.click()
    dialog = page.get_by_role("dialog")
    bubbles = dialog.locator(".bubble")
    expect(bubbles).to_have_count(2)
    expect(bubbles.first).to_contain_text("What is the refund window for returns?")
    expect(bubbles.nth(1)).to_contain_text("30 days")
    for number in range(2):
        expect(bubbles.nth(number).locator(".message-time")).to_have_text(TIME)
    expect(bubbles.nth(1).locator(".citation").first).to_contain_text("Returns")
    page.click("#conversation-close")
    expect(dialog).to_have_count(0)

    rows = list(csv.DictReader(io.StringIO(downloaded(page, "#activity-export-csv"))))
    assert [(r["role"], r["channel"]) for r in rows] == [
        ("user", "playground"),
        ("assistant", "playground"),
    ]
    assert rows[0]["content"] == "What is the refund window for returns?"
    assert "Returns" in rows[1]["citations"]

    document = json.loads(downloaded(page, "#activity-export-json"))
    assert len(document["conversations"]) == 1  # the search applies to exports too
    answer = document["conversations"][0]["messages"][1]
    assert "30 days" in answer["content"] and answer["citations"][0]["title"] == "Returns"


@pytest.fixture
def busy_bot(app_server):
    """A bot with 30 answered conversations, one unanswered, one rated down, one in March, and a
    second bot with a conversation of its own."""
    label, tenant = new_tenant(app_server)
    now = datetime.now(UTC)
    with session_scope(get_engine(app_server.database_url)) as session:
        bot = session.get(Bot, tenant.bot.id)
        for number in range(30):
            store_conversation(
                session, bot, f"Routine question {number}", when=now - timedelta(hours=number + 1)
            )
        store_conversation(session, bot, "Do you sell bicycles?", fell_back=True)
        store_conversation(session, bot, "Why so slow?", feedback=-1)
        store_conversation(
            session, bot, "Are you open at Easter?", when=datetime(2026, 3, 2, 12, tzinfo=UTC)
        )
        other = bots.create_bot(session, tenant.owner, BotCreate(name=f"Other {label}"))
        store_conversation(session, other, "A question for the other bot")
    return label


def choose(page: Page, select_id: str, option: str) -> None:
    page.click(select_id)
    page.get_by_role("option", name=option, exact=True).click()


def test_filters_and_paging(page, busy_bot):
    log_in(page, f"agent-{busy_bot}@example.com")
    open_section(page, "Activity")
    choose(page, "#bot-switcher", f"Bot {busy_bot}")  # the newest bot comes first
    summary = page.locator("#activity-summary")
    expect(summary).to_have_text("33 conversations")
    expect(page.locator("#activity-page")).to_have_text("Page 1 of 2")
    expect(page.locator(".conversation-row")).to_have_count(25)
    page.click("#activity-next")
    expect(page.locator("#activity-page")).to_have_text("Page 2 of 2")
    expect(page.locator(".conversation-row")).to_have_count(8)
    expect(page.locator(".conversation-row").last).to_contain_text("Are you open at Easter?")

    page.click("#activity-unanswered")
    expect(summary).to_have_text("1 conversation")
    expect(page.locator(".conversation-row")).to_contain_text("Do you sell bicycles?")
    expect(page.locator(".conversation-row")).to_contain_text("no answer found")
    page.click("#activity-unanswered")
    expect(summary).to_have_text("33 conversations")

    choose(page, "#activity-feedback", "Thumbs down")
    expect(summary).to_have_text("1 conversation")
    expect(page.locator(".conversation-row")).to_contain_text("Why so slow?")
    page.locator(".conversation-open").first.click()
    expect(page.get_by_role("dialog").locator(".bubble-assistant")).to_contain_text("not helpful")
    page.click("#conversation-close")
    choose(page, "#activity-feedback", "Any")

    page.fill("#activity-from", "2026-03-05")
    page.fill("#activity-to", "2026-03-01")
    expect(page.locator("#activity-to-error")).to_have_text(
        "The end date is before the start date."
    )
    page.fill("#activity-from", "2026-03-01")
    expect(page.locator("#activity-to-error")).to_have_count(0)
    page.fill("#activity-to", "2026-03-03")
    expect(summary).to_have_text("1 conversation")
    expect(page.locator(".conversation-row")).to_contain_text("Are you open at Easter?")

    page.fill("#activity-search", "x" * 201)
    page.click("#activity-search-submit")
    expect(page.locator("#activity-search-error")).to_have_text(
        "Search for at most 200 characters."
    )

    page.click("#activity-clear")
    expect(summary).to_have_text("33 conversations")
    expect(page.locator("#activity-search-error")).to_have_count(0)
    choose(page, "#activity-bot", "All bots")
    expect(summary).to_have_text("34 conversations")
    page.fill("#activity-search", "other bot")
    page.click("#activity-search-submit")
    expect(summary).to_have_text("1 conversation")
    expect(page.locator(".conversation-row")).to_contain_text(f"Other {busy_bot}")


def test_activity_fits_a_phone(browser, app_server, busy_bot):
    context = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 390, "height": 844}
    )
    phone = context.new_page()
    try:
        log_in(phone, f"viewer-{busy_bot}@example.com")
        phone.goto("/activity")
        switch_bot(phone, f"Bot {busy_bot}")  # in the menu's drawer on a phone
        expect(phone.locator("#activity-summary")).to_have_text(
            "33 conversations", timeout=ANSWER_MS
        )
        phone.locator(".conversation-open").first.click()
        expect(phone.get_by_role("dialog").locator(".bubble")).to_have_count(2)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
    finally:
        context.close()


def test_another_workspace_sees_none_of_these_conversations(page, app_server, busy_bot):
    stranger, _ = new_tenant(app_server)
    log_in(page, f"owner-{stranger}@example.com")
    open_section(page, "Activity")
    choose(page, "#activity-bot", "All bots")
    expect(page.locator("#activity-empty")).to_be_visible()
    expect(page.locator("#activity-summary")).to_have_text("0 conversations", timeout=ANSWER_MS)
