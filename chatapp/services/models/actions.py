"""A bot's actions and the log of their runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from chatapp.services.models.common import utcnow


class ActionRunOutcome(StrEnum):
    """How a run of an action ended: refused = not run (bad input, target not allowed)."""

    OK = "ok"
    ERROR = "error"
    REFUSED = "refused"


class Action(SQLModel, table=True):
    # SQLite: AUTOINCREMENT, so an id is never handed out again (alembic 0008)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
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

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    action_id: int = Field(foreign_key="action.id", index=True, ondelete="CASCADE")
    conversation_id: int | None = Field(
        default=None, foreign_key="conversation.id", index=True, ondelete="SET NULL"
    )
    trigger: str = Field(default="", max_length=20)  # rule, model, visitor, test
    input: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(default=ActionRunOutcome.OK, max_length=20)
    output: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error: str = Field(default="", max_length=1000)
    duration_ms: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, index=True)
