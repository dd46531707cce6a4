"""The Analytics section in Chromium against the production build: a question asked in the
Playground is counted, a Q&A added from the missing-content report answers it afterwards, the
figures of seeded data over chosen ranges and scopes, roles, tenants and a phone-sized screen."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate, Conversation, Message, Source
from tests.e2e.dashboard_helpers import (
    log_in,
    log_out,
    new_tenant,
    open_section,
    screenshot,
    switch_bot,
)
from tests.utils.factories import PASSWORD

pytestmark = pytest.mark.e2e
QUESTION = "Do you sell gift cards?"
ANSWER = "Yes, gift cards from 10 to 200 euros are sold in the Lyon shop."
INGEST_DEADLINE_SECONDS = 90
FIRST_ANSWER_TIMEOUT_MS = 60_000


def stat(page: Page, name: str):
    return page.locator(f"#stat-{name}")


def open_analytics(page: Page) -> None:
    open_section(page, "Analytics")
    expect(page.locator("#analytics-loaded")).to_be_attached()


def choose_bot(page: Page, name: str) -> None:
    """Pick a bot in the navigation's switcher (the newest bot is chosen by default)."""
    switch_bot(page, name)
    expect(page.locator("#analytics-loaded")).to_be_attached()


def wait_until_ready(app_server, label: str, workspace_id: int, source_id: int) -> None:
    """Poll the source through the admin API until the running app's worker has indexed it."""
    with httpx.Client(base_url=app_server.base_url, timeout=10) as client:
        token = client.post(
            "/api/v1/auth/login", json={"email": f"owner-{label}@example.com", "password": PASSWORD}
        ).json()["token"]
        url = f"/api/v1/workspaces/{workspace_id}/sources/{source_id}"
        headers = {"Authorization": f"Bearer {token}"}
        deadline = datetime.now(UTC) + timedelta(seconds=INGEST_DEADLINE_SECONDS)
        status = "queued"
        while status in ("queued", "processing") and datetime.now(UTC) < deadline:
            status = client.get(url, headers=headers).json()["status"]
    assert status == "ready"


def test_a_playground_question_is_counted_and_a_qa_from_the_report_answers_it(page, app_server):
    label, tenant = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")

    open_section(page, "Playground")
    page.fill("#playground-question", QUESTION)
    page.click("#playground-send")
    # The first answer of a fresh server loads the embedding model: allow it time.
    expect(page.locator(".bubble-assistant .message-text").last).to_contain_text(
        "I don't have that information", timeout=FIRST_ANSWER_TIMEOUT_MS
    )

    open_analytics(page)
    expect(stat(page, "conversations")).to_have_text("1")
    expect(stat(page, "messages")).to_have_text("2")
    expect(stat(page, "unanswered")).to_have_text("100%")
    group = page.locator(".missing-group", has_text=QUESTION)
    expect(group.locator(".missing-count")).to_have_text("asked once")

    group.locator(".add-answer").click()
    expect(page.locator("#qa-question")).to_have_value(QUESTION)
    page.click("#qa-save")  # no answer yet: said next to the field, nothing saved
    expect(page.locator("#qa-answer-error")).to_contain_text("question and its answer")
    page.fill("#qa-answer", ANSWER)
    page.click("#qa-save")
    expect(page.get_by_text("Answer added: the bot learns it")).to_be_visible()
    expect(group.locator(".missing-covered")).to_be_visible()
    expect(group.locator(".add-answer")).to_have_count(0)

    with session_scope(get_engine(app_server.database_url)) as session:
        source = session.exec(select(Source).where(Source.bot_id == tenant.bot.id)).one()
    assert source.kind == "qa" and source.meta == {"question": QUESTION, "answer": ANSWER}
    wait_until_ready(app_server, label, tenant.workspace.id, source.id)
    # The playground, asked the same question again, now answers from the new Q&A pair.
    open_section(page, "Playground")
    page.click("#playground-reset")
    page.fill("#playground-question", QUESTION)
    page.click("#playground-send")
    expect(page.locator(".bubble-assistant .message-text").last).to_contain_text(
        "gift cards from 10 to 200 euros are sold in the Lyon shop"
    )


