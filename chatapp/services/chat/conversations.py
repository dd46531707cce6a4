"""Conversations and their messages as the chat stores them; feedback; daily usage counters.

Race-safe by construction: a conversation is found or created with `INSERT ... ON CONFLICT DO
NOTHING` on (bot, session id); a request's client id is unique per conversation and role, so a
retried request never stores its question or its answer twice; counters are single UPDATEs or
upserts, never read-modify-write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from chatapp.core.errors import NotFound, ValidationFailed
from chatapp.core.upsert import dialect_insert
from chatapp.services.models import (
    Bot,
    Conversation,
    ConversationStatus,
    Message,
    UsageDaily,
    utcnow,
)


@dataclass(frozen=True)
class Answer:
    """An assistant message to store."""

    content: str
    citations: list[dict[str, Any]]
    fell_back: bool
    model: str
    latency_ms: int
    first_token_ms: int | None
    prompt_tokens: int
    completion_tokens: int
    routed_bot_id: int | None = None  # a router bot's answer: the bot that answered


def find_or_create(session: Session, bot: Bot, session_id: str, channel: str) -> Conversation:
    where = (Conversation.bot_id == bot.id, Conversation.session_id == session_id)
    conversation = session.exec(select(Conversation).where(*where)).first()
    if conversation is not None:
        return conversation
    now = utcnow()
    session.execute(
        dialect_insert(session, Conversation)
        .values(
            workspace_id=bot.workspace_id,
            bot_id=bot.id,
            session_id=session_id,
            channel=channel,
            status=ConversationStatus.BOT,
            message_count=0,
            started_at=now,
            last_message_at=now,
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "session_id"])
    )
    return session.exec(select(Conversation).where(*where)).one()


def _insert_message(session: Session, conversation: Conversation, **values) -> int | None:
    """Insert a message; None when this client id already has one of this role."""
    now = values.pop("created_at", None) or utcnow()
    statement = (
        dialect_insert(session, Message)
        .values(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            created_at=now,
            **{
                "citations": [],
                "feedback": 0,
                "fell_back": False,
                "model": "",
                "prompt_tokens": 0,
                "completion_tokens": 0,
                **values,
            },
        )
        .on_conflict_do_nothing(index_elements=["conversation_id", "role", "client_id"])
        .returning(Message.id)
    )
    message_id = session.execute(statement).scalar_one_or_none()
    if message_id is not None:
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conversation.id)
            .values(
                message_count=Conversation.message_count + 1,
                last_message_at=now,
            )
        )
    return message_id


def by_client_id(
    session: Session, conversation_id: int, role: str, client_id: str
) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.role == role,
            Message.client_id == client_id,
        )
    ).first()


def add_user_message(
    session: Session, conversation: Conversation, content: str, client_id: str | None
) -> tuple[int, bool]:
    """(message id, created): an existing id when this client id was already stored."""
    message_id = _insert_message(
        session, conversation, role="user", content=content, client_id=client_id
    )
    if message_id is not None:
        return message_id, True
    existing = by_client_id(session, conversation.id, "user", client_id or "")
    if existing is None:  # pragma: no cover - the conflict implies the row exists
        raise ValidationFailed("This message could not be stored.")
    return existing.id, False


def history(
    session: Session, conversation_id: int, before_id: int, limit: int
) -> list[tuple[str, str]]:
    """The last `limit` user/assistant messages before `before_id`, oldest first."""
    if limit <= 0:
        return []
    rows = session.exec(
        select(Message.role, Message.content)
        .where(
            Message.conversation_id == conversation_id,
            Message.id < before_id,
            col(Message.role).in_(("user", "assistant", "agent")),
        )
        .order_by(col(Message.id).desc())
        .limit(limit)
    ).all()
    return [("assistant" if role == "agent" else role, content) for role, content in rows[::-1]]


def add_agent_message(
    session: Session, conversation: Conversation, content: str, *, user_id: int, now: datetime
) -> int:
    """Store a human agent's reply (role `agent`, with its author); returns its id."""
    return _insert_message(
        session, conversation, role="agent", content=content, user_id=user_id, created_at=now
    )


def add_answer(
    session: Session, conversation: Conversation, answer: Answer, client_id: str | None
) -> int:
    """Store the assistant's answer (once per client id); returns its id."""
    message_id = _insert_message(
        session,
        conversation,
        role="assistant",
        content=answer.content,
        client_id=client_id,
        citations=answer.citations,
        fell_back=answer.fell_back,
        model=answer.model,
        latency_ms=answer.latency_ms,
        first_token_ms=answer.first_token_ms,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        routed_bot_id=answer.routed_bot_id,
    )
    if message_id is None:
        existing = by_client_id(session, conversation.id, "assistant", client_id or "")
        return existing.id if existing else 0
    return message_id


def count_usage(
    session: Session,
    *,
    workspace_id: int,
    bot_id: int,
    answered: bool = False,
    fell_back: bool = False,
    error: bool = False,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    now: datetime | None = None,
) -> None:
    """Add one answer (or one error) to the bot's counters for today (UTC)."""
    values = {
        "messages": 0 if error else 1,
        "answered": int(answered),
        "fell_back": int(fell_back),
        "errors": int(error),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
    }
    insert = dialect_insert(session, UsageDaily).values(
        workspace_id=workspace_id, bot_id=bot_id, day=(now or utcnow()).date(), **values
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["bot_id", "day"],
            set_={name: getattr(UsageDaily, name) + insert.excluded[name] for name in values},
        )
    )


def set_feedback(
    session: Session, *, bot: Bot, session_id: str, message_id: int, rating: int
) -> Message:
    """Thumbs up (1), down (-1) or none (0) on an answer of this visitor's conversation."""
    row = session.exec(
        select(Message)
        .join(Conversation, col(Conversation.id) == Message.conversation_id)
        .where(
            Message.id == message_id,
            Message.role == "assistant",
            Conversation.bot_id == bot.id,
            Conversation.session_id == session_id,
        )
    ).first()
    if row is None:
        raise NotFound("Message not found.")
    row.feedback = rating
    session.add(row)
    session.flush()
    return row
