"""Write path for one source: load -> extract -> chunk -> embed -> index, with no half states.

Order of writes (so the bot never knows nothing, and a failure leaves nothing behind):
1. text and chunks are computed in memory; chunks whose row already holds a vector are kept;
2. the others are embedded (and, with a Qdrant server, upserted there: retrieval ignores vectors
   without a committed chunk row);
3. one transaction replaces the source's chunk rows, each new row with its vector (the store of
   record of the embedded default; the full-text index follows by trigger or generated column),
   records the source's figures and raises the bot's knowledge version, so every process's index
   catches up before its next search;
4. with a server, vectors of chunks that no longer exist are deleted.
A failure before step 3 leaves the rows as they were (old chunks keep serving) and takes back
what it upserted to a server; nothing of a half-ingested source is ever searchable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.knowledge import schemas
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.codec import decode_many, encode
from chatapp.services.knowledge.index.embedded import knowledge_changed
from chatapp.services.knowledge.index.vector_index import IndexPoint, get_index
from chatapp.services.knowledge.ingest import extract
from chatapp.services.knowledge.ingest.chunk import chunk_document
from chatapp.services.knowledge.ingest.fetch import fetch
from chatapp.services.knowledge.ingest.types import Chunk, Document, Section
from chatapp.services.models import KnowledgeChunk, Source, SourceStatus, utcnow

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
    meta = source.meta or {}
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
        data = path.read_bytes()
        schemas.check_stored_upload(meta.get("filename", path.name), data)  # the limit may shrink
        document = extract.extract_file(
            data, meta.get("filename", path.name), max_bytes=schemas.upload_limit_bytes()
        )
        document.filename = meta.get("filename", path.name)
        return document
    if source.kind in ("url", "page"):
        return fetch_document(source.url)
    raise ValidationFailed(f"Unknown source type: {source.kind}.")


def fetch_document(
    url: str, html: bytes | None = None, content_type: str = "text/html"
) -> Document:

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
    """Replace a source's chunks with those of `document`; returns the chunk count."""
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is None:
            raise ValidationFailed("The source was deleted.")
        workspace_id, bot_id = source.workspace_id, source.bot_id
        embedded = set(
            session.exec(
                select(KnowledgeChunk.id).where(
                    KnowledgeChunk.source_id == source_id, col(KnowledgeChunk.vector).is_not(None)
                )
            )
        )

    chunks = chunk_document(document)
    if not chunks:
        raise ValidationFailed("No readable text was found in this source.")
    embedder = get_embedder()
    index = get_index(embedder.dim)
    ids = [chunk_id(source_id, chunk) for chunk in chunks]
    new = [(cid, chunk) for cid, chunk in zip(ids, chunks, strict=True) if cid not in embedded]
    try:
        vectors = _embed(embedder, new, progress)
        rows = [
            _row(cid, chunk, workspace_id, bot_id, source_id, document.url, vector)
            for (cid, chunk), vector in zip(new, vectors, strict=True)
        ]
        if index.external:
            index.upsert(workspace_id=workspace_id, bot_id=bot_id, points=_points(rows))
        with session_scope(engine) as session:
            kept = [cid for cid in ids if cid in embedded]
            session.exec(
                delete(KnowledgeChunk).where(
                    col(KnowledgeChunk.source_id) == source_id, col(KnowledgeChunk.id).not_in(kept)
                )
            )
            session.add_all(rows)
            _record_stats(session, source_id, document, len(chunks))
            knowledge_changed(session, bot_id)
    except BaseException:
        # Take back what this attempt upserted to a server; the old chunks keep serving.
        index.delete_source(
            workspace_id=workspace_id, bot_id=bot_id, source_id=source_id, keep=embedded
        )
        raise
    index.delete_source(
        workspace_id=workspace_id, bot_id=bot_id, source_id=source_id, keep=set(ids)
    )
    return len(chunks)


def _row(
    cid: str,
    chunk: Chunk,
    workspace_id: int,
    bot_id: int,
    source_id: int,
    url: str,
    vector,
) -> KnowledgeChunk:
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
        vector=encode(vector),
    )


def _points(rows: list[KnowledgeChunk]) -> list:
    """The rows as a Qdrant server's points (the embedded index ignores them)."""
    if not rows:
        return []
    matrix = decode_many([row.vector for row in rows])
    return [
        IndexPoint(row.id, vector, {"source_id": row.source_id})
        for row, vector in zip(rows, matrix, strict=True)
    ]


def _embed(embedder, new: list[tuple[str, Chunk]], progress: Progress | None) -> list:
    vectors: list = []
    for start in range(0, len(new), EMBED_BATCH):
        batch = new[start : start + EMBED_BATCH]
        vectors += list(embedder.embed_documents([chunk.indexed_text for _cid, chunk in batch]))
        if progress:
            progress(0.1 + 0.8 * (start + len(batch)) / max(1, len(new)))
    return vectors


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
            source.status, source.progress, source.error = SourceStatus.READY, 1.0, ""
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
            source.status, source.error = SourceStatus.ERROR, message[:1000]
            source.updated_at = utcnow()
            session.add(source)
