"""The background ingest worker: claims queued sources one at a time and processes them.

The queue (the `source` table itself) is knowledge/ingest/queue.py; this module is the thread that
drains it in each process, re-queues the sources of dead workers, and runs retention's hourly
sweep (ops/retention.py) on the way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator

from sqlalchemy.engine import Engine

from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.services.knowledge.ingest import pipeline, queue
from chatapp.services.knowledge.ingest.website import sync_website
from chatapp.services.models import Source, utcnow
from chatapp.services.ops.retention import Schedule

log = logging.getLogger(__name__)

IDLE_WAIT_SECONDS = 1.0

_thread: threading.Thread | None = None
_stop = threading.Event()
_start_lock = threading.Lock()


def process(engine: Engine, source_id: int) -> None:
    """Run the whole pipeline for one claimed source and record the outcome."""
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
                document = pipeline.document_for(session.get_one(Source, source_id))
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
    source_id = queue.claim_next(engine)
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
    engine = get_engine()
    queue.requeue_stale(engine)
    last_sweep = utcnow()
    retention = Schedule()  # hourly: old conversations, expired logins (ops/retention.py)
    while not _stop.is_set():
        try:
            retention.tick(engine)
            if utcnow() - last_sweep > queue.stale_after() / 2:
                queue.requeue_stale(engine)
                last_sweep = utcnow()
            if run_once(engine):
                continue
        except Exception:  # the database may be briefly unreachable: keep the worker alive
            log.exception("ingest worker loop error")
        queue.wakeup.wait(IDLE_WAIT_SECONDS)
        queue.wakeup.clear()


def running_here() -> bool:
    """Whether this process's worker thread is alive (the health report shows it)."""
    return _thread is not None and _thread.is_alive()


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
    queue.wakeup.set()
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
