"""The live event bus, in process and through the real Redis: replay after an id, then live
events in order with no gap or duplicate; nothing announced before (or without) its commit."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.live import bus
from chatapp.services.models import Conversation
from tests.utils.databases import require_or_skip
from tests.utils.factories import make_tenant

pytestmark = pytest.mark.shared_redis  # the machine's Redis: pub/sub channels are global

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def backend(request, monkeypatch):
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            require_or_skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
    reset_settings()
    bus.reset()
    yield request.param
    bus.reset()


@pytest.fixture
def chat_row(database_url, backend):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        row = Conversation(workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, session_id="v1")
        session.add(row)
        session.flush()
        return row


def publish(row, n: int) -> int:
    with session_scope() as session:
        return bus.publish(session, row, "message", {"n": n}).id


async def wait_for(condition, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def test_replay_after_an_id_then_live_events_in_order(chat_row):
    ids = [publish(chat_row, n) for n in range(3)]

    async def run():
        seen = []
        stream = bus.subscribe(chat_row.id, ids[0], workspace_id=chat_row.workspace_id)

        async def read():
            async for event in stream:
                if event.type == "keepalive":
                    continue
                seen.append(event)
                if len(seen) == 2 + 40 + 1:
                    return

        reader = asyncio.create_task(read())
        await wait_for(lambda: len(seen) == 2)  # the replay
        writers = [
            threading.Thread(
                target=lambda k=k: [publish(chat_row, 1000 + 100 * k + i) for i in range(10)]
            )
            for k in range(4)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            await asyncio.to_thread(writer.join)
        bus.publish_ephemeral(chat_row.id, "typing", {"who": "agent", "typing": True})
        await asyncio.wait_for(reader, 20)
        return seen

    seen = asyncio.run(run())
    stored = [e for e in seen if e.id is not None]
    assert [e.data["n"] for e in stored[:2]] == [1, 2]  # after the first id, not including it
    ids_seen = [e.id for e in stored]
    assert ids_seen == sorted(ids_seen) and len(set(ids_seen)) == len(ids_seen) == 42
    # every writer's 10 events, each writer's in its own order
    for k in range(4):
        base = 1000 + 100 * k
        assert [e.data["n"] for e in stored if base <= e.data["n"] < base + 10] == [
            base + i for i in range(10)
        ]
    typing = [e for e in seen if e.type == "typing"]
    assert typing and typing[0].id is None and typing[0].data["who"] == "agent"
    assert typing[0].sse().startswith("event: typing\n")
    assert stored[0].sse().startswith(f"id: {stored[0].id}\nevent: message\n")


def test_a_rolled_back_event_is_never_seen_and_keepalives_come(chat_row):
    async def run():
        seen = []
        stream = bus.subscribe(chat_row.id, 0, workspace_id=chat_row.workspace_id, keepalive=0.3)

        async def read():
            async for event in stream:
                seen.append(event)
                if event.type == "message":
                    return

        reader = asyncio.create_task(read())
        channel = bus.conversation_channel(chat_row.id)
        await wait_for(lambda: bus.readers(channel) == 1)

        def rolled_back():
            with pytest.raises(RuntimeError), session_scope() as session:
                bus.publish(session, chat_row, "message", {"n": "never"})
                raise RuntimeError("half-way failure")

        await asyncio.to_thread(rolled_back)
        await wait_for(lambda: any(e.type == "keepalive" for e in seen))
        await asyncio.to_thread(publish, chat_row, 7)
        await asyncio.wait_for(reader, 10)
        return seen

    seen = asyncio.run(run())
    messages = [e.data for e in seen if e.type == "message"]
    assert messages == [{"n": 7}]
    assert bus.KEEPALIVE.sse() == ": keep-alive\n\n"


def test_workspace_channel_hears_queue_changes_after_commit(chat_row):
    async def run():
        stream = bus.subscribe_workspace(chat_row.workspace_id, keepalive=5)
        ready = await asyncio.wait_for(stream.__anext__(), 10)
        assert ready.type == "ready"
        assert bus.readers(bus.workspace_channel(chat_row.workspace_id)) == 1
        first = asyncio.ensure_future(stream.__anext__())

        def change():
            with session_scope() as session:
                bus.notify_workspace(session, chat_row.workspace_id, {"status": "pending"})

        await asyncio.to_thread(change)
        event = await asyncio.wait_for(first, 10)
        await stream.aclose()
        return event

    event = asyncio.run(run())
    assert event.type == "queue" and event.data == {"status": "pending"}
