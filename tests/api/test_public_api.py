"""The public API over HTTP: widget config, chat (SSE and JSON), feedback, every refusal, CORS on
the public routes only; and the admin routes that set a bot up for it.
"""

import json

import pytest
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.chat.llm import client as llm
from chatapp.services.models import Message
from tests.utils.factories import PASSWORD
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import make_shop, new_session_id

MONTHLY = "Monthly limit reached. Please contact the website owner."


def body(shop, message="What are your opening hours?", **extra):
    return {
        "bot_id": shop.public_id,
        "api_key": shop.key,
        "session_id": new_session_id(),
        "message": message,
        **extra,
    }


def parse_sse(text):
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        events.append(data)
    return events


def login(client, email):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_widget_config_is_public_cacheable_and_has_no_secrets(client, shop_bot):
    url = f"/api/public/bots/{shop_bot.public_id}/config"
    response = client.get(url, headers={"Origin": "https://any.site"})
    assert response.status_code == 200
    config = response.json()
    assert set(config) == {
        "bot_id",
        "name",
        "active",
        "welcome_message",
        "starter_questions",
        "avatar_url",
        "accent_color",
        "position",
        "show_button_text",
        "button_text",
        "handoff",
        "audiences",
        "lead_form",
    }
    assert config["handoff"] == {"enabled": False, "button_label": ""}  # no handoff action
    assert config["lead_form"] == {"enabled": False, "title": "", "fields": []}
    assert config["bot_id"] == shop_bot.public_id and config["active"] is True
    assert shop_bot.key not in response.text
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["access-control-allow-origin"] == "*"
    etag = response.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    seed_path = client.get(f"/api/public/config/{shop_bot.public_id}")
    assert seed_path.json() == config
    missing = client.get("/api/public/bots/bot_nosuchbot123/config")
    assert missing.status_code == 404 and missing.json() == {"detail": "Bot not found."}


def test_chat_streams_server_sent_events(client, shop_bot):
    with client.stream(
        "POST", "/api/chat", json=body(shop_bot), headers={"Origin": "https://shop.example"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "no-cache"
        text = "".join(response.iter_text())
    events = parse_sse(text)
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["sources", "done"] and set(kinds[:-2]) == {"token"}
    answer = "".join(e["content"] for e in events if e["type"] == "token")
    assert "9am to 6pm" in answer and "[1]" in answer
    assert events[-2]["sources"][0]["title"] == "Hours"
    done = events[-1]
    with session_scope() as session:
        stored = session.get(Message, done["message_id"])
    assert stored.content == answer and stored.role == "assistant"


def test_chat_json_form_and_key_in_headers(client, shop_bot):
    request = body(shop_bot, stream=False)
    request.pop("api_key")
    response = client.post("/api/chat", json=request, headers={"X-Widget-Key": shop_bot.key})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert "9am" in reply["answer"] and reply["answered"] is True
    assert reply["sources"][0]["n"] == 1 and reply["session_id"] == request["session_id"]
    bearer = client.post(
        "/api/chat",
        json={**request, "message": "Can I return a used item?"},
        headers={"Authorization": f"Bearer {shop_bot.key}"},
    )
    assert bearer.status_code == 200 and "30 days" in bearer.json()["answer"]
    assert bearer.json()["conversation_id"] == reply["conversation_id"]


def test_a_session_id_is_made_when_missing(client, shop_bot):
    request = body(shop_bot, stream=False)
    request.pop("session_id")
    reply = client.post("/api/chat", json=request).json()
    assert len(reply["session_id"]) >= 16


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"api_key": "ck_nope"}, 401, "Invalid or missing widget key"),
        ({"api_key": None}, 401, "Invalid or missing widget key"),
        ({"bot_id": "bot_nosuchbot123"}, 404, "Bot not found."),
        ({"message": "x" * 2001}, 413, "Your message is too long: at most 2000 characters."),
        ({"message": ""}, 422, "Type a message first."),
        ({"session_id": "no spaces please"}, 422, "session_id must be 8 to 64"),
        ({"bot_id": None}, 422, "bot_id"),
    ],
)
def test_refusals_have_a_status_and_a_readable_detail(client, shop_bot, change, status, detail):
    response = client.post("/api/chat", json={**body(shop_bot), **change})
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"
    with session_scope() as session:
        assert session.exec(select(Message)).all() == []


