"""The Playground in a real browser against the running app: streamed, cited answers from the
bot's sources (offline, and through an OpenAI-compatible LLM on loopback), settings tried, retried
and saved, a new conversation, and what a viewer may do."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import providers
from chatapp.services.knowledge import sources
from chatapp.services.models import Bot, Conversation, Source
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.utils.factories import Tenant
from tests.utils.fake_llm import fake_llm_server

pytestmark = pytest.mark.e2e

HOURS = (
    "Opening hours. Our shop in Lyon is open Monday to Friday from 9am to 6pm. On Saturdays we "
    "open from 10am to 4pm. We are closed on Sundays and public holidays."
)
RETURNS = (
    "Returns policy. You can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging."
)
READY_DEADLINE_SECONDS = 180
ANSWER_MS = 60_000  # an answer on a busy 2-core machine (the model embeds the question)


def shop_tenant(app_server) -> tuple[str, Tenant]:
    """A tenant whose bot knows the shop's hours and returns policy, indexed by the app itself."""
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        for title, text in (("Hours", HOURS), ("Returns", RETURNS)):
            sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text)
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while True:  # the app's own ingest worker picks them up; poll until both are ready
        with session_scope(engine) as session:
            statuses = session.exec(
                select(Source.status).where(Source.bot_id == tenant.bot.id)
            ).all()
        if statuses and all(status == "ready" for status in statuses):
            return label, tenant
        assert "error" not in statuses, statuses
        assert time.monotonic() < deadline, f"sources not ready in time: {statuses}"
        time.sleep(0.2)  # poll interval


def playground_messages(app_server, tenant: Tenant) -> int:
    """Messages stored in the bot's playground conversations."""
    with session_scope(get_engine(app_server.database_url)) as session:
        counts = session.exec(
            select(Conversation.message_count).where(
                Conversation.bot_id == tenant.bot.id, Conversation.channel == "playground"
            )
        ).all()
    return sum(counts)


def ask(page: Page, question: str) -> None:
    page.fill("#playground-question", question)
    page.click("#playground-send")


def answers(page: Page):
    return page.locator("#playground-messages .bubble-assistant")


def test_owner_chats_tries_settings_saves_them_and_starts_over(page, app_server):
    label, tenant = shop_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Playground")
    expect(page.locator("#playground-offline")).to_be_visible()

    ask(page, "When are you open on Saturdays?")
    expect(page.locator("#playground-messages .bubble-user")).to_have_text(
        re.compile("When are you open on Saturdays")
    )
    answer = answers(page).first
    expect(answer.locator(".message-text")).to_contain_text("10am", timeout=ANSWER_MS)
    expect(answer.locator(".message-text")).to_contain_text("[1]", timeout=ANSWER_MS)
    expect(answer.locator(".citation").first).to_contain_text("Hours")
    passages = page.locator("#playground-passages .citation")
    expect(passages.first).to_contain_text(re.compile(r"(strong|weak) match"))
    expect(passages.first).not_to_contain_text("score")  # plain words, never a number
    expect(passages.first).to_contain_text("Saturdays")
    screenshot(page, "playground")

    # A wrong temperature is named next to its field and blocks saving.
    page.fill("#playground-temp", "5")
    expect(page.locator("#playground-temp-error")).to_have_text(
        "Temperature must be between 0 and 2."
    )
    expect(page.locator("#playground-save")).to_be_disabled()
    page.fill("#playground-temp", "0.7")
    expect(page.locator("#playground-temp-error")).to_have_count(0)

    page.fill("#playground-instructions", "Answer in one short sentence.")
    expect(page.locator("#playground-unsaved")).to_be_visible()
    page.click("#playground-retry")
    wait_until(lambda: playground_messages(app_server, tenant) == 4)  # asked again
    expect(answers(page)).to_have_count(1)  # the answer was replaced, not added
    expect(answers(page).first.locator(".message-text")).to_contain_text("10am", timeout=ANSWER_MS)
    expect(page.locator("#playground-messages .bubble-user")).to_have_count(1)

    page.click("#playground-save")
    expect(page.get_by_text(f"Saved to Bot {label}.")).to_be_visible()
    expect(page.locator("#playground-unsaved")).to_have_count(0)
    with session_scope(get_engine(app_server.database_url)) as session:
        bot = session.get(Bot, tenant.bot.id)
        assert (bot.instructions, bot.temperature) == ("Answer in one short sentence.", 0.7)

    ask(page, "And how long do I have to return an item?")
    expect(answers(page)).to_have_count(2)
    expect(answers(page).nth(1).locator(".message-text")).to_contain_text(
        "30 days", timeout=ANSWER_MS
    )

    page.click("#playground-reset")
    expect(page.locator("#playground-empty")).to_be_visible()
    expect(page.locator("#playground-messages .bubble")).to_have_count(0)

    # An empty question is refused next to the box.
    page.click("#playground-send")
    expect(page.locator("#playground-question-error")).to_have_text("Type a question first.")

    ask(page, "Are you open on Sundays?")  # after the reset: a conversation of its own
    expect(answers(page)).to_have_count(1, timeout=ANSWER_MS)
    expect(page.locator("#playground-question-error")).to_have_count(0)
    with session_scope(get_engine(app_server.database_url)) as session:
        sessions = session.exec(
            select(Conversation.message_count).where(
                Conversation.bot_id == tenant.bot.id, Conversation.channel == "playground"
            )
        ).all()
    assert sorted(sessions) == [2, 6]


