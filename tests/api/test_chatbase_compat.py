"""Chatbase API v1 compatibility (/api/chatbase/v1) over real HTTP: a Chatbase customer's script
run unchanged but for its base URL and key; Chatbase's published shapes fuzzed with schemathesis;
the chat pipeline's quota, rate limits, model overrides and history through this surface; the
chatbot, conversation and lead routes. One server (SQLite, the ingest worker running in it) and
two prepared workspaces for the module; a loopback fake LLM is workspace b's own provider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.utils.chatbase_fuzz import fuzz, load_operations
from tests.utils.fake_llm import fake_llm_server
from tests.utils.rate_windows import refused_within_one_window
from tests.utils.world_stack import world_stack

PREFIX = "/api/chatbase/v1"
SCRIPT = Path(__file__).resolve().parents[1] / "data" / "chatbase" / "customer_script.py"
SESSION_LIMIT = 4  # CHAT_SESSION_PER_MINUTE of the module's server


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    env = {
        "INGEST_WORKER": "true",  # create-chatbot's text is trained by the server itself
        "ALLOW_PRIVATE_URLS": "true",  # workspace b's LLM provider is on loopback
        "CHAT_SESSION_PER_MINUTE": str(SESSION_LIMIT),
    }
    with world_stack(tmp_path_factory.mktemp("chatbase"), env=env) as served:
        yield served


@pytest.fixture(scope="module")
def llm():
    with fake_llm_server() as server:
        yield server


class Chatbase:
    """Chatbase's API as a client calls it: its base URL, a key, JSON in and out."""

    def __init__(self, base: str, key: str | None):
        self.base = base
        self.http = httpx.Client(base_url=base + PREFIX, timeout=60)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def post(self, path: str, body: dict | None = None, **kwargs) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.headers, **kwargs)

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers)

    def chat(self, bot: str, *texts: str, **extra) -> httpx.Response:
        roles = ["user", "assistant"] * len(texts)
        messages = [{"role": r, "content": t} for r, t in zip(roles, texts, strict=False)]
        return self.post("/chat", {"chatbotId": bot, "messages": messages, **extra})

    def wait_until_trained(self, bot: str) -> None:
        """get-chatbots until the bot is no longer training (paced by a cheap request)."""
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        while True:
            bots = self.get("/get-chatbots").json()["chatbots"]
            status = next(b["status"] for b in bots if b["id"] == bot)
            if status == "ready":
                return
            assert status == "training" and datetime.now(UTC) < deadline, status
            self.http.get(self.base + "/api/health")


