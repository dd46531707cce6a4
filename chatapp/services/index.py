"""The vector index: Qdrant, embedded (local mode) by default, a server or cluster by QDRANT_URL.

Layout follows the measured costs (docs/ARCHITECTURE.md): Qdrant's local mode is a pure-Python
store whose payload-filtered search slows to ~240 ms at 10k points, while an unfiltered search of a
small collection stays ~10 ms. So the embedded default keeps **one collection per bot**; a server
keeps **one shared collection** with tenant payload indexes (`workspace_id`, `bot_id`), where HNSW
and the indexes make filtered search fast. Every call names the workspace and the bot; a server
search filters by both, and a per-bot search checks both on every hit, so isolation does not
depend on collection naming alone.

In local mode, searches do not go through Qdrant at all: each bot's vectors are also held in a
NumPy matrix (`vector_cache.py`) and searched exactly, ~30x faster than local Qdrant at 20k points.

Point ids are UUIDv5 of our stable chunk ids, so re-indexing the same chunk overwrites it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from chatapp.services.config import Settings, get_settings
from chatapp.services.vector_cache import BotVectors, VectorCache

SHARED_COLLECTION = "chatapp_chunks"
_NAMESPACE = uuid.UUID("6f1c7b1e-9a55-4d7e-8f0b-2d9c3f0a7e11")
UPSERT_BATCH = 256
SCROLL_BATCH = 4096


@dataclass(frozen=True)
class IndexPoint:
    chunk_id: str
    vector: np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    score: float
    payload: dict[str, Any]


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def _match(key: str, value: Any) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


class VectorIndex:
    """Upsert, delete, count and search chunk vectors of one bot at a time."""

    def __init__(self, client: QdrantClient, *, dim: int | None, per_bot_collections: bool):
        self.client = client
        self.dim = dim
        self.per_bot_collections = per_bot_collections
        self._known: set[str] = set()
        self._lock = threading.Lock()
        # Local mode: exact in-memory search per bot (see the module docstring).
        self._cache = VectorCache() if per_bot_collections else None

    # --- collections ----------------------------------------------------------------------------

    def _collection(self, bot_id: int) -> str:
        return f"bot_{bot_id}" if self.per_bot_collections else SHARED_COLLECTION

    def _ensure(self, name: str) -> None:
        """Create the collection lazily, sized from the embedder."""
        if name in self._known:
            return
        if self.dim is None:
            raise RuntimeError("the index needs the embedding size before it creates collections")
        with self._lock:
            if name in self._known:
                return
            if not self.client.collection_exists(name):
                self.client.create_collection(
                    name,
                    vectors_config=models.VectorParams(
                        size=self.dim, distance=models.Distance.COSINE
                    ),
                )
                if not self.per_bot_collections:
                    for key in ("workspace_id", "bot_id"):
                        self.client.create_payload_index(
                            name,
                            field_name=key,
                            field_schema=models.IntegerIndexParams(
                                type=models.IntegerIndexType.INTEGER, lookup=True, range=False
                            ),
                        )
                    self.client.create_payload_index(
                        name, field_name="source_id", field_schema=models.PayloadSchemaType.INTEGER
                    )
            self._known.add(name)

    def _exists(self, name: str) -> bool:
        return name in self._known or self.client.collection_exists(name)

    @staticmethod
    def _scope(workspace_id: int, bot_id: int, **extra: Any) -> models.Filter:
        conditions = [_match("workspace_id", workspace_id), _match("bot_id", bot_id)]
        conditions += [_match(key, value) for key, value in extra.items()]
        return models.Filter(must=conditions)

    # --- writes ---------------------------------------------------------------------------------

    def upsert(self, *, workspace_id: int, bot_id: int, points: list[IndexPoint]) -> None:
        if not points:
            return
        name = self._collection(bot_id)
        self._ensure(name)
        for start in range(0, len(points), UPSERT_BATCH):
            batch = points[start : start + UPSERT_BATCH]
            self.client.upsert(
                name,
                points=[
                    models.PointStruct(
                        id=point_id(p.chunk_id),
                        vector=np.asarray(p.vector, dtype=np.float32).tolist(),
                        payload={
                            **p.payload,
                            "chunk_id": p.chunk_id,
                            "workspace_id": workspace_id,
                            "bot_id": bot_id,
                        },
                    )
                    for p in batch
                ],
                wait=True,
            )
        if self._cache is not None:
            self._cache.upsert(
                (name, workspace_id, bot_id),
                [p.chunk_id for p in points],
                [int(p.payload.get("source_id", 0)) for p in points],
                np.stack([np.asarray(p.vector, dtype=np.float32) for p in points]),
            )

    def upsert_copied(self, bot_id: int, points: list[models.PointStruct]) -> None:
        """Points copied as they are from another store (`vector_copy.py`): ids, vectors and
        payloads (workspace, bot, chunk) unchanged."""
        name = self._collection(bot_id)
        self._ensure(name)
        self.client.upsert(name, points=points, wait=True)
        if self._cache is not None:
            self._cache.drop_collection(name)  # reloaded from the store on the next search

    def delete_source(
        self, *, workspace_id: int, bot_id: int, source_id: int, keep: set[str] | None = None
    ) -> None:
        """Remove a source's points, except the chunk ids in `keep` (just re-indexed ones)."""
        name = self._collection(bot_id)
        if not self._exists(name):
            return
        scope = self._scope(workspace_id, bot_id, source_id=source_id)
        if keep:
            scope.must_not = [models.HasIdCondition(has_id=[point_id(c) for c in keep])]
        self.client.delete(name, points_selector=models.FilterSelector(filter=scope), wait=True)
        if self._cache is not None:
            self._cache.delete_source((name, workspace_id, bot_id), source_id, keep)

    def delete_bot(self, *, workspace_id: int, bot_id: int) -> None:
        name = self._collection(bot_id)
        if not self._exists(name):
            return
        if self.per_bot_collections:
            self.client.delete_collection(name)
            self._known.discard(name)
            self._cache.drop_collection(name)
            return
        self.client.delete(
            name,
            points_selector=models.FilterSelector(filter=self._scope(workspace_id, bot_id)),
            wait=True,
        )

    def replace_bot(self, *, workspace_id: int, bot_id: int, points: list[IndexPoint]) -> None:
        """A bot's vectors become exactly `points` (re-indexing). Per-bot collections are made
        anew (at the embedder's size); in the shared collection the points are overwritten and
        the bot's others removed."""
        if self.per_bot_collections:
            self.delete_bot(workspace_id=workspace_id, bot_id=bot_id)
            self.upsert(workspace_id=workspace_id, bot_id=bot_id, points=points)
            return
        self.upsert(workspace_id=workspace_id, bot_id=bot_id, points=points)
        scope = self._scope(workspace_id, bot_id)
        scope.must_not = [models.HasIdCondition(has_id=[point_id(p.chunk_id) for p in points])]
        self.client.delete(
            SHARED_COLLECTION, points_selector=models.FilterSelector(filter=scope), wait=True
        )

    def drop_shared(self) -> None:
        """Delete the shared collection (its vector size changes only this way)."""
        if self.client.collection_exists(SHARED_COLLECTION):
            self.client.delete_collection(SHARED_COLLECTION)
        self._known.discard(SHARED_COLLECTION)

    # --- reads ----------------------------------------------------------------------------------

    def stored_size(self, bot_id: int) -> int | None:
        """The vector size of the collection that holds `bot_id`'s points (None: none yet)."""
        name = self._collection(bot_id)
        if not self.client.collection_exists(name):
            return None
        vectors = self.client.get_collection(name).config.params.vectors
        return vectors.size if isinstance(vectors, models.VectorParams) else None

    def count(self, *, workspace_id: int, bot_id: int, source_id: int | None = None) -> int:
        name = self._collection(bot_id)
        if not self._exists(name):
            return 0
        extra = {"source_id": source_id} if source_id is not None else {}
        return self.client.count(
            name, count_filter=self._scope(workspace_id, bot_id, **extra), exact=True
        ).count

    def search(
        self, *, workspace_id: int, bot_id: int, vector: np.ndarray, limit: int
    ) -> list[VectorHit]:
        name = self._collection(bot_id)
        if not self._exists(name):
            return []
        if self._cache is not None:
            vectors = self._cache.get(
                (name, workspace_id, bot_id), lambda: self._load(name, workspace_id, bot_id)
            )
            return [
                VectorHit(chunk_id, score, {"source_id": source_id})
                for chunk_id, score, source_id in vectors.top(vector, limit)
            ]
        # A server: the tenant filter runs on payload indexes; every hit is checked again anyway.
        response = self.client.query_points(
            name,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            query_filter=self._scope(workspace_id, bot_id),
            limit=limit,
            with_payload=True,
        )
        return [
            VectorHit(str(p.payload.get("chunk_id")), float(p.score), p.payload)
            for p in response.points
            if p.payload.get("workspace_id") == workspace_id and p.payload.get("bot_id") == bot_id
        ]

    def _load(self, name: str, workspace_id: int, bot_id: int) -> BotVectors:
        """Every point of this bot in a local collection, for the in-memory search."""
        chunk_ids: list[str] = []
        source_ids: list[int] = []
        rows: list[list[float]] = []
        offset = None
        while True:
            points, offset = self.client.scroll(
                name,
                limit=SCROLL_BATCH,
                offset=offset,
                with_payload=["chunk_id", "source_id", "workspace_id", "bot_id"],
                with_vectors=True,
            )
            for point in points:
                payload = point.payload or {}
                if payload.get("workspace_id") == workspace_id and payload.get("bot_id") == bot_id:
                    chunk_ids.append(str(payload.get("chunk_id")))
                    source_ids.append(int(payload.get("source_id", 0)))
                    rows.append(point.vector)
            if offset is None:
                break
        if not rows:
            return BotVectors.empty(self.dim or 1)
        return BotVectors.empty(len(rows[0])).with_upserted(
            chunk_ids, source_ids, np.asarray(rows, dtype=np.float32)
        )


