"""Visitors' conversations: contacts, conversations, messages, live events, usage counters."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from chatapp.services.models.common import utcnow


class ConversationStatus(StrEnum):
    """Who handles a conversation (see `Conversation.status`)."""

    BOT = "bot"
    PENDING = "pending"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Contact(SQLModel, table=True):
    # SQLite: AUTOINCREMENT, so an id is never handed out again (alembic 0008)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int | None = Field(default=None, foreign_key="bot.id", index=True, ondelete="SET NULL")
    name: str = Field(default="", max_length=120)
    email: str = Field(default="", max_length=254, index=True)
    phone: str = Field(default="", max_length=40)
    external_id: str = Field(default="", max_length=120)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("bot_id", "session_id", name="uq_conversation_session"),
        {"sqlite_autoincrement": True},  # never reuse an id on SQLite (alembic 0008)
    )

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    session_id: str = Field(max_length=64, index=True)
    channel: str = Field(
        default="widget", max_length=20
    )  # widget, playground, api, openai, chatbase
    # bot -> pending (a person was asked for) -> assigned (an agent took it; the bot is silent)
    # -> resolved; handing back to the bot sets "bot" again.
    status: str = Field(default=ConversationStatus.BOT, max_length=20, index=True)
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", index=True, ondelete="SET NULL"
    )
    assigned_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    message_count: int = Field(default=0)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    last_message_at: datetime = Field(default_factory=utcnow, index=True)
    audience: str = Field(default="", max_length=40, index=True)  # the key of a bot audience
    handoff_reason: str = Field(default="", max_length=30)  # button, phrase, fallbacks, model
    handoff_at: datetime | None = None  # the visitor asked for (or was offered) a person
    assigned_at: datetime | None = None
    first_human_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    fallback_streak: int = Field(default=0)  # fallbacks in a row (a handoff trigger)


class Message(SQLModel, table=True):
    # A request's client id (idempotency key) is stored on its user and assistant rows: a retried
    # request can never store either twice.
    __table_args__ = (
        UniqueConstraint("conversation_id", "role", "client_id", name="uq_message_client_id"),
    )

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)  # user, assistant, agent, system
    content: str = Field(sa_column=Column(Text, nullable=False))
    citations: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    feedback: int = Field(default=0)  # -1 thumbs down, 0 none, 1 thumbs up
    fell_back: bool = Field(default=False)
    client_id: str | None = Field(default=None, max_length=64)
    model: str = Field(default="", max_length=100)  # "" for user messages; "extractive" offline
    latency_ms: int | None = None  # request received -> answer complete
    first_token_ms: int | None = None  # request received -> first token
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)
    # An agent's reply: who wrote it. A router bot's answer: the bot that answered.
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    routed_bot_id: int | None = Field(default=None, foreign_key="bot.id", ondelete="SET NULL")
    # What the answer offered beside its text: [{kind: link|lead_form|handoff|http, ...}].
    actions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    created_at: datetime = Field(default_factory=utcnow, index=True)


class UsageDaily(SQLModel, table=True):
    """Per bot and UTC day: what analytics charts. Incremented atomically (upsert) per answer."""

    __table_args__ = (UniqueConstraint("bot_id", "day", name="uq_usage_bot_day"),)

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    day: date
    messages: int = Field(default=0)  # questions answered or fallen back (not errors)
    answered: int = Field(default=0)
    fell_back: int = Field(default=0)
    errors: int = Field(default=0)
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)


class RateCounter(SQLModel, table=True):
    """Fixed-window request counters, shared by every worker, when Redis is not configured."""

    key: str = Field(primary_key=True, max_length=200)
    window_start: int = Field(primary_key=True)  # unix seconds
    count: int = Field(default=0)


class ConversationEvent(SQLModel, table=True):
    """What happened in a conversation, in order: the live streams' events and their ids.

    The id is the Server-Sent Events id: a client that reconnects with `Last-Event-ID` is sent
    every later event from this table, so a dropped connection misses nothing. Typing
    indicators are not stored (they only matter live).
    """

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=30)  # message, status, action
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
