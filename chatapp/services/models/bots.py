"""Bots, with the schemas the API reads and writes (Create/Update/Public), and widget keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, field_validator
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from chatapp.services.bots.fields import (
    MAX_INSTRUCTIONS,
    MAX_MODEL,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    check_audiences,
    check_color,
    check_domains,
    check_name,
    check_starters,
)
from chatapp.services.models.common import BotStatus, WidgetPosition, utcnow

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
    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    public_id: str = Field(max_length=32, unique=True, index=True)
    status: str = Field(default=BotStatus.ACTIVE, max_length=20)
    message_limit: int = Field(default=1000, ge=0)
    message_count: int = Field(default=0, ge=0)
    quota_period_start: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Raised in every transaction that changes the bot's chunks: each process's in-memory index
    # of the bot (knowledge/index/embedded.py) compares it before a search and catches up.
    knowledge_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class BotUpdate(SQLModel):
    """A bot's changeable fields (PATCH). An unknown field is refused (422), never dropped:
    a misspelt `fallback_mesage` must not look saved."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=80)
    welcome_message: str | None = Field(default=None, max_length=1000)
    instructions: str | None = Field(default=None, max_length=MAX_INSTRUCTIONS)
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
    model: str | None = Field(default=None, max_length=MAX_MODEL)
    temperature: float | None = Field(default=None, ge=MIN_TEMPERATURE, le=MAX_TEMPERATURE)
    description: str | None = Field(default=None, max_length=500)
    audiences: list[dict[str, Any]] | None = None
    is_router: bool | None = None

    _name = field_validator("name")(check_name)
    _color = field_validator("accent_color")(check_color)
    _domains = field_validator("allowed_domains")(check_domains)
    _starters = field_validator("starter_questions")(check_starters)
    _audiences = field_validator("audiences")(check_audiences)


class BotCreate(BotUpdate):
    """A new bot: every field PATCH accepts (same checks), the name required; unset ones take
    the bot's defaults."""

    name: str = Field(min_length=1, max_length=80)


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

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    key_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
