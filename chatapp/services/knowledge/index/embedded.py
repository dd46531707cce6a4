"""The embedded default's vector search: the database holds the vectors, each process an index.

Every chunk row carries its vector (vectors.py), written in the same transaction as the row, so
the database is the one store of record and any number of processes can serve the same install.
Each process keeps a derived, in-memory index per bot, loaded on the bot's first search and
searched exactly (one matrix-vector product: ~5 ms at 100k chunks of 384 dimensions). Before a
search the index compares the bot's `knowledge_version` (one indexed read), which every transaction
that changes the bot's chunks raises (`knowledge_changed`); when it moved, only the sources whose
chunks changed are read again (a source's signature is its chunk count and newest row), so a new
page is searchable as soon as its rows commit, without a restart and without reloading the bot.

An index is a list of segments (the rows loaded together) with a mask of live rows: a changed
source's old rows are masked, its new rows appended as a segment; small segments are merged and a
segment mostly masked is rebuilt, so memory stays one float32 copy of the live vectors.
Chunks of another workspace or bot are never loaded: every query names both.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chatapp.services.knowledge.index import codec
from chatapp.services.models import Bot, KnowledgeChunk

MAX_SEGMENTS = 8  # past this, every segment but the largest is merged into one
MAX_DEAD_SHARE = 0.5  # a segment with more masked rows than this is rebuilt
MAX_INDEXED_CHUNKS = 400_000  # across the bots a process holds (~600 MB at 384 dims)
LOAD_BATCH = 500  # source ids per query when catching up
STREAM_ROWS = 5000  # rows decoded at a time while loading


def knowledge_changed(session: Session, bot_id: int) -> None:
    """Record, in the caller's transaction, that a bot's chunks changed: every process's index of
    the bot catches up before its next search."""
    session.exec(
        update(Bot)
        .where(col(Bot.id) == bot_id)
        .values(knowledge_version=Bot.knowledge_version + 1)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    score: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class Segment:
    chunk_ids: np.ndarray  # object array of str
    source_ids: np.ndarray  # int64
    matrix: np.ndarray  # float32 (n, dim), rows L2-normalised
    live: np.ndarray  # bool: False for rows of a source that changed since they were loaded

    @property
    def live_count(self) -> int:
        return int(self.live.sum())

    def without_sources(self, source_ids: np.ndarray) -> Segment:
        hit = np.isin(self.source_ids, source_ids)
        if not (hit & self.live).any():
            return self
        return replace(self, live=self.live & ~hit)

    def compacted(self) -> Segment:
        keep = self.live
        return Segment(
            self.chunk_ids[keep], self.source_ids[keep], self.matrix[keep], self.live[keep]
        )


def _merged(segments: list[Segment]) -> Segment:
    parts = [s.compacted() for s in segments]
    return Segment(
        np.concatenate([p.chunk_ids for p in parts]),
        np.concatenate([p.source_ids for p in parts]),
        np.concatenate([p.matrix for p in parts]),
        np.concatenate([p.live for p in parts]),
    )


class BotIndex:
    """One bot's vectors as one process holds them: immutable, swapped whole when it catches up.
    The ids and the live mask of all segments are joined once here, not at every search."""

    def __init__(self, version: int, signatures: dict[int, tuple], segments: tuple[Segment, ...]):
        self.version = version
        self.signatures = signatures  # source id -> (chunk count, newest row)
        self.segments = segments
        if segments:
            self._chunk_ids = np.concatenate([s.chunk_ids for s in segments])
            self._source_ids = np.concatenate([s.source_ids for s in segments])
            live = np.concatenate([s.live for s in segments])
            self._dead = None if live.all() else ~live
            self._live_count = int(live.sum())
        else:
            self._live_count = 0

    def __len__(self) -> int:
        return self._live_count

    def top(self, vector: np.ndarray, limit: int) -> list[tuple[str, float, int]]:
        """(chunk id, cosine, source id) of the `limit` nearest live rows, best first."""
        limit = min(limit, self._live_count)
        if limit <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        parts = [s.matrix @ query for s in self.segments]
        scores = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if self._dead is not None:
            scores[self._dead] = -np.inf
        best = np.argpartition(-scores, limit - 1)[:limit]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(str(self._chunk_ids[i]), float(scores[i]), int(self._source_ids[i])) for i in best]


class EmbeddedIndex:
    """The vector index of the embedded default (no QDRANT_URL): same calls as the Qdrant one.

    Writes need nothing here: ingestion stores each vector with its chunk row and calls
    `knowledge_changed`; `upsert` and `delete_source` exist so callers need not know the mode.
    """

    external = False

    def __init__(self, engine: Engine, *, dim: int | None, max_chunks: int = MAX_INDEXED_CHUNKS):
        self.engine = engine
        self.dim = dim
        self.max_chunks = max_chunks
        self._bots: OrderedDict[tuple[int, int], BotIndex] = OrderedDict()
        self._lock = threading.Lock()  # guards the dict
        self._loading = threading.Lock()  # one catch-up at a time: a second waits, then reuses

    # --- writes: the chunk rows are the store --------------------------------------------------

    def upsert(self, *, workspace_id: int, bot_id: int, points: list) -> None:
        """Nothing to do: the vectors were stored with their chunk rows."""

    def delete_source(
        self, *, workspace_id: int, bot_id: int, source_id: int, keep: set[str] | None = None
    ) -> None:
        """Nothing to do: a source's rows (and their vectors) go with the source."""

    def delete_bot(self, *, workspace_id: int, bot_id: int) -> None:
        with self._lock:
            self._bots.pop((workspace_id, bot_id), None)

    def held(self) -> dict[str, int]:
        """What this process holds in memory (health checks)."""
        with self._lock:
            return {"bots": len(self._bots), "chunks": sum(len(i) for i in self._bots.values())}

    def close(self) -> None:
        with self._lock:
            self._bots.clear()

    # --- reads ----------------------------------------------------------------------------------

    def count(self, *, workspace_id: int, bot_id: int, source_id: int | None = None) -> int:
        where = [
            KnowledgeChunk.workspace_id == workspace_id,
            KnowledgeChunk.bot_id == bot_id,
            col(KnowledgeChunk.vector).is_not(None),
        ]
        if source_id is not None:
            where.append(KnowledgeChunk.source_id == source_id)
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).where(*where)).one())

    def stored_size(self, bot_id: int) -> int | None:
        """The size of the bot's stored vectors (None: none stored yet)."""
        with Session(self.engine) as session:
            blob = session.exec(
                select(KnowledgeChunk.vector)
                .where(KnowledgeChunk.bot_id == bot_id, col(KnowledgeChunk.vector).is_not(None))
                .limit(1)
            ).first()
        return codec.dimension(blob) if blob else None

    def search(
        self, *, workspace_id: int, bot_id: int, vector: np.ndarray, limit: int
    ) -> list[VectorHit]:
        index = self.bot_index(workspace_id, bot_id, len(vector))
        return [
            VectorHit(chunk_id, score, {"source_id": source_id})
            for chunk_id, score, source_id in index.top(vector, limit)
        ]

    def bot_index(self, workspace_id: int, bot_id: int, dim: int) -> BotIndex:
        """The bot's index, caught up with the database's knowledge version."""
        key = (workspace_id, bot_id)
        with Session(self.engine) as session:
            version = session.exec(
                select(Bot.knowledge_version).where(
                    Bot.id == bot_id, Bot.workspace_id == workspace_id
                )
            ).first()
            if version is None:
                self.delete_bot(workspace_id=workspace_id, bot_id=bot_id)
                return BotIndex(0, {}, ())
            with self._lock:
                current = self._bots.get(key)
                if current is not None and current.version == version:
                    self._bots.move_to_end(key)
                    return current
            with self._loading:
                with self._lock:
                    current = self._bots.get(key)
                if current is not None and current.version == version:
                    return current
                updated = _caught_up(session, current, version, workspace_id, bot_id, dim)
        with self._lock:
            self._bots[key] = updated
            self._bots.move_to_end(key)
            self._evict()
        return updated

    def _evict(self) -> None:
        total = sum(len(index) for index in self._bots.values())
        while total > self.max_chunks and len(self._bots) > 1:
            _key, index = self._bots.popitem(last=False)
            total -= len(index)


