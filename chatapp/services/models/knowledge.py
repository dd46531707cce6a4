"""A bot's knowledge: sources and their chunks (with each chunk's vector)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from chatapp.services.models.common import utcnow


class SourceStatus(StrEnum):
    """A source's ingestion: queued -> processing (claimed by a worker) -> ready or error."""

    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"


class Source(SQLModel, table=True):
    """One piece of knowledge. A website is a parent source whose pages are child sources."""

    # SQLite: AUTOINCREMENT, so an id is never handed out again (alembic 0008)
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True, ondelete="CASCADE")
    bot_id: int = Field(foreign_key="bot.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(
        default=None, foreign_key="source.id", index=True, ondelete="CASCADE"
    )
    kind: str = Field(max_length=20)  # file, text, qa, url, website, page
    title: str = Field(default="", max_length=300)
    url: str = Field(default="", max_length=2048)
    status: str = Field(default=SourceStatus.QUEUED, max_length=20, index=True)
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
