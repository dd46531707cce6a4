"""Moving a deployment's vectors from the embedded store to a Qdrant server (or another store).

The embedded default keeps one local collection per bot (`bot_<id>`); a server keeps every bot in
one payload-partitioned collection (`SHARED_COLLECTION`, filtered by workspace and bot on payload
indexes). `copy_vectors()` reads each local collection page by page (vectors and payloads as they
are: no re-embedding) and upserts the points, with the same ids, into the target's layout, then
checks that every bot has as many points there as here. Copying twice is harmless (upserts by id),
so an interrupted copy is simply run again.

Run it with the app stopped (the local store is locked by the process that has it open):
`python -m chatapp vectors-copy --to http://qdrant:6333`, then set `QDRANT_URL`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qdrant_client import QdrantClient, models

from chatapp.services.errors import ValidationFailed
from chatapp.services.index import VectorIndex

PAGE = 256
_LOCAL_COLLECTION = re.compile(r"bot_(\d+)")


@dataclass
class CopyReport:
    bots: dict[int, int] = field(default_factory=dict)  # bot id -> points copied

    @property
    def points(self) -> int:
        return sum(self.bots.values())


def target_client(target: str, api_key: str = "") -> QdrantClient:
    """A Qdrant server by URL (http/https), or a directory (another embedded store)."""
    target = target.strip()
    if target.startswith(("http://", "https://")):
        return QdrantClient(url=target, api_key=api_key or None, timeout=60)
    if not target:
        raise ValidationFailed("Give the target: a Qdrant URL (http://host:6333) or a directory.")
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(path))


def copy_vectors(
    source: VectorIndex,
    target: VectorIndex,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CopyReport:
    """Copy every bot's points of a local (per-bot) store into `target`; verify the counts."""
    if not source.per_bot_collections:
        raise ValidationFailed("The source must be the embedded store (one collection per bot).")
    report = CopyReport()
    for collection in sorted(c.name for c in source.client.get_collections().collections):
        match = _LOCAL_COLLECTION.fullmatch(collection)
        if match is None:
            continue
        bot_id = int(match.group(1))
        report.bots[bot_id] = _copy_collection(source, target, collection, bot_id)
        if progress is not None:
            progress(bot_id, report.bots[bot_id])
    _verify(source, target, report)
    return report


def _copy_collection(source: VectorIndex, target: VectorIndex, name: str, bot_id: int) -> int:
    info = source.client.get_collection(name)
    vectors = info.config.params.vectors
    dim = vectors.size if isinstance(vectors, models.VectorParams) else None
    if target.dim is None:
        target.dim = dim
    elif dim is not None and target.dim != dim:
        raise ValidationFailed(
            f"The target holds {target.dim}-dimensional vectors, this store {dim}-dimensional."
        )
    copied, offset = 0, None
    while True:
        points, offset = source.client.scroll(
            name, limit=PAGE, offset=offset, with_payload=True, with_vectors=True
        )
        if points:
            target.upsert_copied(
                bot_id,
                [
                    models.PointStruct(id=p.id, vector=p.vector, payload=p.payload or {})
                    for p in points
                ],
            )
            copied += len(points)
        if offset is None:
            return copied


def _verify(source: VectorIndex, target: VectorIndex, report: CopyReport) -> None:
    """Every bot has as many points in the target as in the source (per workspace)."""
    for bot_id in report.bots:
        name = f"bot_{bot_id}"
        workspaces: dict[int, int] = {}
        offset = None
        while True:
            points, offset = source.client.scroll(
                name, limit=PAGE * 4, offset=offset, with_payload=["workspace_id"]
            )
            for point in points:
                workspace_id = int((point.payload or {}).get("workspace_id", 0))
                workspaces[workspace_id] = workspaces.get(workspace_id, 0) + 1
            if offset is None:
                break
        for workspace_id, expected in workspaces.items():
            found = target.count(workspace_id=workspace_id, bot_id=bot_id)
            if found != expected:
                raise RuntimeError(
                    f"bot {bot_id}: {found} points in the target, {expected} here; run it again"
                )
