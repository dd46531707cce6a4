"""Re-extract every source from its stored original: `python -m chatapp reextract`.

When extraction improves (navigation dropped from HTML, PDF line wraps joined), the chunks of
existing sources still hold the old text. Files, pasted text and Q&A pairs keep their original
(the uploaded file on disk, the text in `Source.meta`): they are extracted again here and, when
their text changed (content hash), re-indexed through the training pipeline, so old chunks keep
serving until the new ones are complete. A source whose original can no longer be read keeps its
chunks and is reported. Web pages keep no copy of their HTML: URL and website sources are queued
for their normal re-sync (fetched again; a website re-indexes only the pages whose text changed).

Like `reindex`, run it with the app stopped when the vectors live in the embedded store (one
process at a time); the queued web sources are synced by the app's worker once it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from chatapp.core.db import get_engine, session_scope
from chatapp.core.errors import ServiceError
from chatapp.services.knowledge.ingest import pipeline, queue
from chatapp.services.models import Source, SourceStatus, utcnow

STORED = ("file", "text", "qa")  # kinds whose original is kept: extracted again in-process
WEB = ("url", "website")  # kinds re-fetched by a re-sync (a website's pages come with it)


@dataclass
class ReextractReport:
    changed: list[int] = field(default_factory=list)  # re-indexed with the new text
    unchanged: list[int] = field(default_factory=list)  # same text: nothing written
    queued: list[int] = field(default_factory=list)  # web sources queued for a re-sync
    failed: dict[int, str] = field(default_factory=dict)  # id -> why; old chunks kept


def reextract(
    *,
    workspace_id: int | None = None,
    bot_id: int | None = None,
    queue_web: bool = True,
    engine: Engine | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> ReextractReport:
    """Re-extract the chosen trained sources (all by default); `progress(source_id, outcome)`."""
    engine = engine or get_engine()
    report = ReextractReport()
    for source_id, kind in _trained_sources(engine, workspace_id, bot_id):
        if kind in WEB:
            if not queue_web:
                continue
            _queue(engine, source_id)
            report.queued.append(source_id)
            outcome = "queued"
        else:
            outcome = _reextract_one(engine, source_id, report)
        if progress:
            progress(source_id, outcome)
    if report.queued:
        queue.notify()
    return report


def _trained_sources(
    engine: Engine, workspace_id: int | None, bot_id: int | None
) -> list[tuple[int, str]]:
    """Top-level ready sources (a website's pages are handled by its re-sync), oldest first."""
    with session_scope(engine) as session:
        query = (
            select(Source.id, Source.kind)
            .where(
                col(Source.parent_id).is_(None),
                Source.status == SourceStatus.READY,
                col(Source.kind).in_(STORED + WEB),
            )
            .order_by(col(Source.id))
        )
        if workspace_id is not None:
            query = query.where(Source.workspace_id == workspace_id)
        if bot_id is not None:
            query = query.where(Source.bot_id == bot_id)
        return [(int(row[0]), str(row[1])) for row in session.exec(query).all()]


def _reextract_one(engine: Engine, source_id: int, report: ReextractReport) -> str:
    """Extract one stored source again; re-index it only if its text changed."""
    try:
        with session_scope(engine) as session:
            source = session.get(Source, source_id)
            if source is None:  # deleted meanwhile
                return "gone"
            old_hash = source.content_hash
            document = pipeline.document_for(source)
        if pipeline.content_hash(document.text) == old_hash:
            report.unchanged.append(source_id)
            return "unchanged"
        pipeline.index_document(engine, source_id, document)
        pipeline.mark_ready(engine, source_id)
    except ServiceError as error:  # the original is gone or unreadable: keep serving old chunks
        report.failed[source_id] = error.message
        return "failed"
    report.changed.append(source_id)
    return "changed"


def _queue(engine: Engine, source_id: int) -> None:
    """Queue a web source for the worker, as "Re-train" in the dashboard does."""
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is not None:
            source.status, source.progress, source.error, source.attempts = (
                SourceStatus.QUEUED,
                0.0,
                "",
                0,
            )
            source.updated_at = utcnow()
            session.add(source)
