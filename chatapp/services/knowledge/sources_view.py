"""What the Sources table shows: a bot's sources with website pages grouped under their website.

One read of every source of the bot (pages included) is grouped here, so the dashboard needs no
query of its own and can tell from `active` whether the ingest worker still has work to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from chatapp.services.accounts.tenancy import Actor
from chatapp.services.knowledge.sources import (
    ACTIVE_STATUSES,
    StorageUse,
    list_sources,
    storage_use,
)
from chatapp.services.models import Source, SourceStatus


@dataclass(frozen=True)
class SourceEntry:
    """One source as listed; a website carries its pages, a Q&A pair its question and answer."""

    id: int
    kind: str
    title: str
    url: str
    status: str
    progress: float
    error: str
    size_bytes: int
    char_count: int
    chunk_count: int
    trained_at: datetime | None
    file_kind: str = ""  # pdf, docx, txt, md or html, decided from the content
    question: str = ""
    answer: str = ""
    last_sync: dict = field(default_factory=dict)
    pages: tuple[SourceEntry, ...] = ()

    @property
    def pages_ready(self) -> int:
        return sum(1 for page in self.pages if page.status == SourceStatus.READY)

    @property
    def pages_failed(self) -> int:
        return sum(1 for page in self.pages if page.status == SourceStatus.ERROR)


@dataclass(frozen=True)
class SourcesOverview:
    entries: list[SourceEntry]
    storage: StorageUse

    @property
    def active(self) -> bool:
        """Whether anything is still queued or processing (the page keeps polling while so)."""
        return any(
            entry.status in ACTIVE_STATUSES
            or any(page.status in ACTIVE_STATUSES for page in entry.pages)
            for entry in self.entries
        )


def _entry(source: Source, pages: tuple[SourceEntry, ...] = ()) -> SourceEntry:
    meta = source.meta or {}
    qa = source.kind == "qa"
    return SourceEntry(
        id=source.id,
        kind=source.kind,
        title=source.title,
        url=source.url,
        status=source.status,
        progress=source.progress,
        error=source.error,
        size_bytes=source.size_bytes,
        char_count=source.char_count,
        chunk_count=source.chunk_count,
        trained_at=source.trained_at,
        file_kind=str(meta.get("file_kind", "")) if source.kind == "file" else "",
        question=str(meta.get("question", "")) if qa else "",
        answer=str(meta.get("answer", "")) if qa else "",
        last_sync=dict(meta.get("last_sync", {})) if source.kind == "website" else {},
        pages=pages,
    )


def sources_overview(session: Session, actor: Actor, bot_id: int) -> SourcesOverview:
    """The bot's sources, newest first, each website with its pages (sorted by address)."""
    every = list_sources(session, actor, bot_id, include_pages=True)
    pages_of: dict[int, list[Source]] = {}
    for source in every:
        if source.parent_id is not None:
            pages_of.setdefault(source.parent_id, []).append(source)
    entries = [
        _entry(
            source,
            tuple(_entry(page) for page in sorted(pages_of.get(source.id, []), key=_by_url)),
        )
        for source in every
        if source.parent_id is None
    ]
    return SourcesOverview(entries, storage_use(session, actor, bot_id))


def _by_url(source: Source) -> str:
    return source.url
