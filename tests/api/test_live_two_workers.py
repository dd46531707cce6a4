"""Two API processes on the real PostgreSQL and Redis: the visitor's stream is on worker A, the
agent acts through worker B, and every event (and the queue badge's counts) crosses over."""

from __future__ import annotations

import httpx
import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from tests.api.test_live_api import login, messages_of, visitor_stream
from tests.utils.factories import make_tenant
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id
from tests.utils.live_server import REDIS_URL, SSEReader, api_server, postgres_and_redis

pytestmark = pytest.mark.shared_redis  # the machine's Redis: pub/sub channels are global


@pytest.fixture
def workers(tmp_path, monkeypatch):
    with postgres_and_redis(monkeypatch) as url:
        env = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "LIVE_KEEPALIVE_SECONDS": "30"}
        with (
            api_server(env, tmp_path / "a.log") as a,
            api_server(env, tmp_path / "b.log") as b,
        ):
            yield a, b


def test_events_cross_workers_through_redis(workers):
    a, b = workers
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff")
    sid = new_session_id()
    visitor = {"bot_id": tenant.bot.public_id, "session_id": sid, "api_key": key}
    # keep-alives every 30 s: anything seen below came through Redis, not a re-read
    with httpx.Client(timeout=15) as http:
        agent = login(http, b, "agent-a@example.com")
        inbox_a = f"{a}/api/v1/workspaces/{tenant.workspace.id}/inbox"
        inbox_b = f"{b}/api/v1/workspaces/{tenant.workspace.id}/inbox"
        with SSEReader(f"{inbox_a}/events", agent) as badge:
            badge.wait_for(lambda ev: len(ev) == 1)
            assert badge.events[0]["data"]["pending"] == 0
            asked = http.post(f"{b}/api/public/handoff", json=visitor)  # on B
            cid = asked.json()["conversation_id"]
            badge.wait_for(lambda ev: ev[-1]["data"]["pending"] == 1)  # heard on A
            with (
                SSEReader(visitor_stream(a, tenant, key, sid)) as widget,  # on A
                SSEReader(f"{inbox_a}/{cid}/events", agent) as desk,  # on A
            ):
                widget.wait_for(lambda ev: len(ev) == 1)  # the replayed "pending"
                assert http.post(f"{inbox_b}/{cid}/take", headers=agent).status_code == 200
                badge.wait_for(
                    lambda ev: ev[-1]["data"] == {**ev[-1]["data"], "pending": 0, "mine": 1}
                )
                typed = http.post(f"{inbox_b}/{cid}/typing", json={"typing": True}, headers=agent)
                assert typed.status_code == 204, typed.text
                widget.wait_for(lambda ev: widget.of_type("typing") != [])
                sent = http.post(
                    f"{inbox_b}/{cid}/messages", json={"content": "Hello from B"}, headers=agent
                )
                assert sent.status_code in (200, 201), sent.text
                widget.wait_for(lambda ev: messages_of(widget, "agent") == ["Hello from B"])
                assert [e["data"]["who"] for e in widget.of_type("typing")] == ["agent"]
                http.post(f"{b}/api/public/typing", json={**visitor, "typing": True})
                http.post(f"{b}/api/chat", json={**visitor, "message": "Thanks, A hears me?"})
                desk.wait_for(lambda ev: messages_of(desk, "user") == ["Thanks, A hears me?"])
                desk.wait_for(lambda ev: desk.of_type("typing") != [])
                assert widget.comments == 0 and desk.comments == 0  # no re-read happened
