"""Sources of a bot's knowledge: add (validated at once), list, re-train, delete, storage use.

Adding a source only validates and queues it; the ingest worker (ingest/worker.py) extracts,
chunks, embeds and indexes it in the background. Deleting removes its chunks and vectors too.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from chatapp.core.config import get_settings
from chatapp.core.errors import Conflict, FieldInvalid, ValidationFailed
from chatapp.core.schemas import parse
from chatapp.services.accounts import audit
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.knowledge import schemas
from chatapp.services.knowledge.index.embedded import knowledge_changed
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.knowledge.ingest import queue
from chatapp.services.knowledge.ingest.urlguard import check_url
from chatapp.services.models import Bot, KnowledgeChunk, Source, SourceStatus, utcnow

MB = schemas.MB
MAX_TITLE = schemas.MAX_TITLE

ACTIVE_STATUSES = (SourceStatus.QUEUED, SourceStatus.PROCESSING)


class SourceInputInvalid(FieldInvalid):
    """A refusal about one input field of a source, shown next to that field."""


@dataclass(frozen=True)
class StorageUse:
    bytes_used: int
    chars_used: int
    bytes_limit: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.bytes_used / self.bytes_limit)) if self.bytes_limit else 0


def uploads_dir() -> Path:
    return get_settings().data_dir / "uploads"


def _bot(session: Session, actor: Actor, bot_id: int, *, write: bool) -> Bot:
    actor.require(Permission.MANAGE_BOTS if write else Permission.READ)
    return get_scoped(session, actor, Bot, bot_id, "Bot")


def storage_use(session: Session, actor: Actor, bot_id: int) -> StorageUse:
    bot = _bot(session, actor, bot_id, write=False)
    return _storage(session, actor, bot.id)


def _storage(session: Session, actor: Actor, bot_id: int) -> StorageUse:
    """Bytes and characters of a bot's sources (the bot is already checked by the caller).

    A website's own figures are the sums of its pages, so only its pages are counted.
    """
    used_bytes, used_chars = session.exec(
        select(
            func.coalesce(func.sum(Source.size_bytes), 0),
            func.coalesce(func.sum(Source.char_count), 0),
        ).where(
            Source.workspace_id == actor.workspace_id,
            Source.bot_id == bot_id,
            Source.kind != "website",
        )
    ).one()
    limit = int(get_settings().bot_storage_limit_mb * MB)
    return StorageUse(int(used_bytes), int(used_chars), limit)


def _check_room(session: Session, actor: Actor, bot_id: int, adding: int) -> None:
    use = _storage(session, actor, bot_id)
    if use.bytes_used + adding > use.bytes_limit:
        limit_mb = get_settings().bot_storage_limit_mb
        raise ValidationFailed(
            f"This bot's knowledge would exceed its {limit_mb:g} MB storage limit. "
            "Delete some sources first."
        )


def _queue(session: Session, actor: Actor, bot: Bot, **fields) -> Source:
    source = Source(
        workspace_id=actor.workspace_id, bot_id=bot.id, status=SourceStatus.QUEUED, **fields
    )
    session.add(source)
    session.flush()
    queue.notify()
    return source


def title_of(value: str, fallback: str) -> str:
    """A source's title on one line, or `fallback` when blank."""
    value = re.sub(r"\s+", " ", value or "").strip()
    return (value or fallback)[:MAX_TITLE]


def add_text(session: Session, actor: Actor, bot_id: int, *, title: str, text: str) -> Source:
    bot = _bot(session, actor, bot_id, write=True)
    checked = parse(schemas.TextIn, SourceInputInvalid, title=title, text=text)
    title, text = checked.title, checked.text
    size = len(text.encode("utf-8"))
    _check_room(session, actor, bot.id, size)
    return _queue(
        session,
        actor,
        bot,
        kind="text",
        title=title_of(title, text[:60]),
        size_bytes=size,
        char_count=len(text),
        meta={"text": text},
    )


def _clean_qa(question: str, answer: str) -> tuple[str, str]:
    checked = parse(schemas.QaIn, SourceInputInvalid, question=question, answer=answer)
    return checked.question, checked.answer


def add_qa(session: Session, actor: Actor, bot_id: int, *, question: str, answer: str) -> Source:
    bot = _bot(session, actor, bot_id, write=True)
    question, answer = _clean_qa(question, answer)
    size = len((question + answer).encode("utf-8"))
    _check_room(session, actor, bot.id, size)
    return _queue(
        session,
        actor,
        bot,
        kind="qa",
        title=title_of(question, "Q&A"),
        size_bytes=size,
        char_count=len(question) + len(answer),
        meta={"question": question, "answer": answer},
    )


def update_qa(
    session: Session, actor: Actor, source_id: int, *, question: str, answer: str
) -> Source:
    """Change a Q&A pair and queue it again, so the bot answers with the new wording."""
    source = editable_source(session, actor, source_id, "qa")
    question, answer = _clean_qa(question, answer)
    return requeue_edited(
        session,
        actor,
        source,
        title=title_of(question, "Q&A"),
        meta={"question": question, "answer": answer},
        chars=len(question) + len(answer),
        size=len((question + answer).encode("utf-8")),
    )


EDIT_REFUSALS = {
    "qa": "Only Q&A pairs have a question and an answer to edit.",
    "text": "Only pasted texts have a text to edit; re-train files and pages instead.",
}


