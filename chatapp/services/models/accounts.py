"""Workspaces and people: users, memberships, logins, API tokens, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from chatapp.services.models.common import Plan, utcnow


class Workspace(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
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
    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_membership"),)

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the random token is stored."""

    id: int = Field(default=None, primary_key=True)
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

    id: int = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    succeeded: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ApiToken(SQLModel, table=True):
    """A workspace's token for scripts (ingestion API). Shown once, stored as SHA-256."""

    # SQLite: AUTOINCREMENT, so an id is never handed out again (alembic 0008)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: one row per admin change (settings, bots, keys, members, actions,
    sources, contacts deleted). `changes` holds the changed fields, secrets replaced by "***"."""

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor: str = Field(default="", max_length=254)  # the member's email or the API token's name
    action: str = Field(max_length=60)  # e.g. bot.update, key.create, member.remove
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Invitation(SQLModel, table=True):
    """A link that lets one person join a workspace with a role, once, until it expires.

    Only the SHA-256 of the link's random token is stored; the link is shown (or mailed) once."""

    # SQLite: AUTOINCREMENT, so an id the audit log names is never handed out again
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=20)
    email: str = Field(default="", max_length=254)  # "" : anyone who has the link
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    revoked_at: datetime | None = None
