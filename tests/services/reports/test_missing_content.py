"""The missing-content report on SQLite and PostgreSQL: questions the real chat pipeline could not
answer, grouped by meaning with the local embedder, and a Q&A added from a group answering it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.models import Conversation, Message, Role
from chatapp.services.reports.analytics import DateRange
from chatapp.services.reports.missing_content import (
    AskedQuestion,
    forget_cached_vectors,
    group_questions,
    missing_content,
    unanswered_questions,
)
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant
from tests.utils.knowledge import ask, new_session_id


def today() -> DateRange:
    """Computed per use: a run that crosses midnight UTC must not look at yesterday."""
    return DateRange.last(1)


@pytest.fixture(autouse=True)
def cold_cache():
    forget_cached_vectors()
    yield
    forget_cached_vectors()


def report(shop, role=Role.OWNER, period=None, **extra):
    period = period or today()
    with session_scope() as session:
        return missing_content(
            session, shop.tenant.actor(role), bot_id=shop.bot_id, period=period, **extra
        )


def test_the_questions_whose_answer_fell_back_are_the_unanswered_ones(shop_bot):
    visitor = new_session_id()
    assert ask(shop_bot, "What are your opening hours?", visitor).answered
    assert not ask(shop_bot, "What is the capital of Peru?", visitor).answered
    assert ask(shop_bot, "Do you ship to Canada?").answered
    assert not ask(shop_bot, "Do you sell gift cards?").answered
    with session_scope() as session:
        asked = unanswered_questions(session, shop_bot.tenant.viewer, shop_bot.bot_id, today())
    assert [item.text for item in asked] == [
        "Do you sell gift cards?",
        "What is the capital of Peru?",
    ]


def test_similar_questions_are_grouped_with_their_counts(shop_bot):
    questions = [
        ("Do you ship to Canada?", 3),
        ("do you  SHIP to canada?", 1),  # the same text, differently typed
        ("Can you deliver to Canada?", 1),
        ("Can I pay with PayPal?", 2),
        ("Do you accept PayPal?", 1),
        ("Can I pay with bitcoin?", 1),
        ("Where is my order 48213?", 1),
        ("where is my order 99120 ?", 1),  # the same question: numbers do not count
    ]
    now = datetime.now(UTC)
    asked = [
        AskedQuestion(text, now - timedelta(minutes=number))
        for number, (text, times) in enumerate(questions)
        for _ in range(times)
    ]
    groups, leaders = group_questions(asked, get_embedder())
    summary = [(g.question, g.count, sorted(g.examples)) for g in groups]
    assert summary == [
        ("Do you ship to Canada?", 5, ["Can you deliver to Canada?"]),
        ("Can I pay with PayPal?", 3, ["Do you accept PayPal?"]),
        ("Where is my order 48213?", 2, []),
        ("Can I pay with bitcoin?", 1, []),
    ]
    assert groups[0].last_asked == now  # the most recent of its wordings
    assert leaders.shape == (4, get_embedder().dim)


def test_the_report_reads_the_database_groups_and_keeps_to_the_range(shop_bot):
    questions = ["Do you sell gift cards?", "Can I buy a gift card?", "Is there parking nearby?"]
    for text in questions + questions[:1]:
        assert not ask(shop_bot, text).answered
    yesterday = DateRange.last(1, date.today() - timedelta(days=1))
    assert report(shop_bot, period=yesterday) == []
    groups = report(shop_bot, role=Role.VIEWER)
    assert [(g.question, g.count) for g in groups] == [
        ("Do you sell gift cards?", 3),
        ("Is there parking nearby?", 1),
    ]
    assert groups[0].examples == ["Can I buy a gift card?"]
    assert not groups[0].covered


def test_only_the_most_recent_questions_are_read(shop_bot):
    for text in [
        "Do you sell gift cards?",
        "Is there parking nearby?",
        "What is your phone number?",
    ]:
        assert not ask(shop_bot, text).answered
    groups = report(shop_bot, limit=2)
    assert sorted(g.question for g in groups) == [
        "Is there parking nearby?",
        "What is your phone number?",
    ]


def test_a_qa_added_from_a_group_answers_the_question_and_covers_the_group(shop_bot):
    assert not ask(shop_bot, "Do you sell gift cards?").answered
    group = report(shop_bot)[0]
    with session_scope() as session:
        sources.add_qa(
            session,
            shop_bot.tenant.admin,
            shop_bot.bot_id,
            question=group.question,
            answer="Yes, gift cards from 10 to 200 euros are sold in the Lyon shop.",
        )
    worker.run_until_idle()
    again = ask(shop_bot, "Do you sell gift cards?")
    assert again.answered and "gift cards from 10 to 200 euros" in again.answer
    # The old question stays in the report, marked as answered since.
    groups = report(shop_bot)
    assert [(g.question, g.count, g.covered) for g in groups] == [
        ("Do you sell gift cards?", 1, True)
    ]


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_read_the_report_but_cannot_add_answers(shop_bot, role):
    assert not ask(shop_bot, "Do you sell gift cards?").answered
    assert [g.question for g in report(shop_bot, role=role)] == ["Do you sell gift cards?"]
    with session_scope() as session, pytest.raises(PermissionDenied):
        sources.add_qa(
            session,
            shop_bot.tenant.actor(role),
            shop_bot.bot_id,
            question="Gift cards?",
            answer="Yes.",
        )


def test_another_workspace_cannot_read_a_bots_questions(shop_bot):
    assert not ask(shop_bot, "Do you sell gift cards?").answered
    with session_scope() as session:
        stranger = make_tenant(session, "b")
        with pytest.raises(NotFound):
            missing_content(session, stranger.owner, bot_id=shop_bot.bot_id, period=today())
        theirs = missing_content(session, stranger.owner, bot_id=stranger.bot.id, period=today())
        assert theirs == []
        # A fallback with no question in its own conversation never borrows one from elsewhere.
        own = Conversation(
            workspace_id=stranger.workspace.id, bot_id=stranger.bot.id, session_id="x" * 8
        )
        session.add(own)
        session.flush()
        session.add(
            Message(
                workspace_id=stranger.workspace.id,
                conversation_id=own.id,
                role="assistant",
                content="fallback",
                fell_back=True,
            )
        )
        session.flush()
        theirs = missing_content(session, stranger.owner, bot_id=stranger.bot.id, period=today())
        assert theirs == []