def _caught_up(
    session: Session,
    current: BotIndex | None,
    version: int,
    workspace_id: int,
    bot_id: int,
    dim: int,
) -> BotIndex:
    """`current` with the sources that changed since it was loaded read again."""
    scope = (
        KnowledgeChunk.workspace_id == workspace_id,
        KnowledgeChunk.bot_id == bot_id,
        col(KnowledgeChunk.vector).is_not(None),
    )
    signatures = {
        source_id: (count, str(newest))
        for source_id, count, newest in session.exec(
            select(KnowledgeChunk.source_id, func.count(), func.max(KnowledgeChunk.created_at))
            .where(*scope)
            .group_by(col(KnowledgeChunk.source_id))
        ).all()
    }
    old = current.signatures if current is not None else {}
    changed = sorted(sid for sid, sig in signatures.items() if old.get(sid) != sig)
    stale = np.array(sorted(set(old) - set(signatures) | set(changed)), dtype=np.int64)
    segments = [s.without_sources(stale) for s in current.segments] if current else []
    if changed:
        expected = sum(signatures[sid][0] for sid in changed)
        loaded = _load(session, scope, None if current is None else changed, dim, expected)
        if loaded is not None:
            segments.append(loaded)
    return BotIndex(version, signatures, tuple(_compacted(segments)))


