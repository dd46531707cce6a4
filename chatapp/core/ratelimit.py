"""Per-visitor rate limits shared by every worker: fixed one-minute windows.

With `REDIS_URL` the counters live in Redis (INCR + EXPIRE in one transaction); without it, in the
database (`ratecounter`, one upsert that returns the new count), so several processes on one
database still share them. A refused request gets `TooManyRequests` with the seconds left in the
window (the API sends them as `Retry-After`).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from dataclasses import dataclass

from sqlmodel import Session, col, delete

from chatapp.core.config import get_settings
from chatapp.core.errors import TooManyRequests
from chatapp.core.upsert import dialect_insert
from chatapp.services.models import RateCounter

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Keys under this prefix are long-lived tallies kept in the same table (e.g. the websites a
# bot's widget was refused on, services/accounts/refused_origins.py): the sweep below skips them.
TALLY_PREFIX = "tally:"
TOO_FAST = "You are sending messages too quickly. Please wait {seconds} seconds and try again."
_redis_clients: dict[str, object] = {}
_redis_lock = threading.Lock()


@dataclass(frozen=True)
class Limit:
    key: str  # e.g. "chat:session:<bot>:<session id>"
    per_window: int  # 0 = unlimited


def _window(now: float) -> tuple[int, int]:
    """(start of the current window, seconds until it ends, at least 1)."""
    start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
    return start, max(1, math.ceil(start + WINDOW_SECONDS - now))


def _redis(url: str):
    # redis is imported only when REDIS_URL is set (the default runs without it)
    import redis

    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            _redis_clients[url] = client
        return client


def _count_redis(url: str, key: str, window_start: int) -> int:
    pipe = _redis(url).pipeline(transaction=True)
    name = f"chatapp:rl:{key}:{window_start}"
    pipe.incr(name)
    pipe.expire(name, WINDOW_SECONDS + 5)
    count, _ = pipe.execute()
    return int(count)


def _count_db(session: Session, key: str, window_start: int) -> int:
    insert = dialect_insert(session, RateCounter).values(
        key=key, window_start=window_start, count=1
    )
    statement = insert.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateCounter.count + 1}
    ).returning(RateCounter.count)
    count = session.execute(statement).scalar_one()
    if random.random() < 0.01:  # now and then, forget windows older than an hour
        session.execute(
            delete(RateCounter).where(
                col(RateCounter.window_start) < window_start - 3600,
                ~col(RateCounter.key).startswith(TALLY_PREFIX, autoescape=True),
            )
        )
    return int(count)


def hit(session: Session, limits: list[Limit], *, now: float | None = None) -> None:
    """Count one request against every limit; raise TooManyRequests if any is exceeded.

    In database mode the counts belong to the caller's transaction (a refused request rolls back
    and is not counted). If Redis is unreachable the request is let through and logged.
    """
    now = time.time() if now is None else now
    window_start, retry_after = _window(now)
    redis_url = get_settings().redis_url
    for limit in limits:
        if limit.per_window <= 0:
            continue
        if redis_url:
            try:
                count = _count_redis(redis_url, limit.key, window_start)
            except Exception:  # Redis down: keep answering visitors, say so in the logs
                log.warning("rate limit counter unavailable (Redis)", exc_info=True)
                continue
        else:
            count = _count_db(session, limit.key, window_start)
        if count > limit.per_window:
            raise TooManyRequests(TOO_FAST.format(seconds=retry_after), retry_after)


def reset_clients() -> None:
    """Close cached Redis clients (tests)."""
    with _redis_lock:
        for client in _redis_clients.values():
            client.close()
        _redis_clients.clear()