_indexes: dict[tuple, VectorIndex] = {}
_indexes_lock = threading.Lock()


def build_client(settings: Settings) -> tuple[QdrantClient, bool]:
    """A client for the configured store and whether it is the embedded local mode."""
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key or None), False
    settings.qdrant_path.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(settings.qdrant_path)), True


def get_index(dim: int | None = None, settings: Settings | None = None) -> VectorIndex:
    """The process-wide index for the configured store (one client per store).

    `dim` (the embedder's size) is needed only to create collections: deleting and counting work
    without loading an embedding model.
    """
    settings = settings or get_settings()
    key = (settings.qdrant_url, str(settings.qdrant_path))
    with _indexes_lock:
        if key not in _indexes:
            client, local = build_client(settings)
            _indexes[key] = VectorIndex(client, dim=dim, per_bot_collections=local)
        index = _indexes[key]
        if dim is not None:
            if index.dim not in (None, dim):
                raise RuntimeError(
                    f"the index holds {index.dim}-dimensional vectors but the embedder makes "
                    f"{dim}: run `python -m chatapp reindex` after changing the embedding model"
                )
            index.dim = dim
        return index


def close_indexes() -> None:
    """Release clients (local mode holds a lock on its directory): tests and shutdown."""
    with _indexes_lock:
        for index in _indexes.values():
            index.client.close()
        _indexes.clear()
