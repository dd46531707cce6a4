"""Moving a deployment's vectors from the embedded default (the database) to a Qdrant server.

The embedded default stores each chunk's vector in its row; a server keeps every bot in one
payload-partitioned collection (`SHARED_COLLECTION`, filtered by workspace and bot on payload
indexes). `copy_vectors()` reads the chunk rows bot by bot, page by page (the stored vectors: no
re-embedding), upserts them with the ids ingestion gives them, then checks that every bot has as
many points there as rows with a vector here. Copying twice is harmless (upserts by id), so an
interrupted copy is simply run again; the app may keep running meanwhile.

`python -m chatapp vectors-copy --to http://qdrant:6333`, then set `QDRANT_URL` and restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qdrant_client import QdrantClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge.index import codec
from chatapp.services.knowledge.index.vector_index import IndexPoint, VectorIndex
from chatapp.services.models import KnowledgeChunk

PAGE = 512


@dataclass
class CopyReport:
    bots: dict[int, int] = field(default_factory=dict)  # bot id -> points copied

    @property
    def points(self) -> int:
        return sum(self.bots.values())


def target_client(target: str, api_key: str = "") -> QdrantClient:
    """A Qdrant server by URL (http/https), or a directory (a local store in the same layout)."""
    target = target.strip()
    if target.startswith(("http://", "https://")):
        return QdrantClient(url=target, api_key=api_key or None, timeout=60)
    if not target:
        raise ValidationFailed("Give the target: a Qdrant URL (http://host:6333) or a directory.")
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(path))


def copy_vectors(
    engine: Engine,
    target: VectorIndex,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> CopyReport:
    """Copy every bot's stored vectors into `target`; verify the counts."""
    report = CopyReport()
    with Session(engine) as session:
        bots = session.exec(
            select(KnowledgeChunk.workspace_id, KnowledgeChunk.bot_id, func.count())
            .where(col(KnowledgeChunk.vector).is_not(None))
            .group_by(col(KnowledgeChunk.workspace_id), col(KnowledgeChunk.bot_id))
            .order_by(col(KnowledgeChunk.bot_id))
        ).all()
    for workspace_id, bot_id, _count in bots:
        report.bots[bot_id] = _copy_bot(engine, target, workspace_id, bot_id)
        if progress is not None:
            progress(bot_id, report.bots[bot_id])
    for workspace_id, bot_id, expected in bots:
        found = target.count(workspace_id=workspace_id, bot_id=bot_id)
        if found != expected:
            raise RuntimeError(
                f"bot {bot_id}: {found} points in the target, {expected} here; run it again"
            )
    return report


def _copy_bot(engine: Engine, target: VectorIndex, workspace_id: int, bot_id: int) -> int:
    copied, after = 0, ""
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(KnowledgeChunk.id, KnowledgeChunk.source_id, KnowledgeChunk.vector)
                .where(
                    KnowledgeChunk.workspace_id == workspace_id,
                    KnowledgeChunk.bot_id == bot_id,
                    col(KnowledgeChunk.vector).is_not(None),
                    KnowledgeChunk.id > after,
                )
                .order_by(KnowledgeChunk.id)
                .limit(PAGE)
            ).all()
        if not rows:
            return copied
        dim = codec.dimension(rows[0][2])
        if target.dim is None:
            target.dim = dim
        elif target.dim != dim:
            raise ValidationFailed(
                f"The target holds {target.dim}-dimensional vectors, "
                f"this database {dim}-dimensional."
            )
        matrix = codec.decode_many([blob for _id, _source, blob in rows])
        target.upsert(
            workspace_id=workspace_id,
            bot_id=bot_id,
            points=[
                IndexPoint(chunk_id, vector, {"source_id": source_id})
                for (chunk_id, source_id, _blob), vector in zip(rows, matrix, strict=True)
            ],
        )
        copied += len(rows)
        after = rows[-1][0]
