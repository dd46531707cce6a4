"""Moving an install's vectors out of Qdrant's local mode into the database (releases before the
embedded default stored vectors with their chunks): part of `python -m chatapp migrate`.

That release kept one local collection per bot (`DATA_DIR/qdrant`, collections `bot_<id>`, each
point's payload naming its `chunk_id`, `workspace_id` and `bot_id`). Each vector is written into
the chunk row it belongs to (same workspace and bot; rows already holding a vector are left as
they are), one bot per transaction that also raises the bot's knowledge version. Points whose row
is gone are skipped and counted. When every collection is moved the folder is renamed
`qdrant.migrated` (nothing reads it again; delete it once the bots answer as before). Moving twice
is harmless; a move that stops half-way is run again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qdrant_client import QdrantClient
from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from chatapp.services.knowledge.index import codec
from chatapp.services.knowledge.index.embedded import knowledge_changed
from chatapp.services.models import KnowledgeChunk

PAGE = 1024
MIGRATED_SUFFIX = ".migrated"
_COLLECTION = re.compile(r"bot_(\d+)")


@dataclass
class MigrateReport:
    moved: dict[int, int] = field(default_factory=dict)  # bot id -> its rows with a vector
    orphans: int = 0  # points whose chunk row no longer exists (or of another tenant)
    folder: Path | None = None  # where the old store now is


def has_local_store(path: Path) -> bool:
    return (path / "collection").is_dir() or (path / "meta.json").is_file()


def migrate_local_store(
    path: Path, engine: Engine, *, progress: Callable[[int, int], None] | None = None
) -> MigrateReport:
    """Move the vectors of the local store at `path` into the chunk rows of `engine`'s database."""
    report = MigrateReport()
    if not has_local_store(path):
        return report
    client = QdrantClient(path=str(path))
    try:
        for collection in sorted(c.name for c in client.get_collections().collections):
            match = _COLLECTION.fullmatch(collection)
            if match is None:
                continue
            bot_id = int(match.group(1))
            report.moved[bot_id] = _move_collection(client, collection, bot_id, engine, report)
            if progress is not None:
                progress(bot_id, report.moved[bot_id])
    finally:
        client.close()
    report.folder = path.with_name(path.name + MIGRATED_SUFFIX)
    path.rename(report.folder)
    return report


def _move_collection(client, collection: str, bot_id: int, engine: Engine, report) -> int:
    """Write the collection's vectors into their rows; returns the bot's rows with a vector."""
    statement = (
        update(KnowledgeChunk)
        .where(
            col(KnowledgeChunk.id) == bindparam("chunk_id"),
            col(KnowledgeChunk.workspace_id) == bindparam("owner"),
            col(KnowledgeChunk.bot_id) == bot_id,
            col(KnowledgeChunk.vector).is_(None),
        )
        .values(vector=bindparam("blob"))
    )
    points_seen, offset = 0, None
    with Session(engine) as session:
        while True:
            points, offset = client.scroll(
                collection, limit=PAGE, offset=offset, with_payload=True, with_vectors=True
            )
            rows = [
                {
                    "chunk_id": str(payload.get("chunk_id")),
                    "owner": int(payload.get("workspace_id", 0)),
                    "blob": codec.encode(point.vector),
                }
                for point in points
                if (payload := point.payload or {}).get("bot_id") == bot_id
            ]
            points_seen += len(rows)
            if rows:
                session.connection().execute(statement, rows)
            if offset is None:
                break
        knowledge_changed(session, bot_id)
        session.commit()
        stored = session.exec(
            select(func.count()).where(
                KnowledgeChunk.bot_id == bot_id, col(KnowledgeChunk.vector).is_not(None)
            )
        ).one()
    report.orphans += max(0, points_seen - stored)
    return int(stored)
