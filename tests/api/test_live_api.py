"""Live handoff over real HTTP (granian on loopback, SQLite and PostgreSQL): the visitor's event
stream receives the agent's reply and typing, a reconnect with Last-Event-ID gets exactly what it
missed, visitor messages reach the agent's stream, and wrong keys, sites and tenants are refused.
"""

from __future__ import annotations

import httpx
import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.models import BotUpdate
from tests.utils.factories import PASSWORD, make_tenant
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id
from tests.utils.live_server import SSEReader, api_server


@pytest.fixture
def desk(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
        _, key = bots.create_widget_key(session, a.owner, a.bot.id)
    add_action(a.bot.id, a.workspace.id, "handoff")
    return a, b, key


@pytest.fixture
def server(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "LIVE_KEEPALIVE_SECONDS": "1"}
    with api_server(env, tmp_path / "api.log") as base:
        yield base


def login(http, base, email):
    response = http.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def visitor_stream(base, tenant, key, session_id, **query):
    params = {"bot_id": tenant.bot.public_id, "session_id": session_id, "key": key, **query}
    return f"{base}/api/public/conversations/events?" + httpx.QueryParams(params).__str__()


def messages_of(reader, role):
    return [e["data"]["content"] for e in reader.of_type("message") if e["data"]["role"] == role]


def test_agent_reply_reaches_the_visitor_live_and_a_reconnect_misses_nothing(desk, server):
    tenant, _, key = desk
    sid = new_session_id()
    visitor = {"bot_id": tenant.bot.public_id, "session_id": sid, "api_key": key}
    with httpx.Client(timeout=15) as http:
        config = http.get(f"{server}/api/public/bots/{tenant.bot.public_id}/config").json()
        assert config["handoff"] == {"enabled": True, "button_label": "Talk to a person"}
        asked = http.post(f"{server}/api/public/handoff", json=visitor)
        assert asked.status_code == 200, asked.text
        assert asked.json()["status"] == "pending" and not asked.json()["offer_lead_form"]
        cid = asked.json()["conversation_id"]
        agent = login(http, server, "agent-a@example.com")
        inbox = f"{server}/api/v1/workspaces/{tenant.workspace.id}/inbox"
        queue = http.get(inbox, params={"status": "pending"}, headers=agent).json()
        assert queue["counts"]["pending"] == 1
        assert [i["conversation_id"] for i in queue["items"]] == [cid]

        with (
            SSEReader(visitor_stream(server, tenant, key, sid)) as widget,
            SSEReader(f"{inbox}/{cid}/events", agent) as desk_stream,
        ):
            assert widget.status == 200 and desk_stream.status == 200
            widget.wait_for(lambda ev: any(e["event"] == "status" for e in ev))
            assert http.post(f"{inbox}/{cid}/take", headers=agent).json()["status"] == "assigned"
            http.post(f"{inbox}/{cid}/typing", json={"typing": True}, headers=agent)
            sent = http.post(
                f"{inbox}/{cid}/messages", json={"content": "Hi, Ana here"}, headers=agent
            )
            assert sent.status_code == 201, sent.text
            widget.wait_for(lambda ev: any(e["event"] == "message" for e in ev))
            assert messages_of(widget, "agent") == ["Hi, Ana here"]
            typing = widget.of_type("typing")
            assert typing and typing[0]["data"]["who"] == "agent" and "id" not in typing[0]
            assert [e["data"]["status"] for e in widget.of_type("status")] == [
                "pending",
                "assigned",
            ]
            # The visitor writes: no bot answer, the agent sees it live (and the typing).
            http.post(
                f"{server}/api/public/typing", json={**visitor, "typing": True}
            ).raise_for_status()
            chat = http.post(f"{server}/api/chat", json={**visitor, "message": "My order is late"})
            assert chat.status_code == 200
            assert '"handled_by":"human"' in chat.text and "event: token" not in chat.text
            desk_stream.wait_for(lambda ev: messages_of(desk_stream, "user") != [])
            desk_stream.wait_for(lambda ev: desk_stream.of_type("typing") != [])
            assert messages_of(desk_stream, "user") == ["My order is late"]
            assert [e["data"]["who"] for e in desk_stream.of_type("typing")] == ["visitor"]
            widget.wait_for(lambda ev: messages_of(widget, "user") != [])
            assert [e["data"]["who"] for e in widget.of_type("typing")] == ["agent"]
            last_id = max(e["id"] for e in widget.events if "id" in e)
        # Dropped: two replies and a status change are sent while the widget is away.
        for text in ("Let me check.", "It ships today."):
            http.post(f"{inbox}/{cid}/messages", json={"content": text}, headers=agent)
        http.post(f"{inbox}/{cid}/resolve", headers=agent).raise_for_status()
        for how in ("header", "query"):
            if how == "header":
                url, headers = (
                    visitor_stream(server, tenant, key, sid),
                    {"Last-Event-ID": str(last_id)},
                )
            else:
                url, headers = visitor_stream(server, tenant, key, sid, last_event_id=last_id), {}
            with SSEReader(url, headers) as again:
                again.wait_for(lambda ev: len([e for e in ev if "id" in e]) >= 3)
                stored = [e for e in again.events if "id" in e]
                assert all(e["id"] > last_id for e in stored)
                summary = [
                    (e["event"], e["data"].get("content") or e["data"].get("status"))
                    for e in stored
                ]
                assert summary == [
                    ("message", "Let me check."),
                    ("message", "It ships today."),
                    ("status", "resolved"),
                ]
                # Nothing else arrives afterwards (keep-alives do: the stream stays open).
                seen = again.comments
                again.wait_for(lambda ev, seen=seen: again.comments > seen + 1, timeout=10)
                assert len([e for e in again.events if "id" in e]) == 3


def test_wrong_key_site_session_and_tenant_are_refused(desk, server):
    tenant, other, key = desk
    sid = new_session_id()
    with httpx.Client(timeout=15) as http:
        visitor = {"bot_id": tenant.bot.public_id, "session_id": sid, "api_key": key}
        assert http.post(f"{server}/api/public/handoff", json=visitor).status_code == 200
        wrong = http.get(visitor_stream(server, tenant, "ck_wrong", sid))
        assert wrong.status_code == 401 and "widget key" in wrong.json()["detail"]
        assert wrong.headers["access-control-allow-origin"] == "*"
        unknown = http.get(visitor_stream(server, tenant, key, new_session_id()))
        assert unknown.status_code == 404
        bad = http.post(
            f"{server}/api/public/typing", json={**visitor, "session_id": "x", "typing": 1}
        )
        assert bad.status_code == 422
        with session_scope() as session:
            bots.update_bot(
                session, tenant.owner, tenant.bot.id, BotUpdate(allowed_domains=["shop.example"])
            )
        elsewhere = http.get(
            visitor_stream(server, tenant, key, sid), headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        allowed = http.post(
            f"{server}/api/public/handoff", json=visitor, headers={"Origin": "https://shop.example"}
        )
        assert allowed.status_code == 200

        cid = allowed.json()["conversation_id"]
        inbox = f"{server}/api/v1/workspaces/{tenant.workspace.id}/inbox"
        viewer = login(http, server, "viewer-a@example.com")
        assert http.post(f"{inbox}/{cid}/take", headers=viewer).status_code == 403
        assert http.get(f"{inbox}/events", headers=viewer).status_code == 403
        outsider = login(http, server, "agent-b@example.com")
        assert http.post(f"{inbox}/{cid}/take", headers=outsider).status_code == 404
        their_inbox = f"{server}/api/v1/workspaces/{other.workspace.id}/inbox"
        assert http.post(f"{their_inbox}/{cid}/take", headers=outsider).status_code == 404
        assert http.get(f"{their_inbox}/{cid}/events", headers=outsider).status_code == 404
        agent = login(http, server, "agent-a@example.com")
        admin = login(http, server, "admin-a@example.com")
        assert http.post(f"{inbox}/{cid}/take", headers=agent).status_code == 200
        taken = http.post(f"{inbox}/{cid}/take", headers=admin)
        assert taken.status_code == 409 and "already handling" in taken.json()["detail"]
        empty = http.post(f"{inbox}/{cid}/messages", json={"content": "  "}, headers=agent)
        assert empty.status_code == 422 and empty.json()["detail"] == "Type a reply first."


def test_queue_counts_stream_updates_when_a_visitor_asks(desk, server):
    tenant, _, key = desk
    with httpx.Client(timeout=15) as http:
        agent = login(http, server, "agent-a@example.com")
        url = f"{server}/api/v1/workspaces/{tenant.workspace.id}/inbox/events"
        with SSEReader(url, agent) as counts:
            counts.wait_for(lambda ev: len(ev) == 1)
            assert counts.events[0]["data"]["pending"] == 0
            for n in range(2):
                visitor = {"bot_id": tenant.bot.public_id, "session_id": new_session_id()}
                http.post(f"{server}/api/public/handoff", json={**visitor, "api_key": key})
                counts.wait_for(lambda ev, n=n: ev[-1]["data"]["pending"] == n + 1)
