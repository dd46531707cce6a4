"""Read path: a question -> the bot's best passages, ranked by dense + lexical evidence, cited.

Dense: the question's embedding searched in the bot's vectors (index.py). Lexical: the database's
full-text index over the bot's chunks (lexical.py: FTS5's BM25 on SQLite, a tsvector on
PostgreSQL), kept current per row by the transactions that write the chunks. The two rankings are
fused with weighted reciprocal rank fusion (dense counts double: on the benchmark, questions
phrased unlike the answer are found by meaning far more often than by shared words, while
exact-term questions still rank first). Vectors whose chunk row is gone (or not yet committed)
are ignored, so a re-train never shows a half state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from chatapp.services.knowledge import lexical
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.models import KnowledgeChunk, Source

# Fusion constants chosen on bench/retrieval.py (docs/ARCHITECTURE.md has the figures).
RRF_K = 10
DENSE_WEIGHT = 2.0
LEXICAL_WEIGHT = 1.0
CANDIDATES = 30
MIN_DENSE_SIMILARITY = 0.30  # below this, and with no strong lexical match, the bot does not know


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    source_id: int
    source_kind: str
    text: str
    title: str
    heading: str
    page: int | None
    url: str
    file_name: str  # the uploaded file's name, for citations of file sources
    score: float  # fused score (higher is better)
    dense_score: float  # cosine similarity, 0 when only lexical found it
    lexical_score: float  # BM25 score, 0 when only dense found it


@dataclass(frozen=True)
class Retrieval:
    passages: list[Passage]
    confident: bool  # False: nothing relevant enough, answer with the fallback


def retrieve(
    session: Session,
    *,
    workspace_id: int,
    bot_id: int,
    query: str,
    limit: int = 5,
    embedder=None,
    index=None,
    query_vector=None,
) -> Retrieval:
    """The bot's best passages for `query`, fused from dense and lexical rankings.

    `query_vector`: `query` embedded already (the chat embeds it while its transaction runs)."""
    query = (query or "").strip()
    if not query:
        return Retrieval([], False)
    if embedder is None:
        embedder = get_embedder()
    if index is None:
        index = get_index(embedder.dim)

    dense_hits = index.search(
        workspace_id=workspace_id,
        bot_id=bot_id,
        vector=embedder.embed_query(query) if query_vector is None else query_vector,
        limit=CANDIDATES,
    )
    lexical_hits = lexical.search(
        session, workspace_id=workspace_id, bot_id=bot_id, query=query, limit=CANDIDATES
    )

    dense = {hit.chunk_id: (rank, hit.score) for rank, hit in enumerate(dense_hits)}
    words = {chunk_id: (rank, score) for rank, (chunk_id, score) in enumerate(lexical_hits)}
    fused = _fused(dense, words)
    ordered = sorted(fused, key=fused.__getitem__, reverse=True)[: max(limit * 3, limit)]
    rows = _chunk_rows(session, workspace_id=workspace_id, bot_id=bot_id, chunk_ids=ordered)
    passages = []
    for chunk_id in ordered:
        if chunk_id not in rows:
            continue  # a vector whose chunk row is gone or not committed yet
        chunk, kind, meta = rows[chunk_id]
        passages.append(
            Passage(
                chunk_id=chunk_id,
                source_id=chunk.source_id,
                source_kind=kind,
                text=chunk.text,
                title=chunk.title,
                heading=chunk.heading,
                page=chunk.page,
                url=chunk.url,
                file_name=(meta or {}).get("filename", ""),
                score=fused[chunk_id],
                dense_score=dense.get(chunk_id, (0, 0.0))[1],
                lexical_score=words.get(chunk_id, (0, 0.0))[1],
            )
        )
        if len(passages) == limit:
            break
    best_dense = max((hit.score for hit in dense_hits if hit.chunk_id in rows), default=0.0)
    both_agree = bool(passages) and passages[0].dense_score > 0 and passages[0].lexical_score > 0
    confident = bool(passages) and (best_dense >= MIN_DENSE_SIMILARITY or both_agree)
    return Retrieval(passages, confident)


def _fused(
    dense: dict[str, tuple[int, float]], words: dict[str, tuple[int, float]]
) -> dict[str, float]:
    """Reciprocal rank fusion of the dense and lexical rankings: chunk id -> fused score."""
    fused: dict[str, float] = {}
    for ranking, weight in ((dense, DENSE_WEIGHT), (words, LEXICAL_WEIGHT)):
        for chunk_id, (rank, _score) in ranking.items():
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
    return fused


def _chunk_rows(
    session: Session, *, workspace_id: int, bot_id: int, chunk_ids: list[str]
) -> dict[str, tuple[KnowledgeChunk, str, Mapping[str, Any] | None]]:
    """The chunks (with their source's kind and meta) of this bot among `chunk_ids`, by id."""
    # By primary key only (a filter on the bot lets SQLite scan the bot's index instead: 80 ms
    # at 100k chunks); the tenant is checked on every row here.
    return {
        chunk.id: (chunk, kind, meta)
        for chunk, kind, meta in session.exec(
            select(KnowledgeChunk, Source.kind, Source.meta)
            .join(Source, col(Source.id) == KnowledgeChunk.source_id)
            .where(col(KnowledgeChunk.id).in_(chunk_ids))
            .options(defer(col(KnowledgeChunk.vector)))
        ).all()
        if chunk.workspace_id == workspace_id and chunk.bot_id == bot_id
    }