def test_an_oversized_request_is_refused_before_parsing(client, shop_bot):
    response = client.post(
        "/api/chat",
        content=json.dumps(body(shop_bot, message="x" * 100_000)),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The request is too large (at most 64 KB)."


def test_wrong_website_and_paused_bot_are_forbidden(client, shop_bot):
    owner = login(client, "owner-a@example.com")
    bot_url = f"/api/v1/workspaces/{shop_bot.tenant.workspace.id}/bots/{shop_bot.bot_id}"
    patched = client.patch(bot_url, json={"allowed_domains": ["shop.example"]}, headers=owner)
    assert patched.status_code == 200 and patched.json()["allowed_domains"] == ["shop.example"]
    wrong = client.post(
        "/api/chat", json=body(shop_bot), headers={"Origin": "https://evil.example"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["detail"].startswith("This chatbot is not enabled on this website.")
    right = client.post(
        "/api/chat", json=body(shop_bot, stream=False), headers={"Origin": "https://shop.example"}
    )
    assert right.status_code == 200
    client.patch(bot_url, json={"status": "paused"}, headers=owner)
    paused = client.post(
        "/api/chat", json=body(shop_bot), headers={"Origin": "https://shop.example"}
    )
    assert paused.status_code == 403 and "paused" in paused.json()["detail"]
    config = client.get(
        f"/api/public/bots/{shop_bot.public_id}/config", headers={"Origin": "https://shop.example"}
    ).json()
    assert config["active"] is False


def test_monthly_limit_is_a_429_with_the_spec_message(client, shop_bot):
    owner = login(client, "owner-a@example.com")
    client.patch(
        f"/api/v1/workspaces/{shop_bot.tenant.workspace.id}/bots/{shop_bot.bot_id}",
        json={"message_limit": 1},
        headers=owner,
    )
    assert client.post("/api/chat", json=body(shop_bot, stream=False)).status_code == 200
    refused = client.post("/api/chat", json=body(shop_bot))
    assert refused.status_code == 429
    assert refused.json() == {"detail": MONTHLY}
    assert int(refused.headers["retry-after"]) > 0


def test_rate_limit_answers_429_with_retry_after(client, shop_bot):
    request = body(shop_bot, stream=False)
    statuses = []
    for _ in range(21):
        response = client.post("/api/chat", json=request)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429 and 10 <= statuses.count(200) <= 20
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert "too quickly" in response.json()["detail"]
    assert response.headers["access-control-expose-headers"].startswith("Retry-After")


def test_cors_is_open_on_public_routes_only(client, shop_bot):
    preflight = {
        "Origin": "https://customer.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    for path in ("/api/chat", f"/api/public/bots/{shop_bot.public_id}/config"):
        response = client.options(path, headers=preflight)
        assert response.status_code == 204
        assert response.headers["access-control-allow-origin"] == "*"
        assert "POST" in response.headers["access-control-allow-methods"]
        assert "Content-Type" in response.headers["access-control-allow-headers"]
    admin = client.options("/api/v1/me", headers=preflight)
    assert "access-control-allow-origin" not in admin.headers
    me = client.get("/api/v1/me", headers={"Origin": "https://customer.example"})
    assert "access-control-allow-origin" not in me.headers


def test_feedback_on_an_answer_of_ones_own_conversation(client, shop_bot):
    request = body(shop_bot, stream=False)
    reply = client.post("/api/chat", json=request).json()
    url = f"/api/public/messages/{reply['message_id']}/feedback"
    vote = {
        "bot_id": shop_bot.public_id,
        "session_id": request["session_id"],
        "api_key": shop_bot.key,
    }
    response = client.post(url, json={**vote, "rating": "down"})
    assert response.status_code == 200
    assert response.json() == {"message_id": reply["message_id"], "rating": "down"}
    with session_scope() as session:
        assert session.get(Message, reply["message_id"]).feedback == -1
    assert client.post(url, json={**vote, "rating": "up"}).status_code == 200
    with session_scope() as session:
        assert session.get(Message, reply["message_id"]).feedback == 1
    other_visitor = {**vote, "session_id": new_session_id(), "rating": "up"}
    assert client.post(url, json=other_visitor).status_code == 404
    assert client.post(url, json={**vote, "api_key": "ck_bad", "rating": "up"}).status_code == 401
    assert client.post(url, json={**vote, "rating": "meh"}).status_code == 422
    question = f"/api/public/messages/{reply['message_id'] - 1}/feedback"
    assert client.post(question, json={**vote, "rating": "up"}).status_code == 404


def test_llm_failures_over_http(client, shop_bot, monkeypatch):
    with fake_llm_server() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLM_RETRY_BASE_SECONDS", "0.01")
        reset_settings()
        fake.script = ["500", "500", "500"]
        failed = client.post("/api/chat", json=body(shop_bot, stream=False))
        assert failed.status_code == 503
        assert failed.json() == {"detail": llm.UNAVAILABLE, "code": "llm_unavailable"}
        fake.script = ["500", "500", "500"]
        with client.stream("POST", "/api/chat", json=body(shop_bot)) as response:
            assert response.status_code == 200
            events = parse_sse("".join(response.iter_text()))
        assert events == [{"type": "error", "code": "llm_unavailable", "message": llm.UNAVAILABLE}]
        fake.reply = "We open at 9am [1]."
        ok = client.post("/api/chat", json=body(shop_bot, stream=False)).json()
        assert ok["answer"] == "We open at 9am [1]." and ok["usage"]["completion_tokens"] == 5


def test_admin_routes_set_a_bot_up(client, shop_bot, monkeypatch):
    owner = login(client, "owner-a@example.com")
    viewer = login(client, "viewer-a@example.com")
    base = f"/api/v1/workspaces/{shop_bot.tenant.workspace.id}"
    keys = client.get(f"{base}/bots/{shop_bot.bot_id}/keys", headers=owner).json()
    assert len(keys) == 1 and keys[0]["active"] and shop_bot.key.startswith(keys[0]["prefix"])
    assert shop_bot.key not in json.dumps(keys)

    assert client.get(f"{base}/llm", headers=viewer).json()["source"] == "offline"
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    provider = {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-own-key-abcd1234"}
    assert client.put(f"{base}/llm", json=provider, headers=viewer).status_code == 403
    saved = client.put(f"{base}/llm", json=provider, headers=owner)
    assert saved.status_code == 200
    assert saved.json() == {
        "source": "workspace",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-4o-mini",
        "key_hint": "...1234",
    }
    assert "sk-own-key" not in client.get(f"{base}/llm", headers=owner).text
    cleared = client.delete(f"{base}/llm", headers=owner).json()
    assert cleared["source"] == "offline"

    played = client.post(
        f"{base}/bots/{shop_bot.bot_id}/chat",
        json={"message": "Do you ship to Canada?"},
        headers=viewer,
    )
    assert played.status_code == 200 and "5 to 8 days" in played.json()["answer"]
    other = make_shop("b")
    foreign = client.post(f"{base}/bots/{other.bot_id}/chat", json={"message": "Hi"}, headers=owner)
    assert foreign.status_code == 404


def test_openapi_documents_the_public_routes(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/chat",
        "/api/public/bots/{bot_id}/config",
        "/api/public/config/{bot_id}",
        "/api/public/messages/{message_id}/feedback",
        "/api/health",
    ):
        assert path in paths
    chat_doc = paths["/api/chat"]["post"]
    assert "text/event-stream" in chat_doc["responses"]["200"]["content"]
    assert {"401", "403", "413", "422", "429"} <= set(chat_doc["responses"])


def test_behind_a_proxy_the_ip_limit_uses_the_forwarded_address(client, shop_bot, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("CHAT_IP_PER_MINUTE", "1")
    reset_settings()

    def send(forwarded):
        return client.post(
            "/api/chat", json=body(shop_bot, stream=False), headers={"X-Forwarded-For": forwarded}
        ).status_code

    # The client may forge the first entry; the proxy's own (last) entry is the address.
    assert send("6.6.6.6, 198.51.100.1") == 200
    assert send("7.7.7.7, 198.51.100.2") == 200
    statuses = [send(f"{n}.1.1.1, 198.51.100.1") for n in range(3)]
    assert 429 in statuses


def test_an_identified_visitor_becomes_a_linked_contact(client, shop_bot):
    from chatapp.services.models import Contact, Conversation

    visitor = {"name": "Ada Lovelace", "email": "Ada@Example.com"}
    first = client.post("/api/chat", json=body(shop_bot, stream=False, visitor=visitor))
    assert first.status_code == 200, first.text
    later = {"email": "ada@example.com", "phone": "+33 1 23 45 67"}
    again = body(shop_bot, stream=False, visitor=later)
    assert client.post("/api/chat", json=again).status_code == 200
    anonymous = client.post("/api/chat", json=body(shop_bot, stream=False))
    with session_scope() as session:
        [contact] = session.exec(select(Contact)).all()
        assert (contact.name, contact.email, contact.phone) == (
            "Ada Lovelace",
            "ada@example.com",
            "+33 1 23 45 67",
        )
        assert contact.workspace_id == shop_bot.tenant.workspace.id
        linked = session.exec(select(Conversation).where(Conversation.contact_id == contact.id))
        assert len(linked.all()) == 2
        assert session.get(Conversation, anonymous.json()["conversation_id"]).contact_id is None


def test_config_lists_audiences_and_chat_takes_a_pick(client, shop_bot):
    from chatapp.services.bots import bots
    from chatapp.services.models import BotUpdate, Conversation

    audiences = [
        {"label": "Recruiter", "instructions": "Skills first.", "starter_questions": ["Roles?"]},
        {"label": "Peer engineer", "instructions": "Go technical."},
    ]
    with session_scope() as session:
        bots.update_bot(
            session, shop_bot.tenant.owner, shop_bot.bot_id, BotUpdate(audiences=audiences)
        )
    config = client.get(f"/api/public/bots/{shop_bot.public_id}/config").json()
    assert config["audiences"] == [
        {"key": "recruiter", "label": "Recruiter", "starter_questions": ["Roles?"]},
        {"key": "peer-engineer", "label": "Peer engineer", "starter_questions": []},
    ]
    response = client.post("/api/chat", json=body(shop_bot, stream=False, audience="peer-engineer"))
    assert response.status_code == 200, response.text
    with session_scope() as session:
        conversation = session.get(Conversation, response.json()["conversation_id"])
        assert conversation.audience == "peer-engineer"
    refused = client.post("/api/chat", json=body(shop_bot, audience="ceo"))
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": "Unknown audience 'ceo': choose one of recruiter, peer-engineer."
    }
