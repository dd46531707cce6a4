"""Exact in-memory search over one bot's vectors, for the embedded (local-mode) index.

Qdrant's local mode is pure Python: a query over ~20k points took ~100 ms here, while one NumPy
matrix-vector product over the same vectors takes a few milliseconds. Local mode already keeps every
point in memory, so holding a float32 copy per bot costs little (20k x 384 dims = 30 MB) and makes
the embedded default fast enough for the issue's 50 ms budget. Qdrant stays the store of record;
this cache is filled from it on a bot's first search and updated in place by every write made
through `VectorIndex` (local mode has one process per data directory, so no write can bypass it).

Each entry belongs to one (workspace, bot): points whose payload names another tenant are never
loaded into it. Entries are immutable snapshots swapped under a lock, so a search never sees half a
write. Least recently used bots are evicted past `MAX_CACHED_POINTS`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

MAX_CACHED_POINTS = 400_000  # ~600 MB of 384-dim float32 vectors across all cached bots


@dataclass(frozen=True)
class BotVectors:
    chunk_ids: np.ndarray  # object array of str
    source_ids: np.ndarray  # int64
    matrix: np.ndarray  # float32 (n, dim), rows L2-normalised

    @classmethod
    def empty(cls, dim: int) -> BotVectors:
        return cls(
            np.array([], dtype=object),
            np.array([], dtype=np.int64),
            np.zeros((0, dim), dtype=np.float32),
        )

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def top(self, vector: np.ndarray, limit: int) -> list[tuple[str, float, int]]:
        """(chunk id, cosine, source id) of the `limit` nearest rows, best first."""
        if not len(self) or limit <= 0:
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        limit = min(limit, len(scores))
        best = np.argpartition(-scores, limit - 1)[:limit]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(str(self.chunk_ids[i]), float(scores[i]), int(self.source_ids[i])) for i in best]

    def with_upserted(
        self, chunk_ids: list[str], source_ids: list[int], vectors: np.ndarray
    ) -> BotVectors:
        replaced = np.isin(self.chunk_ids, np.array(chunk_ids, dtype=object))
        keep = ~replaced
        return BotVectors(
            np.concatenate([self.chunk_ids[keep], np.array(chunk_ids, dtype=object)]),
            np.concatenate([self.source_ids[keep], np.array(source_ids, dtype=np.int64)]),
            np.concatenate([self.matrix[keep], np.asarray(vectors, dtype=np.float32)]),
        )

    def without_source(self, source_id: int, keep: set[str] | None) -> BotVectors:
        drop = self.source_ids == source_id
        if keep:
            drop &= ~np.isin(self.chunk_ids, np.array(sorted(keep), dtype=object))
        if not drop.any():
            return self
        stay = ~drop
        return BotVectors(self.chunk_ids[stay], self.source_ids[stay], self.matrix[stay])


Key = tuple[str, int, int]  # (collection, workspace id, bot id)


class VectorCache:
    """Per-bot `BotVectors`, loaded lazily by a loader and kept in step with writes."""

    def __init__(self, max_points: int = MAX_CACHED_POINTS):
        self.max_points = max_points
        self._entries: OrderedDict[Key, BotVectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, load: Callable[[], BotVectors]) -> BotVectors:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
            # Loading under the lock keeps a concurrent write from slipping between the load
            # and the insert (it would be lost); loads are rare (first search of a bot).
            entry = load()
            self._entries[key] = entry
            self._evict()
            return entry

    def upsert(
        self,
        key: Key,
        chunk_ids: list[str],
        source_ids: list[int],
        vectors: np.ndarray,
    ) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = entry.with_upserted(chunk_ids, source_ids, vectors)
                self._evict()

    def delete_source(self, key: Key, source_id: int, keep: set[str] | None) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = entry.without_source(source_id, keep)

    def drop(self, keys: Iterable[Key]) -> None:
        with self._lock:
            for key in list(keys):
                self._entries.pop(key, None)

    def drop_collection(self, collection: str) -> None:
        self.drop([key for key in list(self._entries) if key[0] == collection])

    def _evict(self) -> None:
        total = sum(len(entry) for entry in self._entries.values())
        while total > self.max_points and len(self._entries) > 1:
            _key, entry = self._entries.popitem(last=False)
            total -= len(entry)
