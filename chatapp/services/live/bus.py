"""The live event bus of a conversation (and of a workspace's queue) while a person is involved.

The table is the truth, the bus only wakes readers up:

* `publish()` stores a `conversationevent` row in the caller's transaction and sends a
  notification (just its id) once that transaction commits, so no reader is told about a row it
  cannot see yet, and a rolled-back change is never announced. It first locks the conversation
  row, so events of one conversation are committed in id order (no reader skips a late id).
* `subscribe()` replays the stored events after `after_id`, then waits for a notification (or
  the keep-alive timeout) and reads the table again: in order, with no duplicates, and a lost
  notification only delays an event until the next keep-alive.
* `publish_ephemeral()` (typing) and `notify_workspace()` (queue changes) carry their data in
  the notification itself and are never stored.

Backends: in process (the embedded default, one worker) or Redis pub/sub when `REDIS_URL` is set,
so every worker hears every other worker's events. In Redis mode one listener thread per process
(redis-py's asyncio client, pattern-subscribed to `chatapp:live:*`) feeds the same local hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from sqlalchemy import event as sa_event
from sqlalchemy import func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.models import Conversation, ConversationEvent, utcnow

log = logging.getLogger(__name__)

REDIS_PREFIX = "chatapp:live:"
WAKE_CHANNEL = "_wake"  # published on close; no reader listens to it
MAX_QUEUED = 1000  # notifications a slow reader may fall behind by (stored events are re-read)
BATCH = 500


@dataclass(frozen=True)
class LiveEvent:
    """One event of a stream: stored ones have an `id`; typing and keep-alives have none."""

    id: int | None
    type: str  # message, status, action, typing, queue, keepalive
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}

    def sse(self) -> str:
        """The Server-Sent Events frame (a comment for a keep-alive)."""
        if self.type == "keepalive":
            return ": keep-alive\n\n"
        body = json.dumps(self.payload(), ensure_ascii=False, separators=(",", ":"), default=str)
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.type}\ndata: {body}\n\n"


KEEPALIVE = LiveEvent(None, "keepalive", {})


def conversation_channel(conversation_id: int) -> str:
    return f"conv:{conversation_id}"


def workspace_channel(workspace_id: int) -> str:
    return f"ws:{workspace_id}"


# ------------------------------------------------------------------------------------- hub


class _Waiter:
    """One reader: its event loop, a wake-up flag and the notifications it has not read."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.flag = asyncio.Event()
        self.items: deque[dict[str, Any]] = deque(maxlen=MAX_QUEUED)

    def push(self, payload: dict[str, Any]) -> None:  # runs in the reader's loop
        self.items.append(payload)
        self.flag.set()


class _Hub:
    """Readers of this process by channel; `dispatch` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers: dict[str, set[_Waiter]] = {}

    def add(self, channel: str, waiter: _Waiter) -> None:
        with self._lock:
            self._readers.setdefault(channel, set()).add(waiter)

    def remove(self, channel: str, waiter: _Waiter) -> None:
        with self._lock:
            readers = self._readers.get(channel)
            if readers is not None:
                readers.discard(waiter)
                if not readers:
                    del self._readers[channel]

    def dispatch(self, channel: str, payload: dict[str, Any]) -> None:
        with self._lock:
            readers = list(self._readers.get(channel, ()))
        for waiter in readers:
            try:
                waiter.loop.call_soon_threadsafe(waiter.push, payload)
            except RuntimeError:  # that reader's loop is closed: it is gone
                self.remove(channel, waiter)

    def count(self, channel: str) -> int:
        with self._lock:
            return len(self._readers.get(channel, ()))


_hub = _Hub()


# -------------------------------------------------------------------------------- backends


class _RedisBus:
    """Publishes with the sync client; one listener thread relays every channel to the hub."""

    def __init__(self, url: str):
        # redis is imported only when REDIS_URL is set (the default runs without it)
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="live-redis", daemon=True)
        self.thread.start()

    def send(self, channel: str, payload: dict[str, Any]) -> None:
        try:
            self.client.publish(REDIS_PREFIX + channel, json.dumps(payload, default=str))
        except Exception:  # readers catch up from the table at their next keep-alive
            log.warning("live event notification failed (Redis)", exc_info=True)

    def _run(self) -> None:
        # The blocking client waits on the socket with select(): a quiet second ends without
        # cutting a reply in half (asyncio's timeout may cancel a read mid-message, losing it).
        while not self.stopped.is_set():
            pubsub = None
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(REDIS_PREFIX + "*")
                self.ready.set()
                while not self.stopped.is_set():
                    message = pubsub.get_message(timeout=1)
                    if message is None or message.get("type") != "pmessage":
                        continue
                    channel = message["channel"].decode()[len(REDIS_PREFIX) :]
                    if channel == WAKE_CHANNEL:  # a listener closing (maybe in another process)
                        continue
                    _hub.dispatch(channel, json.loads(message["data"]))
            except Exception:
                self.ready.clear()
                log.warning("live event listener lost Redis; reconnecting", exc_info=True)
                self.stopped.wait(1)
            finally:
                if pubsub is not None:
                    pubsub.close()

    def close(self) -> None:
        self.stopped.set()
        # Ends the listener's wait for a message now rather than after its quiet second.
        with contextlib.suppress(Exception):
            self.client.publish(REDIS_PREFIX + WAKE_CHANNEL, "{}")
        self.thread.join(timeout=5)
        self.client.close()


_bus_lock = threading.Lock()
_redis_bus: _RedisBus | None = None


def _redis() -> _RedisBus | None:
    global _redis_bus
    url = get_settings().redis_url
    if not url:
        return None
    with _bus_lock:
        if _redis_bus is None or _redis_bus.url != url:
            if _redis_bus is not None:
                _redis_bus.close()
            _redis_bus = _RedisBus(url)
        return _redis_bus


def _send(channel: str, payload: dict[str, Any]) -> None:
    bus = _redis()
    if bus is None:
        _hub.dispatch(channel, payload)
    else:
        bus.send(channel, payload)


def reset() -> None:
    """Stop the Redis listener (tests; settings changed)."""
    global _redis_bus
    with _bus_lock:
        if _redis_bus is not None:
            _redis_bus.close()
            _redis_bus = None


# ------------------------------------------------------------------------------- publishing


def _after_commit(session: OrmSession) -> None:
    for channel, payload in session.info.pop("live_pending", ()):
        _send(channel, payload)


def _after_rollback(session: OrmSession) -> None:
    session.info.pop("live_pending", None)


sa_event.listen(OrmSession, "after_commit", _after_commit)
sa_event.listen(OrmSession, "after_rollback", _after_rollback)


def _on_commit(session: Session, channel: str, payload: dict[str, Any]) -> None:
    session.info.setdefault("live_pending", []).append((channel, payload))


def publish(
    session: Session, conversation: Conversation, type: str, data: dict[str, Any]
) -> ConversationEvent:
    """Store an event of the conversation; its readers are told once the transaction commits."""
    session.execute(  # one writer per conversation at a time: ids commit in order
        select(Conversation.id).where(Conversation.id == conversation.id).with_for_update()
    )
    row = ConversationEvent(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        type=type,
        data=data,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    _on_commit(session, conversation_channel(conversation.id), {"id": row.id})
    return row


def publish_ephemeral(conversation_id: int, type: str, data: dict[str, Any]) -> None:
    """Tell the conversation's readers something now, without storing it (typing)."""
    _send(conversation_channel(conversation_id), {"ephemeral": {"type": type, "data": data}})