def test_a_viewer_chats_but_cannot_save_settings(page, app_server):
    label, _ = shop_tenant(app_server)
    log_in(page, f"viewer-{label}@example.com")
    open_section(page, "Playground")
    ask(page, "Can I return an item?")
    expect(answers(page).first.locator(".message-text")).to_contain_text(
        "30 days", timeout=ANSWER_MS
    )
    page.fill("#playground-instructions", "Be brief.")
    expect(page.locator("#playground-save-note")).to_be_visible()
    expect(page.locator("#playground-save")).to_have_count(0)


def test_on_a_phone_the_chat_and_settings_stack(browser, app_server):
    label, _ = shop_tenant(app_server)
    context = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 390, "height": 844}
    )
    phone = context.new_page()
    try:
        log_in(phone, f"agent-{label}@example.com")
        phone.goto("/playground")
        ask(phone, "Are you open on Sundays?")
        expect(answers(phone).first.locator(".message-text")).to_contain_text(
            "Sundays", timeout=ANSWER_MS
        )
        question = phone.locator("#playground-question").bounding_box()
        settings = phone.locator("#playground-instructions").bounding_box()
        assert question["x"] + question["width"] <= 390
        assert settings["y"] > question["y"]  # below the chat, not squeezed beside it
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
    finally:
        context.close()


# Where the chat's scroll box stands: how far from its bottom, and whether the newest bubble's
# bottom edge is inside the box.
SCROLL_STATE = """() => {
    const box = document.getElementById('playground-messages');
    const bubbles = box.querySelectorAll('.bubble');
    const last = bubbles[bubbles.length - 1].getBoundingClientRect();
    const frame = box.getBoundingClientRect();
    return {
        fromBottom: box.scrollHeight - box.scrollTop - box.clientHeight,
        scrollTop: box.scrollTop,
        overflows: box.scrollHeight > box.clientHeight,
        newestInView: last.bottom <= frame.bottom + 1 && last.top >= frame.top - 1,
    };
}"""


