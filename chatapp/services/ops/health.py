"""What `GET /api/health` reports: each dependency's state, and the whole as ok/degraded/down.

The database is checked on every call (a trivial query: it is what a load balancer must know at
once). The rest is cached for CACHE_SECONDS so that frequent probes stay cheap: Redis (PING, when
configured), the vector index (a server: reachable, collection count; local mode: only when this
process has opened it), the embedder (loaded or installed),
the LLM (configured: the provider is asked for its model list, the cheapest real call, with a
short timeout, at most once per LLM_CACHE_SECONDS; `deep` asks now; not configured: answers are
extractive, which is fine) and the ingest queue (depth, oldest waiting, sources whose worker
stopped beating).

Required: database and vector index (down -> "down", HTTP 503). Anything else failing makes the
service "degraded" (HTTP 200): answers may still work, an operator should look.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import openai
from sqlalchemy import func
from sqlmodel import col, select

from chatapp.core.config import Settings, get_settings
from chatapp.core.db import get_engine, ping, session_scope
from chatapp.services.knowledge.embeddings import MiniLMOnnxEmbedder, get_embedder
from chatapp.services.knowledge.index import vector_index as index
from chatapp.services.knowledge.ingest import queue
from chatapp.services.models import Source, SourceStatus, utcnow
from chatapp.workers import ingest as worker

CACHE_SECONDS = 5.0
LLM_CACHE_SECONDS = 60.0  # a provider call per minute at most, however often the probes come
PROBE_TIMEOUT_SECONDS = 2.0
REQUIRED = ("database", "vector_index")

Check = dict[str, Any]
_cache: dict[str, tuple[float, Check]] = {}
_cache_lock = threading.Lock()
_redis_clients: dict[str, Any] = {}


def _timed(probe: Callable[[], Check]) -> Check:
    """Run one probe; an exception means the dependency is down (its message says why)."""
    start = time.perf_counter()
    try:
        result = probe()
    except Exception as exc:  # each probe's failure is a report, not a crash
        result = {"status": "down", "error": _short(exc)}
    result.setdefault("status", "ok")
    result["latency_ms"] = round((time.perf_counter() - start) * 1000, 1)
    return result


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200]


def _cached(
    name: str, probe: Callable[[], Check], *, fresh: bool = False, ttl: float = CACHE_SECONDS
) -> Check:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(name)
    if hit is not None and not fresh and now - hit[0] < ttl:
        return hit[1]
    result = _timed(probe)
    with _cache_lock:
        _cache[name] = (time.monotonic(), result)
    return result


def reset_cache() -> None:
    with _cache_lock:
        _cache.clear()


# ----------------------------------------------------------------------------------- probes


def _database() -> Check:
    ping()
    return {"status": "ok", "engine": get_engine().dialect.name}


def _redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return {"status": "disabled"}
    # redis is imported only when REDIS_URL is set (the default runs without it)
    import redis

    client = _redis_clients.get(settings.redis_url)
    if client is None:
        client = redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )
        _redis_clients[settings.redis_url] = client
    client.ping()
    return {"status": "ok"}


def _vector_index(settings: Settings) -> Check:
    """A server is asked; the embedded index reports what this process holds in memory."""
    if settings.qdrant_url:
        collections = index.get_index(settings=settings).client.get_collections().collections
        return {"status": "ok", "mode": "server", "collections": len(collections)}
    held = index.get_index(settings=settings).held()
    return {"status": "ok", "mode": "embedded", "bots": held["bots"], "chunks": held["chunks"]}


def _embedder(settings: Settings) -> Check:
    embedder = get_embedder(settings)
    if isinstance(embedder, MiniLMOnnxEmbedder):
        loaded = embedder._session is not None
        if not loaded:
            embedder.model_files()  # raises when the model package is missing
        return {"status": "ok", "provider": "local", "model": embedder.name, "loaded": loaded}
    return {"status": "ok", "provider": "openai", "model": settings.embedding_model}


def _llm(settings: Settings) -> Check:
    if not (settings.openai_base_url or settings.openai_api_key):
        return {
            "status": "ok",
            "mode": "extractive",
            "configured": False,
            "note": "No LLM configured (OPENAI_BASE_URL): answers are extractive, offline.",
        }
    parts = urlsplit(settings.openai_base_url) if settings.openai_base_url else None
    host = parts.hostname if parts else "openai"
    where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts else "api.openai.com"
    result: Check = {
        "status": "ok",
        "mode": "openai-compatible",
        "configured": True,
        "host": host,
        "model": settings.openai_model,
    }
    result.update(_ask_provider(settings, where))
    return result


def _ask_provider(settings: Settings, where: str) -> Check:
    """The provider's model list: proof that it answers and accepts the key, for no tokens."""
    client = openai.OpenAI(
        base_url=settings.openai_base_url or None,
        api_key=settings.openai_api_key or "not-needed",
        timeout=PROBE_TIMEOUT_SECONDS,
        max_retries=0,
    )
    try:
        with client:
            models = [model.id for model in client.models.list().data]
    except openai.APIConnectionError as exc:  # refused, unresolvable, timed out
        reason = "timed out" if isinstance(exc, openai.APITimeoutError) else "could not connect"
        error = f"Nothing answers at {where} (OPENAI_BASE_URL): {reason}."
        return {"status": "down", "reachable": False, "error": error}
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        error = f"{where} refused the API key: check OPENAI_API_KEY."
        return {"status": "down", "reachable": True, "error": error}
    except openai.NotFoundError:  # a server without a model list still answered
        return {"reachable": True, "model_listed": None}
    except openai.APIStatusError as exc:
        error = f"{where} answered the model list with HTTP {exc.status_code}."
        return {"status": "down", "reachable": True, "error": error}
    return {"reachable": True, "model_listed": settings.openai_model in models}


