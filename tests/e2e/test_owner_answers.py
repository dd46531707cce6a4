"""What owners coming from Chatbase look for, in Chromium against the running app: an answer a
visitor got (through the public API) improved from Activity, the next visitor getting the new one
citing its Q&A pair; then, in Sources, a pasted text's text and chunks read, and the text edited in
place and read again once re-trained. An agent sees the conversation but no "Improve answer"."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.models import Source
from tests.e2e.dashboard_helpers import log_in, log_out, open_section, screenshot
from tests.e2e.test_playground_page import ANSWER_MS, shop_tenant

pytestmark = pytest.mark.e2e

SATURDAY = "When do you open on Saturdays?"
BETTER = "On Saturdays we open from 9am to 1pm, since May."
NEW_HOURS = "Opening hours. From June our Lyon shop opens Tuesday to Sunday, 11am to 7pm."
TRAINED_MS = 120_000


def visitor_asks(app_server, public_id: str, key: str, question: str) -> dict:
    """A new visitor's question through the public API, as the widget sends it."""
    reply = httpx.post(
        f"{app_server.base_url}/api/chat",
        json={
            "bot_id": public_id,
            "session_id": "visitor-" + secrets.token_hex(6),
            "message": question,
            "stream": False,
        },
        headers={"X-Widget-Key": key},
        timeout=ANSWER_MS / 1000,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def source_row(page: Page, title: str):
    return page.locator(".source-row", has=page.locator(".source-title", has_text=title))


def expect_ready(page: Page, title: str) -> None:
    expect(source_row(page, title).locator(".source-status")).to_have_text(
        "Ready", timeout=TRAINED_MS
    )


def test_owner_improves_an_answer_and_reads_and_edits_what_the_bot_learned(page, app_server):
    label, tenant = shop_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    public_id = tenant.bot.public_id
    assert "10am to 4pm" in visitor_asks(app_server, public_id, key, SATURDAY)["answer"]

    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Activity")
    page.locator(".conversation-open", has_text=SATURDAY).click()
    conversation = page.locator("#conversation-messages")
    expect(conversation.locator(".bubble-assistant")).to_contain_text("10am to 4pm")
    improve = conversation.locator(".improve-answer")
    expect(improve).to_have_count(1)  # on the bot's answer only
    improve.click()
    expect(page.locator("#improve-question")).to_have_value(SATURDAY)
    expect(page.locator("#improve-answer")).to_have_value("On Saturdays we open from 10am to 4pm.")
    screenshot(page, "activity-improve-answer")
    page.fill("#improve-answer", "")
    page.click("#improve-save")
    expect(page.locator("#improve-answer-error")).to_have_text(
        "Write both the question and its answer."
    )
    page.fill("#improve-answer", BETTER)
    page.click("#improve-save")
    expect(page.locator("#improve-answer")).to_have_count(0)  # saved: the dialog closed ...
    expect(improve).to_be_focused()  # ... and focus is back on the button that opened it
    page.keyboard.press("Escape")

    open_section(page, "Sources")
    expect_ready(page, SATURDAY)
    with session_scope(engine) as session:
        pair = session.exec(
            select(Source).where(Source.bot_id == tenant.bot.id, Source.kind == "qa")
        ).one()
    after = visitor_asks(app_server, public_id, key, SATURDAY)
    assert "9am to 1pm" in after["answer"] and "10am to 4pm" not in after["answer"]
    assert [s["source_id"] for s in after["sources"]] == [pair.id]

    hours = source_row(page, "Hours")
    hours.locator(".view-source").click()
    expect(page.locator("#source-text")).to_contain_text("On Saturdays we open from 10am to 4pm.")
    chunks = page.locator("#source-chunks .source-chunk")
    expect(chunks.first).to_contain_text("#1")
    expect(chunks.first).to_contain_text("Monday to Friday from 9am to 6pm")
    expect(page.locator("#source-chunks-label")).to_have_text("1 chunk.")
    screenshot(page, "sources-what-the-bot-learned")
    page.keyboard.press("Escape")
    expect(hours.locator(".view-source")).to_be_focused()

    hours.locator(".edit-source").click()
    expect(page.locator("#edit-text")).to_have_value(
        "Opening hours. Our shop in Lyon is open Monday to Friday from 9am to 6pm. On Saturdays "
        "we open from 10am to 4pm. We are closed on Sundays and public holidays."
    )
    page.fill("#edit-text", NEW_HOURS)
    page.click("#save-text")
    expect(page.locator("#edit-text")).to_have_count(0)
    expect_ready(page, "Hours")
    hours.locator(".view-source").click()
    expect(page.locator("#source-text")).to_have_text(NEW_HOURS)
    expect(page.locator("#source-chunks .source-chunk").first).to_contain_text("11am to 7pm")
    page.keyboard.press("Escape")

    log_out(page)
    log_in(page, f"agent-{label}@example.com")
    open_section(page, "Activity")
    page.locator(".conversation-open", has_text=SATURDAY).first.click()
    expect(page.locator("#conversation-messages .bubble-assistant").first).to_be_visible()
    expect(page.locator(".improve-answer")).to_have_count(0)
