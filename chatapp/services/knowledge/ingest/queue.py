"""The ingest queue: the `source` table itself (status `queued`), shared by every process.

It survives restarts: a claim is one atomic UPDATE, so two workers never take the same source. A
source left `processing` by a process that died has a stale heartbeat and is re-queued (up to
MAX_ATTEMPTS, then marked as failed with a message). The worker that drains the queue is
chatapp/workers/ingest.py; whoever queues a source calls `notify()` to wake this process's worker.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.models import Source, SourceStatus, utcnow

MAX_ATTEMPTS = 3

wakeup = threading.Event()  # set when a source is queued; the worker waits on it between polls


def notify() -> None:
    """Wake the worker of this process at once (others poll every second)."""
    wakeup.set()


def claim_next(engine: Engine) -> int | None:
    """Atomically take the oldest queued source: set it processing and return its id."""
    now = utcnow()
    with session_scope(engine) as session:
        row = (
            session.connection()
            .execute(
                text(
                    "UPDATE source SET status = :processing, attempts = attempts + 1, "
                    "heartbeat_at = :now, progress = 0 "
                    "WHERE id = (SELECT id FROM source WHERE status = :queued "
                    "ORDER BY id LIMIT 1) "
                    "AND status = :queued RETURNING id"
                ),
                {"now": now, "processing": SourceStatus.PROCESSING, "queued": SourceStatus.QUEUED},
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
                Source.status == SourceStatus.PROCESSING,
                col(Source.heartbeat_at).is_(None) | (col(Source.heartbeat_at) < cutoff),
            )
        ).all()
        for source in stale:
            if source.attempts >= MAX_ATTEMPTS:
                source.status = SourceStatus.ERROR
                metrics.ingest_job("error")
                source.error = "Processing was interrupted several times; try re-training it."
            else:
                source.status = SourceStatus.QUEUED
                metrics.ingest_job("requeued")
            session.add(source)
            changed += 1
    return changed