def refusal(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert list(response.json()) == ["message"], response.text
    return response.json()["message"]


def test_a_chatbase_customers_script_runs_with_only_base_url_and_key_changed(stack):
    base, a, _ = stack
    env = {**os.environ, "CHATBASE_BASE_URL": base + PREFIX, "CHATBASE_API_KEY": a.api_token}
    ran = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen["status"] == "ready"
    assert "10 to 200 pounds" in seen["answer"] and "two years" in seen["second"]
    assert "online" in seen["streamed"] and "data:" not in seen["streamed"]
    assert seen["roles"] == ["user", "assistant"] * 3
    assert seen["saved"] == "Your changes are saved." and seen["leads"] == 0
    assert seen["deleted"] == "Deleted successfully"


def test_chat_answers_are_stored_under_the_clients_conversation_id(stack):
    base, a, _ = stack
    cb = Chatbase(base, a.api_token)
    first = cb.chat(a.public_id, "When do you open?", conversationId="order-4711-chat")
    assert first.status_code == 200, first.text
    body = first.json()
    assert "9am" in body["text"] and body["answered"] and body["sources"]
    assert body["conversationId"] == "order-4711-chat"
    # Ids that do not fit ours name one conversation all the same.
    odd = [cb.chat(a.public_id, "When do you open?", conversationId="42") for _ in range(2)]
    assert odd[0].json()["conversationId"] == odd[1].json()["conversationId"] != "42"
    streamed = cb.chat(a.public_id, "When do you open?", conversationId="42", stream=True)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/plain")
    assert streamed.headers["x-conversation-id"] == odd[0].json()["conversationId"]
    assert "9am" in streamed.text and "data:" not in streamed.text
    assert "event:" not in streamed.text

    api = cb.get("/get-conversations", chatbotId=a.public_id, filteredSources="API").json()
    by_id = {c["id"]: c for c in api["data"]}
    assert by_id["order-4711-chat"]["source"] == "api"
    assert [m["role"] for m in by_id["order-4711-chat"]["messages"]] == ["user", "assistant"]
    assert len(by_id[odd[0].json()["conversationId"]]["messages"]) == 6
    assert a.session_id not in by_id  # the widget's conversation is not from the API
    widget = cb.get("/get-conversations", chatbotId=a.public_id, filteredSources="Widget or Iframe")
    assert [c["id"] for c in widget.json()["data"]] == [a.session_id]
    assert widget.json()["data"][0]["source"] == "website"
    none = cb.get("/get-conversations", chatbotId=a.public_id, filteredSources="WhatsApp,Slack")
    assert none.json() == {"data": []}


def test_model_temperature_and_earlier_turns_reach_the_model(stack, llm):
    base, _, b = stack
    cb = Chatbase(base, b.api_token)
    provider = {"base_url": llm.base_url, "api_key": "sk-test-chatbase", "model": "house-model"}
    ours = httpx.put(
        f"{base}/api/v1/workspaces/{b.workspace_id}/llm",
        json=provider,
        headers=cb.headers,
    )
    assert ours.status_code == 200, ours.text
    llm.reply = "We open at 9am every weekday [1]."
    history = ("Hello", "Hi! How can I help?", "When do you open?")
    tried = cb.chat(b.public_id, *history, model="gpt-4o-mini", temperature=0.7)
    assert tried.status_code == 200, tried.text
    assert tried.json()["text"] == llm.reply
    sent = llm.chat_requests()[-1]
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.7
    assert [m["content"] for m in sent["messages"] if m["role"] == "assistant"] == [history[1]]
    plain = cb.chat(b.public_id, "When do you open?", stream=True)
    assert plain.text == llm.reply
    assert llm.chat_requests()[-1]["model"] == "house-model"
    assert llm.chat_requests()[-1]["temperature"] == 0.3  # the bot's own
    llm.script = ["break"]  # two words, then the provider drops the answer
    broken = cb.chat(b.public_id, "When do you open?", stream=True)
    assert broken.status_code == 200
    words, _, sentence = broken.text.partition("\n\n")
    assert words and llm.reply.startswith(words) and "try again" in sentence
    for stream in (False, True):  # refused before the first word: a status, in both forms
        llm.script = ["401"]
        refused = cb.chat(b.public_id, "When do you open?", stream=stream)
        assert "not set up correctly" in refusal(refused, 502)


def test_a_client_that_leaves_mid_answer_leaves_what_it_was_sent_stored(stack, llm):
    base, _, b = stack
    cb = Chatbase(base, b.api_token)
    llm.reply = "We open at 9am every weekday, and " + "later on Fridays " * 20 + "[1]."
    llm.token_delay = 0.02
    body = {
        "chatbotId": b.public_id,
        "conversationId": "left-mid-answer",
        "messages": [{"role": "user", "content": "When do you open?"}],
        "stream": True,
    }
    try:
        with cb.http.stream("POST", "/chat", json=body, headers=cb.headers) as response:
            assert response.status_code == 200
            first = next(response.iter_text())
    finally:
        llm.token_delay = 0.0
    assert first and llm.reply.startswith(first)
    deadline = datetime.now(UTC) + timedelta(seconds=60)
    while True:  # the server notices at its next word, then stores what was sent
        found = cb.get("/get-conversations", chatbotId=b.public_id).json()["data"]
        stored = next((c for c in found if c["id"] == "left-mid-answer"), None)
        if stored and len(stored["messages"]) == 2:
            break
        assert datetime.now(UTC) < deadline, stored
        cb.http.get(base + "/api/health")
    kept = stored["messages"][1]["content"]
    assert kept.startswith(first) and len(kept) < len(llm.reply)


def test_refusals_are_chatbase_messages_with_chatbase_statuses(stack):
    base, a, b = stack
    cb = Chatbase(base, a.api_token)
    assert "Bearer" in refusal(Chatbase(base, None).get("/get-chatbots"), 401)
    owner_login = Chatbase(base, a.login_tokens["owner"])
    assert "workspace API token" in refusal(owner_login.get("/get-chatbots"), 401)
    assert refusal(Chatbase(base, "cat_unknown").get("/get-chatbots"), 401)
    assert refusal(cb.chat(b.public_id, "When do you open?"), 404) == "Bot not found."
    assert "last message" in refusal(cb.chat(a.public_id, "Hi", "Hello!"), 400)
    assert "temperature" in refusal(cb.chat(a.public_id, "Hi", temperature=2), 400)
    assert "messages" in refusal(cb.post("/chat", {"chatbotId": a.public_id}), 400)
    assert "too long" in refusal(cb.chat(a.public_id, "x" * 2001), 400)
    not_json = cb.http.post(
        "/chat", content=b"{", headers={**cb.headers, "content-type": "application/json"}
    )
    assert "JSON" in refusal(not_json, 400)
    assert "chatbotName" in refusal(cb.post("/create-chatbot", {"chatbotName": "ab"}), 400)
    blank = cb.post("/create-chatbot", {"chatbotName": "Blank", "sourceText": " "})
    assert refusal(blank, 400) == "Paste some text first."
    for page, size in (("0", "10"), ("x", "10"), ("1", "500")):
        reads = cb.get("/get-conversations", chatbotId=a.public_id, page=page, size=size)
        assert "whole number" in refusal(reads, 400)
    assert refusal(cb.get("/get-leads", chatbotId=a.public_id, startDate="2024-13-01"), 400)
    upload = refusal(cb.post("/upload-chatbot-icon", {"chatbotId": a.public_id}), 404)
    assert "does not offer POST /upload-chatbot-icon" in upload and "GET /get-leads" in upload


def test_the_monthly_quota_and_the_rate_limit_hold(stack):
    base, a, _ = stack
    cb = Chatbase(base, a.api_token)
    created = cb.post("/create-chatbot", {"chatbotName": "Quota bot", "sourceText": "Tea."})
    bot = created.json()["chatbotId"]
    ours = f"{base}/api/v1/workspaces/{a.workspace_id}/bots"
    bot_id = httpx.get(ours, params={"search": bot}, headers=cb.headers).json()[0]["id"]
    limited = httpx.patch(f"{ours}/{bot_id}", json={"message_limit": 1}, headers=cb.headers)
    assert limited.status_code == 200, limited.text
    assert cb.chat(bot, "Do you sell tea?").status_code == 200
    for stream in (False, True):
        over = cb.chat(bot, "Do you sell tea?", stream=stream)
        assert "Monthly limit reached" in refusal(over, 429)
        assert int(over.headers["retry-after"]) > 0

    def burst(conversation: str) -> httpx.Response | None:
        answered = [
            cb.chat(a.public_id, "When do you open?", conversationId=conversation)
            for _ in range(SESSION_LIMIT + 1)
        ]
        assert [r.status_code for r in answered[:-1]] == [200] * SESSION_LIMIT
        return answered[-1] if answered[-1].status_code == 429 else None

    over = refused_within_one_window(burst)
    assert over.headers["retry-after"] and refusal(over, 429)


def test_a_chatbot_is_created_retrained_configured_and_deleted(stack):
    base, a, _ = stack
    cb = Chatbase(base, a.api_token)
    text = "Delivery\n\nWe deliver in Lyon within two days."
    bot = cb.post("/create-chatbot", {"chatbotName": "Delivery bot", "sourceText": text})
    assert bot.status_code == 200 and list(bot.json()) == ["chatbotId"]
    bot_id = bot.json()["chatbotId"]
    cb.wait_until_trained(bot_id)
    assert "two days" in cb.chat(bot_id, "How long does delivery to Lyon take?").json()["text"]

    new_text = "Delivery\n\nWe deliver in Lyon within five days, and to Paris in a week."
    body = {"chatbotId": bot_id, "chatbotName": "Shipping bot", "sourceText": new_text}
    assert cb.post("/update-chatbot-data", body).json() == {"chatbotId": bot_id}
    cb.wait_until_trained(bot_id)
    answer = cb.chat(bot_id, "How long does delivery to Lyon take?").json()["text"]
    assert "five days" in answer and "two days" not in answer

    settings = {
        "chatbotId": bot_id,
        "instructions": "Be brief.",
        "temp": 0.5,
        "initialMessages": ["Hello!", "Ask me about deliveries."],
        "suggestedMessages": ["Do you deliver to Paris?"],
        "onlyAllowOnAddedDomains": True,
        "domains": ["https://shop.example.com/page"],
        "styles": {"alignChatButton": "left", "buttonColor": "#112233", "theme": "dark"},
        "ipLimit": 20,
        "visibility": "private",
    }
    saved = cb.post("/update-chatbot-settings", settings)
    assert saved.status_code == 202, saved.text
    assert saved.json() == {
        "message": "Your changes are saved.",
        "ignored": ["ipLimit", "styles.theme"],
    }
    listed = next(c for c in cb.get("/get-chatbots").json()["chatbots"] if c["id"] == bot_id)
    assert listed["name"] == "Shipping bot" and listed["visibility"] == "private"
    assert listed["instructions"] == "Be brief."
    ours = f"{base}/api/v1/workspaces/{a.workspace_id}/bots"
    mine = httpx.get(ours, params={"search": bot_id}, headers=cb.headers).json()[0]
    assert mine["temperature"] == 0.5 and mine["position"] == "bottom-left"
    assert mine["welcome_message"] == "Hello!\n\nAsk me about deliveries."
    assert mine["starter_questions"] == ["Do you deliver to Paris?"]
    assert mine["allowed_domains"] == ["shop.example.com"] and mine["accent_color"] == "#112233"
    assert "paused" in refusal(cb.chat(bot_id, "How long does delivery to Lyon take?"), 403)

    gone = cb.http.delete("/delete-chatbot", params={"chatbotId": bot_id}, headers=cb.headers)
    assert gone.json() == {"message": "Deleted successfully"}
    assert bot_id not in {c["id"] for c in cb.get("/get-chatbots").json()["chatbots"]}
    assert refusal(cb.get("/get-leads", chatbotId=bot_id), 404) == "Bot not found."


def test_leads_and_conversations_come_by_page_and_by_day(stack):
    base, a, b = stack
    cb = Chatbase(base, a.api_token)
    leads = cb.get("/get-leads", chatbotId=a.public_id).json()["collectedCustomers"]
    assert sorted(lead["name"] for lead in leads) == [f"Hand {a.marker}", f"Lead {a.marker}"]
    lead = next(x for x in leads if x["name"].startswith("Lead"))
    assert lead["email"] == "lead-a@example.com" and lead["chatbot_id"] == a.public_id
    assert lead["account_id"] == str(a.workspace_id) and b.marker not in json.dumps(leads)
    pages = [cb.get("/get-leads", chatbotId=a.public_id, page=str(n), size="1") for n in (1, 2, 3)]
    found = [[x["id"] for x in p.json()["collectedCustomers"]] for p in pages]
    assert len(found[0]) == len(found[1]) == 1 and found[0] != found[1] and found[2] == []
    today = datetime.now(UTC).date()
    later = cb.get("/get-leads", chatbotId=a.public_id, startDate=str(today + timedelta(days=1)))
    assert later.json() == {"collectedCustomers": []}
    day = {"startDate": str(today), "endDate": str(today)}
    assert len(cb.get("/get-leads", chatbotId=a.public_id, **day).json()["collectedCustomers"]) == 2
    earlier = cb.get(
        "/get-conversations", chatbotId=a.public_id, endDate=str(today - timedelta(days=1))
    )
    assert earlier.json() == {"data": []}
    one = cb.get("/get-conversations", chatbotId=a.public_id, page="1", size="1").json()["data"]
    far = cb.get("/get-conversations", chatbotId=a.public_id, page="999", size="1")
    assert len(one) == 1 and far.json() == {"data": []}


FUZZ_EXAMPLES = {"positive": 12, "negative": 6}


def test_chatbases_published_shapes_hold_under_schemathesis(stack):
    base, a, _ = stack
    cb = Chatbase(base, a.api_token)
    text = "Fuzzing\n\nThis bot is changed by generated requests."
    bot = cb.post("/create-chatbot", {"chatbotName": "Fuzzed bot", "sourceText": text})
    failures, reached = [], {}
    for op in load_operations():
        for mode, examples in FUZZ_EXAMPLES.items():
            outcome = fuzz(op, base + PREFIX, a.api_token, bot.json()["chatbotId"], examples, mode)
            assert outcome.examples > 0 or mode == "negative", op.label
            failures += [f"{op.label} ({mode}): {f}" for f in outcome.failures]
            reached.setdefault(op.label, set()).update(outcome.statuses)
    assert not failures, "\n".join(failures)
    assert all(any(200 <= s < 300 for s in statuses) for statuses in reached.values()), reached
