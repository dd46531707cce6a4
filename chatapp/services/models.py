"""Every table of the product, with the schemas the API reads and writes.

Tenant data carries `workspace_id`, indexed, and every query in the services filters by it (see
`tenancy.py`). Times are aware UTC (`utcnow()`), the same on SQLite and PostgreSQL. Later issues add
columns and tables through Alembic migrations.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from chatapp.services.bots.fields import (
    check_audiences,
    check_color,
    check_domains,
    check_name,
    check_starters,
)


def utcnow() -> datetime:
    """Aware UTC now: SQLModel's datetime columns store and return aware UTC values."""
    return datetime.now(UTC)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class BotStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class WidgetPosition(StrEnum):
    BOTTOM_RIGHT = "bottom-right"
    BOTTOM_LEFT = "bottom-left"
    CENTER = "center"


class Plan(StrEnum):
    FREE = "free"
    PAID = "paid"


# --- workspaces and people -------------------------------------------------------------------


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    slug: str = Field(max_length=80, unique=True, index=True)
    plan: str = Field(default=Plan.FREE, max_length=20)
    # The workspace's own LLM provider (empty: the installation's OPENAI_* settings). The API key
    # is stored encrypted (security.encrypt_secret) and never leaves the services in clear.
    llm_base_url: str = Field(default="", max_length=500)
    llm_api_key_encrypted: str = Field(
        default="", sa_column=Column(Text, nullable=False, default="")
    )
    llm_model: str = Field(default="", max_length=100)
    # Monthly message limit a new bot of this workspace starts with; None = the installation's
    # DEFAULT_MESSAGE_LIMIT. Each bot's own limit can be changed afterwards.
    default_message_limit: int | None = Field(default=None, ge=0)
    # Conversations older than this many days are deleted (None: kept for ever).
    retention_days: int | None = Field(default=None, ge=1)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_membership"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the random token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    remember: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    last_seen_at: datetime = Field(default_factory=utcnow)
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


class LoginAttempt(SQLModel, table=True):
    """Failed and successful logins, kept to throttle guessing."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    succeeded: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, index=True)


# --- bots --------------------------------------------------------------------------------------

DEFAULT_WELCOME = "Hi! How can I help you today?"
DEFAULT_FALLBACK = (
    "I don't have that information in my knowledge base. Please contact us directly for help."
)


class BotBase(SQLModel):
    name: str = Field(max_length=80)
    welcome_message: str = Field(default=DEFAULT_WELCOME, max_length=1000)
    instructions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    fallback_message: str = Field(default=DEFAULT_FALLBACK, max_length=1000)
    avatar_url: str = Field(default="", max_length=500)
    accent_color: str = Field(default="#4f46e5", max_length=9)
    position: str = Field(default=WidgetPosition.BOTTOM_RIGHT, max_length=20)
    show_button_text: bool = Field(default=False)
    button_text: str = Field(default="Chat with us", max_length=40)
    starter_questions: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    # Websites allowed to use the widget (host names; a name also admits its subdomains).
    # Empty: any website holding the key.
    allowed_domains: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    model: str = Field(default="", max_length=100)  # LLM model override; empty = plan default
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)  # LLM sampling; unused offline
    # What the bot is for, in a sentence: a router bot picks the bot whose description fits.
    description: str = Field(default="", max_length=500)
    # Who the visitors are (seed 003): [{key, label, instructions, starter_questions}].
    audiences: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    # A router bot answers nothing itself: each message goes to the workspace's bot that fits.
    is_router: bool = Field(default=False)


class Bot(BotBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    public_id: str = Field(max_length=32, unique=True, index=True)
    status: str = Field(default=BotStatus.ACTIVE, max_length=20)
    message_limit: int = Field(default=1000, ge=0)
    message_count: int = Field(default=0, ge=0)
    quota_period_start: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Raised in every transaction that changes the bot's chunks: each process's in-memory index
    # of the bot (embedded_index.py) compares it before a search and catches up.
    knowledge_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class BotCreate(SQLModel):
    name: str = Field(min_length=1, max_length=80)
    welcome_message: str | None = Field(default=None, max_length=1000)
    instructions: str | None = Field(default=None, max_length=20000)
    accent_color: str | None = None
    position: WidgetPosition | None = None
    message_limit: int | None = Field(default=None, ge=0, le=10_000_000)
    allowed_domains: list[str] | None = None
    starter_questions: list[str] | None = None
    model: str | None = Field(default=None, max_length=100)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)

    _name = field_validator("name")(check_name)
    _color = field_validator("accent_color")(check_color)
    _domains = field_validator("allowed_domains")(check_domains)
    _starters = field_validator("starter_questions")(check_starters)


class BotUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    welcome_message: str | None = Field(default=None, max_length=1000)
    instructions: str | None = Field(default=None, max_length=20000)
    fallback_message: str | None = Field(default=None, max_length=1000)
    avatar_url: str | None = Field(default=None, max_length=500)
    accent_color: str | None = None
    position: WidgetPosition | None = None
    show_button_text: bool | None = None
    button_text: str | None = Field(default=None, max_length=40)
    status: BotStatus | None = None
    message_limit: int | None = Field(default=None, ge=0, le=10_000_000)
    allowed_domains: list[str] | None = None
    starter_questions: list[str] | None = None
    model: str | None = Field(default=None, max_length=100)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    description: str | None = Field(default=None, max_length=500)
    audiences: list[dict[str, Any]] | None = None
    is_router: bool | None = None

    _name = field_validator("name")(check_name)
    _color = field_validator("accent_color")(check_color)
    _domains = field_validator("allowed_domains")(check_domains)
    _starters = field_validator("starter_questions")(check_starters)
    _audiences = field_validator("audiences")(check_audiences)


class BotPublic(BotBase):
    id: int
    public_id: str
    workspace_id: int
    status: str
    message_limit: int
    message_count: int
    created_at: datetime
    updated_at: datetime


class BotKey(SQLModel, table=True):
    """A widget key: shown once, stored as SHA-256, recognised by its prefix."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    key_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


