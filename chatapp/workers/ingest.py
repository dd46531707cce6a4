"""The background ingest worker: claims queued sources one at a time and processes them.

The queue is the `source` table itself (status `queued`), so it survives restarts and is shared by
every process: a claim is one atomic UPDATE, so two workers never take the same source. A source
left `processing` by a process that died has a stale heartbeat and is re-queued (up to
MAX_ATTEMPTS, then marked as failed with a message).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.services.knowledge.ingest import pipeline
from chatapp.services.models import Source, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
IDLE_WAIT_SECONDS = 1.0

_wakeup = threading.Event()
_thread: threading.Thread | None = None
_stop = threading.Event()
_start_lock = threading.Lock()


def notify() -> None:
    """Wake the worker of this process at once (others poll every second)."""
    _wakeup.set()


def claim_next(engine: Engine) -> int | None:
    """Atomically take the oldest queued source: set it processing and return its id."""
    now = utcnow()
    with session_scope(engine) as session:
        row = (
            session.connection()
            .execute(
                text(
                    "UPDATE source SET status = 'processing', attempts = attempts + 1, "
                    "heartbeat_at = :now, progress = 0 "
                    "WHERE id = (SELECT id FROM source WHERE status = 'queued' "
                    "ORDER BY id LIMIT 1) "
                    "AND status = 'queued' RETURNING id"
                ),
                {"now": now},
            )
            .first()
        )
    return int(row[0]) if row else None


def stale_after() -> timedelta:
    """How long a missing heartbeat means a dead worker (INGEST_STALE_SECONDS)."""
    return timedelta(seconds=get_settings().ingest_stale_seconds)


def requeue_stale(engine: Engine) -> int:
    """Sources whose worker stopped beating: queue them again, or give up after a few tries."""
    cutoff = utcnow() - stale_after()
    changed = 0
    with session_scope(engine) as session:
        stale = session.exec(
            select(Source).where(
                Source.status == "processing",
                col(Source.heartbeat_at).is_(None) | (col(Source.heartbeat_at) < cutoff),
            )
        ).all()
        for source in stale:
            if source.attempts >= MAX_ATTEMPTS:
                source.status = "error"
                metrics.ingest_job("error")
                source.error = "Processing was interrupted several times; try re-training it."
            else:
                source.status = "queued"
                metrics.ingest_job("requeued")
            session.add(source)
            changed += 1
    return changed


def process(engine: Engine, source_id: int) -> None:
    """Run the whole pipeline for one claimed source and record the outcome."""
    from chatapp.services.knowledge.ingest.website import sync_website

    try:
        with session_scope(engine) as session:
            source = session.get(Source, source_id)
            if source is None:
                return
            kind = source.kind
        pipeline.set_progress(engine, source_id, 0.05)
        if kind == "website":
            sync_website(engine, source_id)
        else:
            with session_scope(engine) as session:
                source = session.get(Source, source_id)
                document = pipeline.document_for(source)
            pipeline.set_progress(engine, source_id, 0.1)
            pipeline.index_document(
                engine,
                source_id,
                document,
                progress=lambda fraction: pipeline.set_progress(engine, source_id, fraction),
            )
        pipeline.mark_ready(engine, source_id)
        metrics.ingest_job("ready")
    except Exception as error:  # every failure becomes a readable status, never a crash
        if not getattr(error, "message", None):
            log.exception("ingestion of source %s failed", source_id)
        pipeline.mark_failed(engine, source_id, error)
        metrics.ingest_job("error")


def run_once(engine: Engine | None = None) -> bool:
    """Process one queued source if there is one; returns whether it did."""
    engine = engine or get_engine()
    source_id = claim_next(engine)
    if source_id is None:
        return False
    process(engine, source_id)
    return True


def run_until_idle(engine: Engine | None = None, limit: int = 1000) -> int:
    """Process queued sources until none is left (tests, CLI); returns how many."""
    done = 0
    while done < limit and run_once(engine):
        done += 1
    return done


def _loop() -> None:
    from chatapp.services.ops.retention import Schedule

    engine = get_engine()
    requeue_stale(engine)
    last_sweep = utcnow()
    retention = Schedule()  # deletes conversations past their workspace's retention, hourly
    while not _stop.is_set():
        try:
            retention.tick(engine)
            if utcnow() - last_sweep > stale_after() / 2:
                requeue_stale(engine)
                last_sweep = utcnow()
            if run_once(engine):
                continue
        except Exception:  # the database may be briefly unreachable: keep the worker alive
            log.exception("ingest worker loop error")
        _wakeup.wait(IDLE_WAIT_SECONDS)
        _wakeup.clear()


def start() -> None:
    """Start this process's worker thread once (the app calls it at import)."""
    global _thread
    with _start_lock:
        if _thread is not None and _thread.is_alive():
            return
        _stop.clear()
        _thread = threading.Thread(target=_loop, name="chatapp-ingest", daemon=True)
        _thread.start()


def stop(timeout: float = 10.0) -> None:
    global _thread
    _stop.set()
    _wakeup.set()
    if _thread is not None:
        _thread.join(timeout)
    _thread = None


@contextlib.asynccontextmanager
async def serving(*_app) -> AsyncIterator[None]:
    """The worker for as long as a server serves (when INGEST_WORKER says so): the app's lifespan
    task and the visitors' server's lifespan."""
    if get_settings().ingest_worker:
        start()
    try:
        yield
    finally:
        stop()
