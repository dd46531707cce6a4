"""Activity: the conversations of a workspace's bots, listed, searched, filtered and read.

Why its own module: the chat writes conversations (`conversations.py`); people read them back here,
and reading thousands of them must stay fast. Every listing is one page query (the page's rows
chosen with LIMIT/OFFSET in a subquery, their feedback, fallback and first question computed in
the same statement for just those rows, never N+1) plus one count. Search is a case-insensitive
substring match over message text (LIKE on SQLite, ILIKE on PostgreSQL): see MEASURED below.
Exports of the same selection are built by `activity_export.py`.

MEASURED on this 2-core machine, one bot with 25,000 conversations and 100,000 messages: a page
8-30 ms (SQLite and PostgreSQL alike, any page number), a search 100-230 ms (a full scan of the
message text: no index needed at this size), the unanswered/feedback filters 25-60 ms, a
10,000-message export (activity_export.py) 0.4-1.4 s. PostgreSQL needs its statistics
(autovacuum's ANALYZE) after a bulk load, or it may plan the message subqueries as nested loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.models import Bot, Conversation, Message

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_SEARCH_CHARS = 200
FEEDBACK_CHOICES = ("any", "up", "down", "rated")
CHANNEL_CHOICES = ("", "widget", "playground", "api", "openai", "chatbase")
QUESTION_PREVIEW_CHARS = 160


@dataclass(frozen=True)
class ActivityFilter:
    """What to show. `bot_id` None means every bot of the workspace; dates are UTC days."""

    bot_id: int | None = None
    search: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    feedback: str = "any"  # any, up (a thumbs up), down (a thumbs down), rated (either)
    unanswered: bool = False  # only conversations where an answer fell back
    channel: str = ""  # "" = every channel
    channels: tuple[str, ...] = ()  # () = every channel; else any of these (APIs filter by several)
    audience: str = ""  # "" = every audience; else a conversation.audience key


@dataclass(frozen=True)
class ConversationRow:
    id: int
    bot_id: int
    bot_name: str
    session_id: str
    channel: str
    status: str
    started_at: datetime
    last_message_at: datetime
    message_count: int
    thumbs_up: int
    thumbs_down: int
    fallbacks: int
    first_question: str
    audience: str = ""  # the conversation's audience key (seed 003)


@dataclass(frozen=True)
class ActivityPage:
    rows: list[ConversationRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True)
class MessageView:
    id: int
    role: str
    content: str
    created_at: datetime
    citations: list[dict[str, Any]]
    feedback: int
    fell_back: bool
    model: str
    routed_bot: str = ""  # a router bot's answer: the name of the bot that answered


@dataclass(frozen=True)
class ConversationDetail:
    row: ConversationRow
    messages: list[MessageView] = field(default_factory=list)


# ------------------------------------------------------------------------------------ filters


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_filter(session: Session, actor: Actor, filters: ActivityFilter) -> None:
    """Refuse filters that cannot mean anything, with a sentence saying which and why."""
    if len(filters.search) > MAX_SEARCH_CHARS:
        raise ValidationFailed(f"Search for at most {MAX_SEARCH_CHARS} characters.")
    if filters.feedback not in FEEDBACK_CHOICES:
        raise ValidationFailed("Feedback must be any, up, down or rated.")
    if len(filters.audience) > 40:
        raise ValidationFailed("Audience keys have at most 40 characters.")
    if filters.channel not in CHANNEL_CHOICES or not set(filters.channels) <= set(CHANNEL_CHOICES):
        raise ValidationFailed("Channel must be widget, playground, api, openai or chatbase.")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailed("The start date is after the end date.")
    if filters.bot_id is not None:
        get_scoped(session, actor, Bot, filters.bot_id, "Bot")


def conditions(actor: Actor, filters: ActivityFilter) -> list:
    """WHERE clauses on Conversation; message conditions become `id IN (subquery)`."""
    where: list[Any] = [Conversation.workspace_id == actor.workspace_id]
    if filters.bot_id is not None:
        where.append(Conversation.bot_id == filters.bot_id)
    if filters.channel:
        where.append(Conversation.channel == filters.channel)
    if filters.channels:
        where.append(col(Conversation.channel).in_(filters.channels))
    if filters.audience:
        where.append(Conversation.audience == filters.audience)
    if filters.date_from:  # had messages on or after the first day...
        where.append(Conversation.last_message_at >= _day_start(filters.date_from))
    if filters.date_to:  # ...and started before the day after the last one
        where.append(Conversation.started_at < _day_start(filters.date_to + timedelta(days=1)))

    def having_message(*about_message) -> Any:
        matching = select(Message.conversation_id).where(
            Message.workspace_id == actor.workspace_id, *about_message
        )
        return col(Conversation.id).in_(matching)

    term = filters.search.strip()
    if term:
        where.append(having_message(col(Message.content).ilike(_like_pattern(term), escape="\\")))
    if filters.unanswered:
        where.append(having_message(col(Message.fell_back).is_(True)))
    if filters.feedback == "up":
        where.append(having_message(Message.feedback == 1))
    elif filters.feedback == "down":
        where.append(having_message(Message.feedback == -1))
    elif filters.feedback == "rated":
        where.append(having_message(Message.feedback != 0))
    return where


# ------------------------------------------------------------------------------------ listing


def _rows_for(session: Session, chosen) -> list[ConversationRow]:
    """The listing columns for the conversations of `chosen` (a subquery of ids, in order)."""

    def per_conversation(expression, *about_message):
        return (
            select(expression)
            .where(Message.conversation_id == chosen.c.id, *about_message)
            .scalar_subquery()
        )

    thumbs_up = per_conversation(func.count(), Message.feedback == 1)
    thumbs_down = per_conversation(func.count(), Message.feedback == -1)
    fallbacks = per_conversation(func.count(), col(Message.fell_back).is_(True))
    first_question = (
        select(func.substr(Message.content, 1, QUESTION_PREVIEW_CHARS))
        .where(Message.conversation_id == chosen.c.id, Message.role == "user")
        .order_by(col(Message.id))
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        select(
            Conversation,
            Bot.name,
            thumbs_up,
            thumbs_down,
            fallbacks,
            first_question,
        )
        .join(chosen, chosen.c.id == Conversation.id)
        .join(Bot, Bot.id == Conversation.bot_id)
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
    )
    rows = []
    for conversation, bot_name, up, down, fell, question in session.exec(statement):
        rows.append(
            ConversationRow(
                id=conversation.id,
                bot_id=conversation.bot_id,
                bot_name=bot_name,
                session_id=conversation.session_id,
                channel=conversation.channel,
                status=conversation.status,
                started_at=aware(conversation.started_at),
                last_message_at=aware(conversation.last_message_at),
                message_count=conversation.message_count,
                thumbs_up=int(up or 0),
                thumbs_down=int(down or 0),
                fallbacks=int(fell or 0),
                first_question=question or "",
                audience=conversation.audience,
            )
        )
    return rows


def aware(moment: datetime) -> datetime:
    """Times read back from SQLite may lack their zone; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_conversations(
    session: Session,
    actor: Actor,
    filters: ActivityFilter,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> ActivityPage:
    """One page of matching conversations, newest activity first, with the total count."""
    actor.require(Permission.READ)
    check_filter(session, actor, filters)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    where = conditions(actor, filters)
    total = session.exec(select(func.count()).select_from(Conversation).where(*where)).one()
    pages = max(1, math.ceil(total / page_size))
    page = max(1, min(page, pages))
    chosen = (
        select(Conversation.id)
        .where(*where)
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("chosen")
    )
    return ActivityPage(_rows_for(session, chosen), total, page, page_size)


def get_conversation(session: Session, actor: Actor, conversation_id: int) -> ConversationDetail:
    """One conversation with every message, oldest first, with its citations."""
    actor.require(Permission.READ)
    get_scoped(session, actor, Conversation, conversation_id, "Conversation")
    chosen = select(Conversation.id).where(Conversation.id == conversation_id).subquery("chosen")
    row = _rows_for(session, chosen)[0]
    messages = session.exec(
        scoped_select(actor, Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(col(Message.created_at), col(Message.id))
    )
    names = dict(
        session.exec(select(Bot.id, Bot.name).where(Bot.workspace_id == actor.workspace_id)).all()
    )
    return ConversationDetail(row, [_message_view(m, names) for m in messages])


def _message_view(message: Message, bot_names: dict[int, str] | None = None) -> MessageView:
    return MessageView(
        id=message.id,
        role=message.role,
        content=message.content,
        created_at=aware(message.created_at),
        citations=list(message.citations or []),
        feedback=message.feedback,
        fell_back=message.fell_back,
        model=message.model,
        routed_bot=(bot_names or {}).get(message.routed_bot_id, "")
        if message.routed_bot_id
        else "",
    )
