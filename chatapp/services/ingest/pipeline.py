"""Write path for one source: load -> extract -> chunk -> embed -> index, with no half states.

Order of writes (so the bot never knows nothing, and a failure leaves nothing behind):
1. text and chunks are computed in memory; a new source's chunk rows are committed at once
   (searchable by keywords), a re-trained source's old rows stay;
2. chunks not already indexed are embedded and their vectors upserted (retrieval ignores vectors
   without a committed chunk row);
3. one transaction replaces the chunk rows (re-train) and records the source's figures;
4. vectors of chunks that no longer exist are deleted.
A failure deletes the vectors (and a new source's rows) it added; old chunks keep serving.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.errors import ServiceError, ValidationFailed
from chatapp.services.ingest.types import Chunk, Document, Section
from chatapp.services.models import KnowledgeChunk, Source, utcnow

EMBED_BATCH = 32
Progress = Callable[[float], None]


def chunk_id(source_id: int, chunk: Chunk) -> str:
    digest = hashlib.sha1(chunk.indexed_text.encode("utf-8")).hexdigest()[:12]
    return f"{source_id}:{chunk.position}:{digest}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_progress(engine: Engine, source_id: int, fraction: float) -> None:
    """Record progress and prove the worker is alive (a stale heartbeat gets re-queued)."""
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is not None:
            source.progress = max(0.0, min(1.0, fraction))
            source.heartbeat_at = utcnow()
            session.add(source)


def document_for(source: Source) -> Document:
    """Extract the document of a text, Q&A, file or single-URL source."""
    from chatapp.services.ingest import extract

    meta = source.meta or {}
    settings = get_settings()
    if source.kind == "text":
        return extract.extract_text(meta.get("text", ""), title=source.title)
    if source.kind == "qa":
        question, answer = meta.get("question", ""), meta.get("answer", "")
        return Document(
            title=question,
            kind="qa",
            sections=[Section(text=f"{question}\n{answer}", heading=question)],
        )
    if source.kind == "file":
        path = Path(meta.get("path", ""))
        if not path.is_file():
            raise ValidationFailed("The uploaded file is missing; upload it again.")
        max_bytes = int(settings.max_upload_mb * 1024 * 1024)
        document = extract.extract_file(
            path.read_bytes(), meta.get("filename", path.name), max_bytes=max_bytes
        )
        document.filename = meta.get("filename", path.name)
        return document
    if source.kind in ("url", "page"):
        return fetch_document(source.url)
    raise ValidationFailed(f"Unknown source type: {source.kind}.")


def fetch_document(
    url: str, html: bytes | None = None, content_type: str = "text/html"
) -> Document:
    from chatapp.services.ingest import extract
    from chatapp.services.ingest.fetch import fetch

    settings = get_settings()
    final_url = url
    if html is None:
        page = fetch(url)
        html, content_type, final_url = page.body, page.content_type, page.final_url
    if "html" in content_type or "xml" in content_type:
        document = extract.extract_html(html, url=final_url, max_words=settings.max_url_words)
    else:
        text = html.decode("utf-8", errors="replace")
        words = text.split()
        if len(words) > settings.max_url_words:
            text = " ".join(words[: settings.max_url_words])
        document = extract.extract_text(text, title=final_url)
    document.url = final_url
    return document


def index_document(
    engine: Engine, source_id: int, document: Document, *, progress: Progress | None = None
) -> int:
    """Replace a source's chunks with those of `document`; returns the chunk count.

    A new source's chunk rows are committed before its vectors exist, so its text is searchable by
    keywords within a moment and semantically once embedded; a re-trained source keeps serving its
    old chunks until the new set is complete.
    """
    from chatapp.services.embeddings import get_embedder
    from chatapp.services.index import get_index
    from chatapp.services.ingest.chunk import chunk_document

    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is None:
            raise ValidationFailed("The source was deleted.")
        workspace_id, bot_id = source.workspace_id, source.bot_id
        old_ids = set(
            session.exec(select(KnowledgeChunk.id).where(KnowledgeChunk.source_id == source_id))
        )

    chunks = chunk_document(document)
    if not chunks:
        raise ValidationFailed("No readable text was found in this source.")
    embedder = get_embedder()
    index = get_index(embedder.dim)
    indexed = index.count(workspace_id=workspace_id, bot_id=bot_id, source_id=source_id)
    if old_ids and indexed < len(old_ids):
        # An earlier attempt died (SIGKILL) after its early rows but before their vectors:
        # start again, or the source would end `ready` with rows that no search can find.
        with session_scope(engine) as session:
            session.exec(delete(KnowledgeChunk).where(KnowledgeChunk.source_id == source_id))
        old_ids = set()
    ids = [chunk_id(source_id, chunk) for chunk in chunks]
    new = [(cid, chunk) for cid, chunk in zip(ids, chunks, strict=True) if cid not in old_ids]
    rows = [_row(cid, chunk, workspace_id, bot_id, source_id, document.url) for cid, chunk in new]
    early = not old_ids
    if early:
        with session_scope(engine) as session:
            _replace_rows(session, source_id, ids, rows)

    try:
        points = _embed(embedder, new, source_id, progress)
        index.upsert(workspace_id=workspace_id, bot_id=bot_id, points=points)
        with session_scope(engine) as session:
            if not early:
                _replace_rows(session, source_id, ids, rows)
            _record_stats(session, source_id, document, len(chunks))
    except BaseException:
        # Take back what this attempt added; a re-trained source's old chunks keep serving.
        index.delete_source(
            workspace_id=workspace_id, bot_id=bot_id, source_id=source_id, keep=old_ids
        )
        if early:
            with session_scope(engine) as session:
                session.exec(delete(KnowledgeChunk).where(KnowledgeChunk.source_id == source_id))
        raise
    index.delete_source(
        workspace_id=workspace_id, bot_id=bot_id, source_id=source_id, keep=set(ids)
    )
    return len(chunks)


def _row(cid: str, chunk: Chunk, workspace_id: int, bot_id: int, source_id: int, url: str):
    return KnowledgeChunk(
        id=cid,
        workspace_id=workspace_id,
        bot_id=bot_id,
        source_id=source_id,
        position=chunk.position,
        text=chunk.text,
        title=chunk.title[:300],
        heading=chunk.heading[:300],
        page=chunk.page,
        url=url[:2048],
        token_count=chunk.token_count,
    )


def _replace_rows(session, source_id: int, keep_ids: list[str], rows: list[KnowledgeChunk]) -> None:
    session.exec(
        delete(KnowledgeChunk).where(
            KnowledgeChunk.source_id == source_id, col(KnowledgeChunk.id).not_in(keep_ids)
        )
    )
    session.add_all(rows)


def _embed(embedder, new: list[tuple[str, Chunk]], source_id: int, progress: Progress | None):
    from chatapp.services.index import IndexPoint

    points: list[IndexPoint] = []
    for start in range(0, len(new), EMBED_BATCH):
        batch = new[start : start + EMBED_BATCH]
        vectors = embedder.embed_documents([chunk.indexed_text for _cid, chunk in batch])
        points += [
            IndexPoint(cid, vector, {"source_id": source_id})
            for (cid, _chunk), vector in zip(batch, vectors, strict=True)
        ]
        if progress:
            progress(0.1 + 0.8 * (start + len(batch)) / max(1, len(new)))
    return points


def _record_stats(session, source_id: int, document: Document, chunk_count: int) -> None:
    source = session.get(Source, source_id)
    if source is None:
        raise ValidationFailed("The source was deleted.")
    source.chunk_count = chunk_count
    source.char_count = document.char_count
    source.content_hash = content_hash(document.text)
    default_titles = ("", source.url, Path((source.meta or {}).get("filename", "")).stem)
    if document.title and source.kind in ("file", "url", "page") and source.title in default_titles:
        source.title = document.title[:300]
    session.add(source)


def mark_ready(engine: Engine, source_id: int) -> None:
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is not None:
            source.status, source.progress, source.error = "ready", 1.0, ""
            source.trained_at = source.updated_at = utcnow()
            session.add(source)


def mark_failed(engine: Engine, source_id: int, error: Exception) -> None:
    message = (
        error.message
        if isinstance(error, ServiceError)
        else (
            "Something went wrong while processing this source. "
            "Try again or contact the administrator."
        )
    )
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is not None:
            source.status, source.error = "error", message[:1000]
            source.updated_at = utcnow()
            session.add(source)