def test_the_chat_follows_the_newest_answer_unless_the_owner_scrolled_up(page, app_server):
    label, _ = shop_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Playground")
    questions = [
        "When are you open on Saturdays?",
        "How long do I have to return an item?",
        "Are you open on Sundays?",
        "Can I return an item that I used?",
    ]
    for number, question in enumerate(questions, start=1):
        ask(page, question)
        expect(answers(page)).to_have_count(number, timeout=ANSWER_MS)
        page.wait_for_function(
            "() => !document.querySelector('#playground-messages .bubble-streaming')"
        )
        state = page.evaluate(SCROLL_STATE)
        assert state["newestInView"] and state["fromBottom"] <= 2, (number, state)
    assert state["overflows"], state  # four answers do not fit: the box did scroll

    # Scrolled up to re-read the first answer, the owner keeps that view while the next arrives.
    page.evaluate("document.getElementById('playground-messages').scrollTop = 0")
    page.wait_for_function("document.getElementById('playground-messages').scrollTop === 0")
    ask(page, "Where is your shop?")
    expect(answers(page)).to_have_count(5, timeout=ANSWER_MS)
    page.wait_for_function(
        "() => !document.querySelector('#playground-messages .bubble-streaming')"
    )
    state = page.evaluate(SCROLL_STATE)
    assert state["scrollTop"] == 0 and not state["newestInView"], state


def test_offline_retry_with_these_settings_is_disabled_with_the_reason(page, app_server):
    label, _ = shop_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Playground")
    expect(page.locator("#playground-offline")).to_be_visible()
    ask(page, "When are you open on Saturdays?")
    expect(answers(page)).to_have_count(1, timeout=ANSWER_MS)
    expect(page.locator("#playground-retry")).to_be_enabled()  # asking again still works
    expect(page.locator("#playground-retry-settings")).to_be_disabled()
    expect(page.locator("#playground-retry-settings-note")).to_have_text(
        "Offline mode: these settings change nothing until an LLM provider is set in Settings."
    )


@pytest.fixture
def llm(monkeypatch):
    """A loopback OpenAI-compatible server; admitting loopback URLs in this process only."""
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with fake_llm_server() as server:
        yield server


def test_with_an_llm_answers_stream_token_by_token_with_the_tried_settings(page, app_server, llm):
    label, tenant = shop_tenant(app_server)
    with session_scope(get_engine(app_server.database_url)) as session:
        providers.set_provider(session, tenant.owner, base_url=llm.base_url, model="shop-model")
    llm.reply = "On Saturdays the shop opens from 10am to 4pm [1]. See you soon then!"
    llm.token_delay = 0.3

    log_in(page, f"admin-{label}@example.com")
    open_section(page, "Playground")
    expect(page.get_by_text("Answers by shop-model")).to_be_visible()
    page.fill("#playground-instructions", "Always greet the visitor warmly.")
    page.fill("#playground-model", "tried-model")
    page.fill("#playground-temp", "1.3")
    ask(page, "When are you open on Saturdays?")

    streaming = page.locator("#playground-messages .bubble-streaming")
    expect(streaming).to_contain_text("Saturdays the shop", timeout=ANSWER_MS)
    assert "soon then!" not in streaming.inner_text()  # seen while still arriving
    answer = answers(page).first
    expect(answer.locator(".message-text")).to_have_text(llm.reply, timeout=ANSWER_MS)
    expect(answer.locator(".citation").first).to_contain_text("Hours")
    expect(streaming).to_have_count(0)

    sent = llm.chat_requests(stream=True)[-1]
    assert sent["temperature"] == 1.3
    assert sent["model"] == "tried-model"
    system = " ".join(m["content"] for m in sent["messages"] if m["role"] == "system")
    assert "Always greet the visitor warmly." in system

    llm.token_delay = 0.0
    page.fill("#playground-temp", "0.2")
    page.click("#playground-retry-settings")
    wait_until(lambda: len(llm.chat_requests(stream=True)) == 2)
    assert llm.chat_requests(stream=True)[-1]["temperature"] == 0.2
    expect(answers(page)).to_have_count(1)
    expect(answers(page).first.locator(".message-text")).to_have_text(llm.reply, timeout=ANSWER_MS)


def wait_until(condition, timeout: float = 30.0) -> None:
    """Poll a condition (in this process) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)  # poll interval