# --- knowledge, conversations, contacts, actions ----------------------------------------------


class Source(SQLModel, table=True):
    """One piece of knowledge. A website is a parent source whose pages are child sources."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(
        default=None, foreign_key="source.id", index=True, ondelete="CASCADE"
    )
    kind: str = Field(max_length=20)  # file, text, qa, url, website, page
    title: str = Field(default="", max_length=300)
    url: str = Field(default="", max_length=2048)
    status: str = Field(default="queued", max_length=20, index=True)
    progress: float = Field(default=0.0)
    error: str = Field(default="", max_length=1000)
    size_bytes: int = Field(default=0)
    char_count: int = Field(default=0)
    chunk_count: int = Field(default=0)
    content_hash: str = Field(default="", max_length=64)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
    heartbeat_at: datetime | None = None  # a worker processing it touches this; stale = re-queued
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    trained_at: datetime | None = None


class KnowledgeChunk(SQLModel, table=True):
    """A passage of a source as indexed: the text behind every vector and every citation.

    The id is stable (source, position, content hash), so re-ingesting unchanged content rewrites
    the same rows and points.
    """

    id: str = Field(primary_key=True, max_length=80)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    source_id: int = Field(foreign_key="source.id", index=True, ondelete="CASCADE")
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(default="", max_length=300)
    heading: str = Field(default="", max_length=300)
    page: int | None = None
    url: str = Field(default="", max_length=2048)
    token_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    # The chunk's embedding, float16 (vectors.py): the store of record of the embedded default.
    vector: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class ApiToken(SQLModel, table=True):
    """A workspace's token for scripts (ingestion API). Shown once, stored as SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
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
    __table_args__ = (UniqueConstraint("bot_id", "session_id", name="uq_conversation_session"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    session_id: str = Field(max_length=64, index=True)
    channel: str = Field(default="widget", max_length=20)  # widget, playground, api
    # bot -> pending (a person was asked for) -> assigned (an agent took it; the bot is silent)
    # -> resolved; handing back to the bot sets "bot" again.
    status: str = Field(default="bot", max_length=20, index=True)
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

    id: int | None = Field(default=None, primary_key=True)
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

    id: int | None = Field(default=None, primary_key=True)
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


class Action(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=30)  # collect_lead, handoff, http, link
    name: str = Field(max_length=80)
    enabled: bool = Field(default=True)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ActionRun(SQLModel, table=True):
    """One run of an action: what started it, with what input, and how it ended."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="action.id", index=True, ondelete="CASCADE")
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", index=True, ondelete="SET NULL"
    )
    trigger: str = Field(default="", max_length=20)  # rule, model, visitor, test
    input: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(default="ok", max_length=20)  # ok, error, refused
    output: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error: str = Field(default="", max_length=1000)
    duration_ms: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ConversationEvent(SQLModel, table=True):
    """What happened in a conversation, in order: the live streams' events and their ids.

    The id is the Server-Sent Events id: a client that reconnects with `Last-Event-ID` is sent
    every later event from this table, so a dropped connection misses nothing. Typing
    indicators are not stored (they only matter live).
    """

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    conversation_id: int = Field(foreign_key="conversation.id", index=True, ondelete="CASCADE")
    type: str = Field(max_length=30)  # message, status, action
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: one row per admin change (settings, bots, keys, members, actions,
    sources, contacts deleted). `changes` holds the changed fields, secrets replaced by "***"."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor: str = Field(default="", max_length=254)  # the member's email or the API token's name
    action: str = Field(max_length=60)  # e.g. bot.update, key.create, member.remove
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


# Models that belong to one workspace: `tenancy.py` filters every query on them by workspace.
TENANT_MODELS: tuple[type[SQLModel], ...] = (
    Bot,
    BotKey,
    Source,
    KnowledgeChunk,
    ApiToken,
    Contact,
    Conversation,
    Message,
    UsageDaily,
    Action,
    ActionRun,
    ConversationEvent,
    AuditEntry,
    Membership,
)
