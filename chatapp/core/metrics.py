"""Prometheus metrics: what the app counts while it runs, and what it reads from the database at
scrape time (queue depth, pending handoffs), rendered in the text format for `GET /metrics`.

Several worker processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty, writable directory before
the processes start (prometheus-client decides at import) and clear it at each deployment; every
process then writes its counts there and any of them serves the sum. The database gauges are
computed by the process that answers the scrape, so they are never counted twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func
from sqlmodel import col, select

from chatapp.core.db import session_scope
from chatapp.services.models import Conversation, ConversationStatus, Source, SourceStatus

log = logging.getLogger(__name__)

# Seconds: from a fast health check to a long streamed answer.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
CHAT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)

HTTP_REQUESTS = Counter(
    "chatapp_http_requests",
    "API requests by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "chatapp_http_request_duration_seconds",
    "API request duration until the response ended (a whole stream for SSE routes).",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)
FIRST_TOKEN = Histogram(
    "chatapp_chat_first_token_seconds",
    "Chat: time from the visitor's message to the first answer token.",
    buckets=CHAT_BUCKETS,
)
ANSWER_TIME = Histogram(
    "chatapp_chat_answer_seconds",
    "Chat: time from the visitor's message to the stored, complete answer.",
    buckets=CHAT_BUCKETS,
)
TOKENS = Counter("chatapp_chat_tokens", "Chat: LLM tokens used (estimated offline).", ["kind"])
ANSWERS = Counter(
    "chatapp_chat_answers",
    "Chat answers by outcome: answered, fell_back, error, human (a person handles it).",
    ["outcome"],
)
INGEST_JOBS = Counter(
    "chatapp_ingest_jobs", "Sources processed by the ingest worker, by result.", ["status"]
)
HANDOFFS = Counter(
    "chatapp_handoffs", "Human handoffs by event: requested, taken, resolved.", ["event"]
)
STREAMS_OPEN = Gauge(
    "chatapp_streams_open",
    "Server-Sent Event streams open now: chat answers and live (handoff) event streams.",
    ["kind"],
    multiprocess_mode="livesum",
)


# ------------------------------------------------------------------------------ recording


def observe_answer(answer) -> None:
    """One stored answer (`conversations.Answer`: the pipeline measured its times already)."""
    ANSWERS.labels("fell_back" if answer.fell_back else "answered").inc()
    if answer.first_token_ms is not None:
        FIRST_TOKEN.observe(answer.first_token_ms / 1000)
    if answer.latency_ms is not None:
        ANSWER_TIME.observe(answer.latency_ms / 1000)
    TOKENS.labels("prompt").inc(max(0, answer.prompt_tokens or 0))
    TOKENS.labels("completion").inc(max(0, answer.completion_tokens or 0))


def answer_outcome(outcome: str) -> None:
    """An answer that was not stored by the bot: `error` or `human`."""
    ANSWERS.labels(outcome).inc()


def ingest_job(status: str) -> None:
    INGEST_JOBS.labels(status).inc()


def handoff(event: str) -> None:
    HANDOFFS.labels(event).inc()


def stream_open(kind: str):
    """Context manager: count a stream as open while the block runs."""
    return STREAMS_OPEN.labels(kind).track_inprogress()


# -------------------------------------------------------------------------------- scraping


class DatabaseGauges:
    """Gauges read from the database when scraped: the ingest queue and pending handoffs."""

    def describe(self) -> Iterable[Metric]:
        return [
            GaugeMetricFamily("chatapp_ingest_queue", "Sources waiting or being processed."),
            GaugeMetricFamily("chatapp_handoffs_pending", "Conversations waiting for a person."),
        ]

    def collect(self) -> Iterable[Metric]:
        try:
            with session_scope() as session:
                by_status = dict(
                    session.exec(
                        select(Source.status, func.count())
                        .where(
                            col(Source.status).in_((SourceStatus.QUEUED, SourceStatus.PROCESSING))
                        )
                        .group_by(Source.status)
                    ).all()
                )
                pending = session.exec(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.status == ConversationStatus.PENDING)
                ).one()
        except Exception:  # a scrape must not fail because the database is down
            log.warning("metrics: could not read the queue depth from the database", exc_info=False)
            return []
        queue = GaugeMetricFamily(
            "chatapp_ingest_queue", "Sources waiting or being processed.", labels=["state"]
        )
        for state in (SourceStatus.QUEUED, SourceStatus.PROCESSING):
            queue.add_metric([state], by_status.get(state, 0))
        handoffs = GaugeMetricFamily(
            "chatapp_handoffs_pending", "Conversations waiting for a person.", value=pending
        )
        return [queue, handoffs]


_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(DatabaseGauges())


def render() -> tuple[bytes, str]:
    """The whole exposition (all processes' counts when multiprocess) and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(_database_registry), CONTENT_TYPE_LATEST