def add_conversation(
    session, tenant, bot_id, started: datetime, turns: list[tuple[str, bool, int]]
):
    """A visitor conversation: per turn a question and its answer (fell back?, feedback)."""
    conversation = Conversation(
        workspace_id=tenant.workspace.id,
        bot_id=bot_id,
        session_id=f"seed-{secrets.token_hex(6)}",
        started_at=started,
        last_message_at=started,
        message_count=2 * len(turns),
    )
    session.add(conversation)
    session.flush()
    for number, (question, fell_back, feedback) in enumerate(turns):
        when = started + timedelta(minutes=number)
        session.add_all(
            [
                Message(
                    workspace_id=tenant.workspace.id,
                    conversation_id=conversation.id,
                    role="user",
                    content=question,
                    created_at=when,
                ),
                Message(
                    workspace_id=tenant.workspace.id,
                    conversation_id=conversation.id,
                    role="assistant",
                    content="An answer.",
                    created_at=when + timedelta(seconds=1),
                    fell_back=fell_back,
                    feedback=feedback,
                ),
            ]
        )
        session.flush()  # ids in asking order: an answer's question is the message before it


@pytest.fixture
def seeded(app_server):
    """A bot with 4 conversations 2 days ago and 1 forty days ago (times at 14:00 UTC), a second
    bot with one conversation 2 days ago, and another workspace with one conversation."""
    label, tenant = new_tenant(app_server)
    _, stranger = new_tenant(app_server)
    midday = datetime.combine(datetime.now(UTC).date(), time(14), tzinfo=UTC)
    with session_scope(get_engine(app_server.database_url)) as session:
        second = bots.create_bot(session, tenant.owner, BotCreate(name=f"Second {label}"))
        recent = midday - timedelta(days=2)
        main = tenant.bot.id
        add_conversation(
            session,
            tenant,
            main,
            recent,
            [("What are your hours?", False, 1), ("Do you sell gift cards?", True, -1)],
        )
        add_conversation(session, tenant, main, recent, [("Where is the shop?", False, 1)])
        add_conversation(
            session, tenant, main, recent + timedelta(hours=1), [("Can I pay in bitcoin?", True, 0)]
        )
        add_conversation(
            session, tenant, main, recent + timedelta(hours=2), [("Do you ship abroad?", False, 0)]
        )
        add_conversation(
            session, tenant, main, midday - timedelta(days=40), [("Is there parking?", True, 0)]
        )
        add_conversation(session, tenant, second.id, recent, [("Hello?", False, 0)])
        add_conversation(
            session,
            stranger,
            stranger.bot.id,
            recent,
            [
                ("Do you rent bikes?", True, -1),
                ("What is the capital of Peru?", True, -1),
                ("Can I bring my dog?", True, -1),
            ],
        )
    return label, stranger


def test_figures_follow_the_range_and_the_scope(page, seeded):
    label, _ = seeded
    log_in(page, f"owner-{label}@example.com")
    open_analytics(page)
    choose_bot(page, f"Bot {label}")
    # Last 30 days: the 4 recent conversations of this bot, 5 questions, 2 fell back, 2 of 3
    # rated answers thumbs up; questions at 14:00 (3), 15:00 and 16:00 UTC.
    expect(stat(page, "conversations")).to_have_text("4")
    expect(stat(page, "messages")).to_have_text("10")
    expect(stat(page, "per-conversation")).to_have_text("2.5")
    expect(stat(page, "thumbs")).to_have_text("67%")
    expect(stat(page, "unanswered")).to_have_text("40%")
    expect(page.locator("#busiest-hours")).to_contain_text("14:00, 15:00, 16:00")
    expect(page.locator("#chart-daily")).to_be_visible()

    page.click("#range-preset")
    page.get_by_role("option", name="Last 90 days").click()
    expect(stat(page, "conversations")).to_have_text("5")
    expect(stat(page, "unanswered")).to_have_text("50%")

    page.click("#analytics-scope")
    page.get_by_role("option", name="All bots of the workspace").click()
    expect(stat(page, "conversations")).to_have_text("6")

    page.click("#range-preset")
    page.get_by_role("option", name="Custom range").click()
    today = datetime.now(UTC).date()
    page.fill("#range-start", str(today))
    page.fill("#range-end", str(today - timedelta(days=3)))
    page.click("#range-apply")
    expect(page.locator("#range-end-error")).to_have_text("The end date is before the start date.")
    expect(stat(page, "conversations")).to_have_text("6")  # nothing changed
    page.fill("#range-start", str(today - timedelta(days=41)))
    page.fill("#range-end", str(today - timedelta(days=39)))
    page.click("#range-apply")
    expect(page.locator("#range-end-error")).to_have_count(0)
    expect(stat(page, "conversations")).to_have_text("1")
    expect(page.locator("#range-shown")).to_contain_text(str(today - timedelta(days=41)))