def notify_workspace(session: Session, workspace_id: int, data: dict[str, Any]) -> None:
    """Tell the workspace's inbox readers that its queue changed (after the commit)."""
    _on_commit(
        session, workspace_channel(workspace_id), {"ephemeral": {"type": "queue", "data": data}}
    )


# ------------------------------------------------------------------------------- subscribing


def _stored_after(workspace_id: int, conversation_id: int, after_id: int) -> list[LiveEvent]:
    with session_scope() as session:
        rows = session.exec(
            select(ConversationEvent)
            .where(
                ConversationEvent.workspace_id == workspace_id,
                ConversationEvent.conversation_id == conversation_id,
                ConversationEvent.id > after_id,
            )
            .order_by(col(ConversationEvent.id))
            .limit(BATCH)
        ).all()
        return [LiveEvent(row.id, row.type, dict(row.data)) for row in rows]


def last_event_id(session: Session, conversation_id: int) -> int:
    """The newest stored event's id (0 if none): where a reader of the history starts."""
    value = session.exec(
        select(func.max(ConversationEvent.id)).where(
            ConversationEvent.conversation_id == conversation_id
        )
    ).one()
    return int(value or 0)


async def _listening(channel: str) -> _Waiter:
    waiter = _Waiter(asyncio.get_running_loop())
    bus = _redis()
    if bus is not None and not bus.ready.is_set():
        await anyio.to_thread.run_sync(bus.ready.wait, 5)
    _hub.add(channel, waiter)
    return waiter


async def _wait(waiter: _Waiter, seconds: float) -> bool:
    try:
        await asyncio.wait_for(waiter.flag.wait(), seconds)
        return True
    except TimeoutError:
        return False


async def subscribe(
    conversation_id: int,
    after_id: int = 0,
    *,
    workspace_id: int,
    keepalive: float | None = None,
) -> AsyncIterator[LiveEvent]:
    """Stored events after `after_id`, then live ones (and a KEEPALIVE after each quiet spell).

    The caller has checked who may read this conversation; `workspace_id` is a second fence.
    """
    keepalive = keepalive or get_settings().live_keepalive_seconds
    channel = conversation_channel(conversation_id)
    waiter = await _listening(channel)  # before the first read: nothing falls in between
    last = max(0, int(after_id or 0))
    try:
        while True:
            waiter.flag.clear()
            for event in await anyio.to_thread.run_sync(
                _stored_after, workspace_id, conversation_id, last
            ):
                last = event.id
                yield event
            refetch = False
            while waiter.items:
                payload = waiter.items.popleft()
                if "ephemeral" in payload:
                    item = payload["ephemeral"]
                    yield LiveEvent(None, item["type"], item["data"])
                elif int(payload.get("id") or 0) > last:
                    refetch = True
            if refetch:
                continue
            if not await _wait(waiter, keepalive):
                yield KEEPALIVE
    finally:
        _hub.remove(channel, waiter)


async def subscribe_workspace(
    workspace_id: int, *, keepalive: float | None = None
) -> AsyncIterator[LiveEvent]:
    """`ready` once it listens (read the counts then), then the workspace's queue changes as
    `queue` events, and KEEPALIVE after quiet spells."""
    keepalive = keepalive or get_settings().live_keepalive_seconds
    channel = workspace_channel(workspace_id)
    waiter = await _listening(channel)
    try:
        yield LiveEvent(None, "ready", {})
        while True:
            waiter.flag.clear()
            while waiter.items:
                item = waiter.items.popleft().get("ephemeral") or {}
                yield LiveEvent(None, item.get("type", "queue"), item.get("data", {}))
            if not await _wait(waiter, keepalive):
                yield KEEPALIVE
    finally:
        _hub.remove(channel, waiter)


def readers(channel: str) -> int:
    """How many readers of this process follow a channel (tests wait on it)."""
    return _hub.count(channel)