def _load(
    session: Session, scope, source_ids: list[int] | None, dim: int, expected: int
) -> Segment | None:
    """The rows of `source_ids` (all the bot's when None), streamed into one float32 matrix
    allocated for the `expected` rows: blobs are decoded a batch at a time, so loading costs
    little more than the matrix itself."""
    size = dim * codec.STORED.itemsize
    ids: list[str] = []
    sources: list[int] = []
    matrix = np.empty((expected, dim), dtype=np.float32)
    batches = (
        [None]
        if source_ids is None
        else [source_ids[i : i + LOAD_BATCH] for i in range(0, len(source_ids), LOAD_BATCH)]
    )
    for batch in batches:
        statement = select(KnowledgeChunk.id, KnowledgeChunk.source_id, KnowledgeChunk.vector)
        statement = statement.where(*scope, func.length(KnowledgeChunk.vector) == size)
        if batch is not None:
            statement = statement.where(col(KnowledgeChunk.source_id).in_(batch))
        result = session.exec(statement.execution_options(yield_per=STREAM_ROWS))
        for rows in result.partitions():
            rows = rows[: expected - len(ids)]  # rows committed since the count wait their turn
            if rows:
                matrix[len(ids) : len(ids) + len(rows)] = codec.decode_many([r[2] for r in rows])
                ids += [row[0] for row in rows]
                sources += [row[1] for row in rows]
    if not ids:
        return None
    if len(ids) < expected:
        matrix = matrix[: len(ids)].copy()
    return Segment(
        np.array(ids, dtype=object),
        np.array(sources, dtype=np.int64),
        matrix,
        np.ones(len(ids), dtype=bool),
    )


def _compacted(segments: list[Segment]) -> list[Segment]:
    segments = [s for s in segments if s.live_count]
    segments = [
        s.compacted() if 1 - s.live_count / len(s.live) > MAX_DEAD_SHARE else s for s in segments
    ]
    if len(segments) > MAX_SEGMENTS:
        largest = max(segments, key=lambda s: len(s.live))
        rest = [s for s in segments if s is not largest]
        segments = [largest, _merged(rest)]
    return segments