def test_a_viewer_reads_the_report_without_adding_and_tenants_stay_apart(page, seeded):
    label, stranger = seeded
    log_in(page, f"viewer-{label}@example.com")
    open_analytics(page)
    choose_bot(page, f"Bot {label}")
    expect(stat(page, "conversations")).to_have_text("4")
    expect(page.locator(".missing-group").first).to_be_visible()
    expect(page.locator(".missing-group", has_text="Do you sell gift cards?")).to_have_count(1)
    expect(page.locator(".missing-group", has_text="Can I pay in bitcoin?")).to_have_count(1)
    expect(page.locator(".add-answer")).to_have_count(0)
    expect(page.get_by_text("Owners and admins can add answers.")).to_be_visible()

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/?$"))
    log_in(page, stranger.owner.email)
    open_analytics(page)
    expect(stat(page, "conversations")).to_have_text("1")
    expect(stat(page, "messages")).to_have_text("6")
    groups = page.locator("#missing-groups .missing-group")
    expect(groups).to_have_count(3)  # its own three questions; nothing of the other workspace


def test_the_page_fits_a_phone(browser, app_server, seeded):
    label, _ = seeded
    context = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    try:
        log_in(page, f"owner-{label}@example.com")
        page.goto("/analytics")
        expect(page.locator("#analytics-loaded")).to_be_attached()
        choose_bot(page, f"Bot {label}")
        expect(stat(page, "conversations")).to_have_text("4")
        expect(page.locator(".add-answer").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        context.close()


UNANSWERED = ["Do you sell gift cards?", "Can I buy a gift card?", "Is there parking nearby?"]


def test_a_busy_month_for_the_user_guide(page, app_server):
    """30 days of traffic with recurring unanswered questions: the screenshot of the user guide,
    and the figures and groups it shows checked against the seed."""
    label, tenant = new_tenant(app_server)
    today = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    conversations, asked = 0, {text: 0 for text in UNANSWERED}
    with session_scope(get_engine(app_server.database_url)) as session:
        for day in range(30):
            for number in range(3 + (day * 7) % 5):
                started = today - timedelta(days=day) + timedelta(hours=8 + (day + number) % 11)
                turns = [("What are your opening hours?", False, (number % 3 == 0) * 1)]
                if number % 2 == 0:
                    question = UNANSWERED[0] if number % 4 == 0 else UNANSWERED[(day % 2) + 1]
                    turns.append((question, True, -(day % 5 == 0)))
                    if started < datetime.now(UTC):
                        asked[question] += 1
                if started < datetime.now(UTC):
                    conversations += 1
                    add_conversation(session, tenant, tenant.bot.id, started, turns)
    log_in(page, f"owner-{label}@example.com")
    open_analytics(page)
    expect(stat(page, "conversations")).to_have_text(str(conversations))
    gift_cards = page.locator(".missing-group").first
    expect(gift_cards.locator(".missing-question")).to_have_text(UNANSWERED[0])
    count = asked[UNANSWERED[0]] + asked[UNANSWERED[1]]
    expect(gift_cards.locator(".missing-count")).to_have_text(f"asked {count} times")
    expect(page.locator(".missing-group")).to_have_count(2)
    page.locator("#chart-daily .barlayer .point").first.wait_for(state="attached")  # drawn
    screenshot(page, "analytics")