def _ingestion(settings: Settings) -> Check:

    now = utcnow()
    with session_scope() as session:
        counts = dict(
            session.exec(
                select(Source.status, func.count())
                .where(col(Source.status).in_((SourceStatus.QUEUED, SourceStatus.PROCESSING)))
                .group_by(Source.status)
            ).all()
        )
        oldest = session.exec(
            select(func.min(Source.created_at)).where(Source.status == SourceStatus.QUEUED)
        ).one()
        stale = session.exec(
            select(func.count())
            .select_from(Source)
            .where(
                Source.status == SourceStatus.PROCESSING,
                col(Source.heartbeat_at).is_(None)
                | (col(Source.heartbeat_at) < now - queue.stale_after()),
            )
        ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {
        "status": "degraded" if stale else "ok",
        "worker_enabled": settings.ingest_worker,
        "worker_running_here": worker.running_here(),
        "queued": counts.get(SourceStatus.QUEUED, 0),
        "processing": counts.get(SourceStatus.PROCESSING, 0),
        "stalled": stale,
        "oldest_queued_seconds": round((now - oldest).total_seconds()) if oldest else None,
    }


# ---------------------------------------------------------------------------------- report


def report(*, deep: bool = False) -> Check:
    """Every dependency's check and the overall status (`ok`, `degraded`, `down`)."""
    settings = get_settings()
    checks = {
        "database": _timed(_database),
        "redis": _cached("redis", lambda: _redis(settings)),
        "vector_index": _cached("vector_index", lambda: _vector_index(settings)),
        "embedder": _cached("embedder", lambda: _embedder(settings)),
        "llm": _cached("llm", lambda: _llm(settings), fresh=deep, ttl=LLM_CACHE_SECONDS),
    }
    if checks["database"]["status"] == "ok":
        checks["ingestion"] = _cached("ingestion", lambda: _ingestion(settings))
    else:
        checks["ingestion"] = {"status": "unknown", "error": "the database is down"}
    if any(checks[name]["status"] == "down" for name in REQUIRED):
        status = "down"
    elif any(c["status"] not in ("ok", "disabled") for c in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checks": checks}
