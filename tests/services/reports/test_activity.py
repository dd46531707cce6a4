"""Activity: listing, search, filters, paging, the conversation view and exports, per workspace.

Conversations are stored through the chat's own storage functions (`conversations.py`); only
their times are moved into the past, to test the date filters.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from chatapp.core.errors import NotFound, ValidationFailed
from chatapp.services.bots import bots
from chatapp.services.chat import conversations
from chatapp.services.models import Bot, BotCreate, Conversation, Message, Role
from chatapp.services.reports import activity, activity_export
from chatapp.services.reports.activity import ActivityFilter
from tests.utils.factories import make_tenant

CITATION = {"n": 1, "title": "Hours", "snippet": "Open 9 to 6", "strength": "strong", "url": ""}


def talk(
    session,
    bot: Bot,
    question: str,
    answer: str = "Here is the answer [1].",
    *,
    fell_back: bool = False,
    feedback: int = 0,
    when: datetime | None = None,
    channel: str = "widget",
) -> Conversation:
    """One visitor conversation with a question and its answer, stored as the chat stores them."""
    conversation = conversations.find_or_create(session, bot, "s-" + secrets.token_hex(6), channel)
    conversations.add_user_message(session, conversation, question, None)
    answer_id = conversations.add_answer(
        session,
        conversation,
        conversations.Answer(
            answer, [] if fell_back else [CITATION], fell_back, "extractive", 5, 1, 0, 0
        ),
        None,
    )
    if feedback:
        conversations.set_feedback(
            session,
            bot=bot,
            session_id=conversation.session_id,
            message_id=answer_id,
            rating=feedback,
        )
    if when is not None:
        _move_to(session, conversation.id, when)
    session.flush()
    session.expire_all()
    return session.get(Conversation, conversation.id)


def _move_to(session, conversation_id: int, when: datetime) -> None:
    conversation = session.get(Conversation, conversation_id)
    conversation.started_at = conversation.last_message_at = when
    for number, message in enumerate(
        session.exec(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
    ):
        message.created_at = conversation.last_message_at = when + timedelta(seconds=number)
        session.add(message)
    session.add(conversation)


@pytest.fixture
def tenants(session):
    return make_tenant(session, "a"), make_tenant(session, "b")


def only(bot_id: int, **kwargs) -> ActivityFilter:
    return ActivityFilter(bot_id=bot_id, **kwargs)


def test_newest_first_with_counts_feedback_fallback_and_first_question(session, tenants):
    a, _ = tenants
    old = talk(session, a.bot, "Where is the shop?", when=datetime(2026, 1, 5, 10, tzinfo=UTC))
    rated = talk(session, a.bot, "When do you open?", feedback=1)
    fell = talk(session, a.bot, "Do you sell cars?", fell_back=True, feedback=-1)

    page = activity.list_conversations(session, a.viewer, only(a.bot.id))

    assert [row.id for row in page.rows] == [fell.id, rated.id, old.id]
    assert page.total == 3 and page.pages == 1
    first = page.rows[0]
    assert (first.first_question, first.message_count, first.channel) == (
        "Do you sell cars?",
        2,
        "widget",
    )
    assert (first.thumbs_up, first.thumbs_down, first.fallbacks) == (0, 1, 1)
    assert (page.rows[1].thumbs_up, page.rows[1].fallbacks) == (1, 0)
    assert first.bot_name == "Bot a"
    assert page.rows[2].last_message_at == datetime(2026, 1, 5, 10, 0, 1, tzinfo=UTC)


def test_search_matches_questions_and_answers_case_insensitively(session, tenants):
    a, _ = tenants
    parking = talk(session, a.bot, "Can I PARK near the shop?", "Free parking behind it [1].")
    refund = talk(session, a.bot, "Refunds?", "Returns within 30 days get 100% back.")
    talk(session, a.bot, "Hello")

    def found(term: str) -> list[int]:
        return [
            r.id
            for r in activity.list_conversations(session, a.owner, only(a.bot.id, search=term)).rows
        ]

    assert found("park") == [parking.id]
    assert found("BEHIND IT") == [parking.id]
    assert found("100%") == [refund.id]
    assert found("1_0") == []  # LIKE wildcards are taken literally
    assert found("%") == [refund.id]
    assert found("nowhere to be found") == []


def test_filters_unanswered_feedback_channel_and_bot(session, tenants):
    a, _ = tenants
    second = bots.create_bot(session, a.owner, BotCreate(name="Second"))
    happy = talk(session, a.bot, "q1", feedback=1)
    sad = talk(session, a.bot, "q2", feedback=-1)
    lost = talk(session, a.bot, "q3", fell_back=True)
    tried = talk(session, a.bot, "q4", channel="playground")
    other = talk(session, second, "q5", fell_back=True)

    def ids(**kwargs) -> set[int]:
        filters = ActivityFilter(**{"bot_id": a.bot.id, **kwargs})
        return {r.id for r in activity.list_conversations(session, a.agent, filters).rows}

    assert ids(unanswered=True) == {lost.id}
    assert ids(feedback="up") == {happy.id}
    assert ids(feedback="down") == {sad.id}
    assert ids(feedback="rated") == {happy.id, sad.id}
    assert ids(channel="playground") == {tried.id}
    assert ids(bot_id=second.id) == {other.id}
    assert ids(bot_id=None, unanswered=True) == {lost.id, other.id}
    assert ids(bot_id=None) == {happy.id, sad.id, lost.id, tried.id, other.id}


def test_date_range_is_inclusive_of_whole_utc_days(session, tenants):
    a, _ = tenants
    early = talk(session, a.bot, "march 1", when=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    late = talk(session, a.bot, "march 3", when=datetime(2026, 3, 3, 23, 59, tzinfo=UTC))
    talk(session, a.bot, "march 5", when=datetime(2026, 3, 5, 12, tzinfo=UTC))

    def ids(start: date | None, end: date | None) -> list[int]:
        filters = only(a.bot.id, date_from=start, date_to=end)
        return [r.id for r in activity.list_conversations(session, a.owner, filters).rows]

    assert ids(date(2026, 3, 1), date(2026, 3, 3)) == [late.id, early.id]
    assert ids(date(2026, 3, 2), date(2026, 3, 2)) == []
    assert ids(None, date(2026, 3, 1)) == [early.id]
    assert len(ids(date(2026, 3, 4), None)) == 1


def test_paging_covers_every_conversation_once_and_clamps_the_page(session, tenants):
    a, _ = tenants
    start = datetime(2026, 2, 1, tzinfo=UTC)
    made = [talk(session, a.bot, f"q{i}", when=start + timedelta(minutes=i)).id for i in range(53)]
    seen = []
    for number in (1, 2, 3):
        page = activity.list_conversations(
            session, a.owner, only(a.bot.id), page=number, page_size=25
        )
        assert (page.total, page.pages, page.page) == (53, 3, number)
        seen += [row.id for row in page.rows]
    assert seen == made[::-1]
    beyond = activity.list_conversations(session, a.owner, only(a.bot.id), page=9, page_size=25)
    assert beyond.page == 3 and len(beyond.rows) == 3


def test_a_page_is_two_queries_whatever_its_size(session, tenants, engine):
    a, _ = tenants
    for i in range(30):
        talk(session, a.bot, f"question {i}", feedback=1 if i % 2 else -1)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    session.flush()
    event.listen(engine, "before_cursor_execute", record)
    try:
        activity.list_conversations(session, a.owner, ActivityFilter(), page_size=25)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements  # the count and the page, not one per row


def test_conversation_view_has_every_message_with_time_and_citations(session, tenants):
    a, _ = tenants
    when = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    conversation = talk(session, a.bot, "When do you open?", "From 9am [1].", when=when)

    detail = activity.get_conversation(session, a.viewer, conversation.id)

    assert detail.row.id == conversation.id
    assert [(m.role, m.content) for m in detail.messages] == [
        ("user", "When do you open?"),
        ("assistant", "From 9am [1]."),
    ]
    assert detail.messages[0].created_at == when
    assert detail.messages[1].citations == [CITATION]


def test_export_csv_has_one_row_per_message_and_defuses_formulas(session, tenants):
    a, _ = tenants
    talk(session, a.bot, '=HYPERLINK("http://evil")', "No idea.", fell_back=True)
    talk(session, a.bot, "Hours?", "9 to 6 [1].", feedback=1)

    export = activity_export.export_conversations(session, a.viewer, only(a.bot.id), "csv")

    rows = list(csv.DictReader(io.StringIO(export.content)))
    assert export.filename.endswith(".csv") and export.mime_type == "text/csv"
    assert (export.conversations, export.messages, export.truncated) == (2, 4, False)
    assert [(r["role"], r["content"]) for r in rows] == [
        ("user", "Hours?"),
        ("assistant", "9 to 6 [1]."),
        ("user", '\'=HYPERLINK("http://evil")'),
        ("assistant", "No idea."),
    ]
    assert rows[1]["feedback"] == "up" and rows[1]["citations"] == "[1] Hours"
    assert rows[3]["fell_back"] == "yes"


def test_export_json_nests_messages_and_stops_at_the_cap(session, tenants):
    a, _ = tenants
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for i in range(5):
        talk(session, a.bot, f"question {i}", when=start + timedelta(hours=i))

    export = activity_export.export_conversations(
        session, a.owner, only(a.bot.id), "json", max_messages=7
    )

    document = json.loads(export.content)
    assert document["truncated"] is True and export.truncated
    questions = [c["messages"][0]["content"] for c in document["conversations"]]
    assert questions == ["question 4", "question 3", "question 2"]  # whole, newest first
    assert document["conversations"][0]["messages"][1]["citations"] == [CITATION]


def test_filters_that_mean_nothing_are_refused(session, tenants):
    a, _ = tenants
    with pytest.raises(ValidationFailed, match="start date is after"):
        activity.list_conversations(
            session, a.owner, ActivityFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
        )
    with pytest.raises(ValidationFailed):
        activity.list_conversations(session, a.owner, ActivityFilter(feedback="meh"))
    with pytest.raises(ValidationFailed):
        activity.list_conversations(session, a.owner, ActivityFilter(search="x" * 201))
    with pytest.raises(ValidationFailed):
        activity_export.export_conversations(session, a.owner, ActivityFilter(), "xml")


@pytest.mark.parametrize("role", list(Role))
def test_no_member_of_a_sees_anything_of_b(session, tenants, role):
    a, b = tenants
    mine = talk(session, a.bot, "our own question")
    theirs = talk(session, b.bot, "secret question of b", fell_back=True)
    actor = a.actor(role)

    listed = activity.list_conversations(session, actor, ActivityFilter())
    assert [row.id for row in listed.rows] == [mine.id]
    assert activity.list_conversations(session, actor, ActivityFilter(search="secret")).total == 0
    with pytest.raises(NotFound):
        activity.list_conversations(session, actor, ActivityFilter(bot_id=b.bot.id))
    with pytest.raises(NotFound):
        activity.get_conversation(session, actor, theirs.id)
    with pytest.raises(NotFound):
        activity_export.export_conversations(
            session, actor, ActivityFilter(bot_id=b.bot.id), "json"
        )
    exported = activity_export.export_conversations(session, actor, ActivityFilter(), "json")
    assert "secret question" not in exported.content
