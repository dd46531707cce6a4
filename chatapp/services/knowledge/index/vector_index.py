"""The vector index: the database itself by default, a Qdrant server or cluster by QDRANT_URL.

Without QDRANT_URL, `get_index()` is the embedded index (embedded.py): vectors stored with
their chunk rows, searched in memory by each process. With it, this module's `VectorIndex`: one
shared collection with tenant payload indexes (`workspace_id`, `bot_id`), where HNSW and the
indexes make filtered search fast. Every call names the workspace and the bot; a search filters
by both and checks both on every hit, so isolation does not depend on the filter alone.

Point ids are UUIDv5 of our stable chunk ids, so re-indexing the same chunk overwrites it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from chatapp.core.config import Settings, get_settings
from chatapp.core.db import get_engine, normalize_url
from chatapp.services.knowledge.index.embedded import EmbeddedIndex, VectorHit

__all__ = ["EmbeddedIndex", "IndexPoint", "VectorHit", "VectorIndex", "get_index"]

SHARED_COLLECTION = "chatapp_chunks"
_NAMESPACE = uuid.UUID("6f1c7b1e-9a55-4d7e-8f0b-2d9c3f0a7e11")
UPSERT_BATCH = 256


@dataclass(frozen=True)
class IndexPoint:
    chunk_id: str
    vector: np.ndarray
    payload: dict[str, Any] = field(default_factory=dict)


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def _match(key: str, value: Any) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


class VectorIndex:
    """Upsert, delete, count and search chunk vectors of one bot at a time, on a Qdrant server
    (a local-mode client in tests: the same calls, the same layout)."""

    external = True

    def __init__(self, client: QdrantClient, *, dim: int | None):
        self.client = client
        self.dim = dim
        self._known: set[str] = set()
        self._lock = threading.Lock()

    # --- the collection -------------------------------------------------------------------------

    def _ensure(self) -> None:
        """Create the collection lazily, sized from the embedder."""
        if SHARED_COLLECTION in self._known:
            return
        if self.dim is None:
            raise RuntimeError("the index needs the embedding size before it creates collections")
        with self._lock:
            if SHARED_COLLECTION in self._known:
                return
            if not self.client.collection_exists(SHARED_COLLECTION):
                self.client.create_collection(
                    SHARED_COLLECTION,
                    vectors_config=models.VectorParams(
                        size=self.dim, distance=models.Distance.COSINE
                    ),
                )
                for key in ("workspace_id", "bot_id"):
                    self.client.create_payload_index(
                        SHARED_COLLECTION,
                        field_name=key,
                        field_schema=models.IntegerIndexParams(
                            type=models.IntegerIndexType.INTEGER, lookup=True, range=False
                        ),
                    )
                self.client.create_payload_index(
                    SHARED_COLLECTION,
                    field_name="source_id",
                    field_schema=models.PayloadSchemaType.INTEGER,
                )
            self._known.add(SHARED_COLLECTION)

    def _exists(self) -> bool:
        return SHARED_COLLECTION in self._known or self.client.collection_exists(SHARED_COLLECTION)

    @staticmethod
    def _scope(workspace_id: int, bot_id: int, **extra: Any) -> models.Filter:
        conditions = [_match("workspace_id", workspace_id), _match("bot_id", bot_id)]
        conditions += [_match(key, value) for key, value in extra.items()]
        return models.Filter(must=conditions)

    # --- writes ---------------------------------------------------------------------------------

    def upsert(self, *, workspace_id: int, bot_id: int, points: list[IndexPoint]) -> None:
        if not points:
            return
        self._ensure()
        for start in range(0, len(points), UPSERT_BATCH):
            batch = points[start : start + UPSERT_BATCH]
            self.client.upsert(
                SHARED_COLLECTION,
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

    def delete_source(
        self, *, workspace_id: int, bot_id: int, source_id: int, keep: set[str] | None = None
    ) -> None:
        """Remove a source's points, except the chunk ids in `keep` (just re-indexed ones)."""
        if not self._exists():
            return
        scope = self._scope(workspace_id, bot_id, source_id=source_id)
        if keep:
            scope.must_not = [models.HasIdCondition(has_id=[point_id(c) for c in keep])]
        self.client.delete(
            SHARED_COLLECTION, points_selector=models.FilterSelector(filter=scope), wait=True
        )

    def delete_bot(self, *, workspace_id: int, bot_id: int) -> None:
        if not self._exists():
            return
        self.client.delete(
            SHARED_COLLECTION,
            points_selector=models.FilterSelector(filter=self._scope(workspace_id, bot_id)),
            wait=True,
        )

    def replace_bot(self, *, workspace_id: int, bot_id: int, points: list[IndexPoint]) -> None:
        """A bot's vectors become exactly `points` (re-indexing): overwritten, others removed."""
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

    def close(self) -> None:
        self.client.close()

    # --- reads ----------------------------------------------------------------------------------

    def stored_size(self, bot_id: int) -> int | None:
        """The vector size of the collection (None: none yet)."""
        if not self.client.collection_exists(SHARED_COLLECTION):
            return None
        vectors = self.client.get_collection(SHARED_COLLECTION).config.params.vectors
        return vectors.size if isinstance(vectors, models.VectorParams) else None

    def count(self, *, workspace_id: int, bot_id: int, source_id: int | None = None) -> int:
        if not self._exists():
            return 0
        extra = {"source_id": source_id} if source_id is not None else {}
        return self.client.count(
            SHARED_COLLECTION, count_filter=self._scope(workspace_id, bot_id, **extra), exact=True
        ).count

    def search(
        self, *, workspace_id: int, bot_id: int, vector: np.ndarray, limit: int
    ) -> list[VectorHit]:
        if not self._exists():
            return []
        # The tenant filter runs on payload indexes; every hit is checked again anyway.
        response = self.client.query_points(
            SHARED_COLLECTION,
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


_indexes: dict[tuple, VectorIndex | EmbeddedIndex] = {}
_indexes_lock = threading.Lock()


def server_client(settings: Settings) -> QdrantClient:
    return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key or None)


def get_index(dim: int | None = None, settings: Settings | None = None):
    """The process-wide index: the embedded one on the configured database, or the Qdrant server.

    `dim` (the embedder's size) is needed only to create the server's collection: deleting and
    counting work without loading an embedding model.
    """
    settings = settings or get_settings()
    key = (settings.qdrant_url, normalize_url(settings.database_url))
    with _indexes_lock:
        if key not in _indexes:
            _indexes[key] = (
                VectorIndex(server_client(settings), dim=dim)
                if settings.qdrant_url
                else EmbeddedIndex(get_engine(settings.database_url), dim=dim)
            )
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
    """Release clients and in-memory indexes: tests and shutdown."""
    with _indexes_lock:
        for index in _indexes.values():
            index.close()
        _indexes.clear()