def editable_source(session: Session, actor: Actor, source_id: int, kind: str) -> Source:
    """The source to edit in place: of the actor's workspace, of `kind`, and not being trained."""
    actor.require(Permission.MANAGE_BOTS)
    source = get_scoped(session, actor, Source, source_id, "Source")
    if source.kind != kind:
        raise ValidationFailed(EDIT_REFUSALS[kind])
    if source.status == SourceStatus.PROCESSING:
        raise Conflict("This source is being trained right now; edit it again in a moment.")
    return source


def requeue_edited(
    session: Session, actor: Actor, source: Source, *, title: str, meta: dict, chars: int, size: int
) -> Source:
    """Store an edit and queue the source again. Its old chunks keep serving until the worker
    replaces them in one transaction (ingest/pipeline.py); other meta keys (e.g. the message a
    pair was written from) are kept."""
    _check_room(session, actor, source.bot_id, size - source.size_bytes)
    after = {"title": title, **meta}
    before = {"title": source.title, **(source.meta or {})}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit.record(session, actor, "source.update", "source", source.id, changes)
    source.title = title
    source.meta = {**(source.meta or {}), **meta}
    source.size_bytes, source.char_count = size, chars
    source.status, source.progress, source.error, source.attempts = SourceStatus.QUEUED, 0.0, "", 0
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    queue.notify()
    return source


def add_file(session: Session, actor: Actor, bot_id: int, *, filename: str, data: bytes) -> Source:
    """Check size and type now (by content), store the file, queue its extraction."""
    bot = _bot(session, actor, bot_id, write=True)
    upload = schemas.check_upload(filename, data)
    safe_name, kind = upload.filename, upload.kind
    _check_room(session, actor, bot.id, len(data))
    folder = uploads_dir() / str(actor.workspace_id) / str(bot.id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(8)}-{safe_name}"
    path.write_bytes(data)
    return _queue(
        session,
        actor,
        bot,
        kind="file",
        title=title_of(Path(safe_name).stem, safe_name),
        size_bytes=len(data),
        meta={"path": str(path), "filename": safe_name, "file_kind": kind},
    )


def add_url(session: Session, actor: Actor, bot_id: int, *, url: str) -> Source:
    bot = _bot(session, actor, bot_id, write=True)
    url = _checked_url(url)
    return _queue(session, actor, bot, kind="url", title=title_of("", url), url=url)


def _checked_url(url: str) -> str:
    try:
        return check_url((url or "").strip())
    except ValidationFailed as error:
        raise SourceInputInvalid(error.message, "url") from error


def add_website(
    session: Session,
    actor: Actor,
    bot_id: int,
    *,
    url: str,
    use_sitemap: bool = False,
    max_pages: int | None = None,
    max_depth: int | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> Source:
    """A crawl from a start URL (same host) or the URLs of a sitemap; each page a child source."""
    bot = _bot(session, actor, bot_id, write=True)
    settings = get_settings()
    url = _checked_url(url)
    checked = parse(
        schemas.WebsiteIn,
        SourceInputInvalid,
        url=url,
        use_sitemap=bool(use_sitemap),
        max_pages=settings.crawl_max_pages if max_pages is None else max_pages,
        max_depth=settings.crawl_max_depth if max_depth is None else max_depth,
        include=include,
        exclude=exclude,
    )
    options = checked.model_dump(exclude={"url"})
    return _queue(
        session, actor, bot, kind="website", title=title_of("", url), url=url, meta=options
    )


def list_sources(
    session: Session, actor: Actor, bot_id: int, *, include_pages: bool = False
) -> list[Source]:
    bot = _bot(session, actor, bot_id, write=False)
    statement = scoped_select(actor, Source).where(Source.bot_id == bot.id)
    if not include_pages:
        statement = statement.where(col(Source.parent_id).is_(None))
    return list(
        session.exec(statement.order_by(col(Source.created_at).desc(), col(Source.id).desc()))
    )


def get_source(session: Session, actor: Actor, source_id: int) -> Source:
    actor.require(Permission.READ)
    return get_scoped(session, actor, Source, source_id, "Source")


def retrain(session: Session, actor: Actor, source_id: int) -> Source:
    """Queue a source again (a website re-syncs: only changed pages are re-indexed)."""
    actor.require(Permission.MANAGE_BOTS)
    source = get_scoped(session, actor, Source, source_id, "Source")
    if source.status in ACTIVE_STATUSES:
        raise Conflict("This source is already being processed.")
    source.status, source.progress, source.error, source.attempts = SourceStatus.QUEUED, 0.0, "", 0
    source.updated_at = utcnow()
    session.add(source)
    session.flush()
    queue.notify()
    return source


def delete_source(session: Session, actor: Actor, source_id: int) -> None:
    """Delete a source, its pages, chunks, vectors and stored file."""
    actor.require(Permission.MANAGE_BOTS)
    source = get_scoped(session, actor, Source, source_id, "Source")
    audit.record(
        session, actor, "source.delete", "source", source.id, {"title": [source.title, None]}
    )
    forget_source_data(session, source)
    session.delete(source)
    session.flush()


def forget_source_data(session: Session, source: Source) -> None:
    """Remove what a source owns outside its row: vectors, chunk rows, children, stored file."""
    children = session.exec(
        select(Source).where(
            Source.workspace_id == source.workspace_id, Source.parent_id == source.id
        )
    ).all()
    index = get_index()
    for item in [*children, source]:
        index.delete_source(workspace_id=item.workspace_id, bot_id=item.bot_id, source_id=item.id)
        session.exec(delete(KnowledgeChunk).where(col(KnowledgeChunk.source_id) == item.id))
        path = (item.meta or {}).get("path")
        if path and Path(path).is_file() and uploads_dir() in Path(path).parents:
            Path(path).unlink()
        if item is not source:
            session.delete(item)
    knowledge_changed(session, source.bot_id)
