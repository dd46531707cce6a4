"""Re-embed the knowledge with the current embedder: `python -m chatapp reindex`.

Changing the embedding model (or provider, or size) changes the vector space, so the stored
vectors must be made again. The chunk rows in SQL are the text of record: each bot's chunks are
embedded as ingestion embeds them (`Chunk.indexed_text`) and replace the bot's vectors, with the
same point ids. Nothing is fetched or parsed again.

The new vectors are written into the chunk rows (the embedded default's store of record), one
bot per transaction that also raises the bot's knowledge version. A Qdrant server keeps one shared
collection of one size: when the size changes, every bot is re-indexed at once (no bot or
workspace filter) into a new collection. Run it with the app stopped and start the app with the
new embedder afterwards: questions asked meanwhile would compare vectors of two models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index import codec
from chatapp.services.knowledge.index.embedded import knowledge_changed
from chatapp.services.knowledge.index.vector_index import (
    EmbeddedIndex,
    IndexPoint,
    VectorIndex,
    get_index,
)
from chatapp.services.knowledge.ingest.pipeline import EMBED_BATCH
from chatapp.services.knowledge.ingest.types import Chunk
from chatapp.services.models import Bot, KnowledgeChunk


@dataclass
class ReindexReport:
    size: int  # the vectors' size now
    vectors: dict[int, int] = field(default_factory=dict)  # bot id -> vectors written


def reindex(
    *,
    workspace_id: int | None = None,
    bot_id: int | None = None,
    embedder=None,
    index: VectorIndex | EmbeddedIndex | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReindexReport:
    """Re-embed the chosen bots' chunks (all bots by default); `progress(bot_id, vectors)`."""
    if embedder is None:
        embedder = get_embedder()
    index = index or get_index(embedder.dim)
    with session_scope() as session:
        query = select(Bot.id, Bot.workspace_id).order_by(col(Bot.id))
        if workspace_id is not None:
            query = query.where(Bot.workspace_id == workspace_id)
        if bot_id is not None:
            query = query.where(Bot.id == bot_id)
        bots = list(session.exec(query).all())
    if bot_id is not None and not bots:
        raise ValidationFailed(
            f"No bot {bot_id}" + (" in that workspace." if workspace_id else ".")
        )
    if index.external and bots:
        size = index.stored_size(bots[0][0])
        if size not in (None, embedder.dim):
            if workspace_id is not None or bot_id is not None:
                raise ValidationFailed(
                    f"The server's collection holds {size}-dimensional vectors and the embedder "
                    f"makes {embedder.dim}: re-index every bot at once (no --bot, no --workspace)."
                )
            index.drop_shared()
    report = ReindexReport(size=embedder.dim)
    for one_bot, one_workspace in bots:
        points = _embedded_chunks(embedder, one_bot)
        _store(one_bot, points)
        if index.external:
            index.replace_bot(workspace_id=one_workspace, bot_id=one_bot, points=points)
        else:
            index.delete_bot(workspace_id=one_workspace, bot_id=one_bot)  # reloaded on use
        report.vectors[one_bot] = len(points)
        if progress:
            progress(one_bot, len(points))
    return report


def _store(bot_id: int, points: list[IndexPoint]) -> None:
    """The bot's new vectors into its chunk rows, in one transaction."""
    if not points:
        return
    statement = (
        update(KnowledgeChunk)
        .where(col(KnowledgeChunk.id) == bindparam("chunk_id"))
        .values(vector=bindparam("blob"))
    )
    with session_scope() as session:
        session.connection().execute(
            statement,
            [{"chunk_id": p.chunk_id, "blob": codec.encode(p.vector)} for p in points],
        )
        knowledge_changed(session, bot_id)


def _embedded_chunks(embedder, bot_id: int) -> list[IndexPoint]:
    with session_scope() as session:
        rows = session.exec(
            select(KnowledgeChunk)
            .where(KnowledgeChunk.bot_id == bot_id)
            .order_by(col(KnowledgeChunk.source_id), col(KnowledgeChunk.position))
        ).all()
        chunks = [
            (row.id, row.source_id, Chunk(row.text, row.position, row.title, row.heading))
            for row in rows
        ]
    points: list[IndexPoint] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = embedder.embed_documents([chunk.indexed_text for _id, _source, chunk in batch])
        points += [
            IndexPoint(chunk_id, vector, {"source_id": source_id})
            for (chunk_id, source_id, _chunk), vector in zip(batch, vectors, strict=True)
        ]
    return points
