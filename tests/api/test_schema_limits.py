"""The API and the services agree on every limit of the shared schemas: at the limit both accept,
one over both refuse, in the same words (the API's 422 `detail` names the field first)."""

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import api_tokens
from chatapp.services.accounts.schemas import MAX_TOKEN_NAME
from chatapp.services.actions import store
from chatapp.services.actions.common import ActionInvalid
from chatapp.services.actions.schemas import MAX_ACTION_NAME
from chatapp.services.contacts import leads
from chatapp.services.contacts.schemas import MAX_LEAD_MESSAGE, MAX_NAME
from chatapp.services.knowledge import schemas as knowledge
from chatapp.services.knowledge import sources
from chatapp.services.live import agents
from chatapp.services.live.schemas import MAX_REPLY_CHARS
from tests.utils.factories import PASSWORD, make_tenant
from tests.utils.handoff import add_action
from tests.utils.knowledge import make_shop, new_session_id


@pytest.fixture
def world(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
    login = client.post(
        "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    return a, headers, f"/api/v1/workspaces/{a.workspace.id}"


def service_refusal(work) -> str:
    with pytest.raises(ValidationFailed) as refused, session_scope() as session:
        work(session)
    return refused.value.message


def service_accepts(work) -> None:
    with session_scope() as session:
        work(session)


def agree(client, world, path: str, payload: dict, work, field: str) -> None:
    """One over the limit: the API and the service refuse with the same words."""
    _a, headers, base = world
    response = client.post(f"{base}{path}", json=payload, headers=headers)
    words = service_refusal(work)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == f"{field}: {words}"


QA = [
    ("question", knowledge.MAX_QUESTION, "Keep the question under 1,000 characters."),
    ("answer", knowledge.MAX_ANSWER, "Keep the answer under 10,000 characters."),
]


@pytest.mark.parametrize(("field", "limit", "words"), QA)
def test_qa_limits_agree(client, world, field, limit, words):
    a, headers, base = world
    at_limit = {"question": "Do you ship?", "answer": "Yes.", field: "x" * limit}
    over = {**at_limit, field: "x" * (limit + 1)}
    path = f"/bots/{a.bot.id}/sources/qa"
    assert client.post(f"{base}{path}", json=at_limit, headers=headers).status_code == 202
    service_accepts(lambda s: sources.add_qa(s, a.owner, a.bot.id, **at_limit))
    agree(client, world, path, over, lambda s: sources.add_qa(s, a.owner, a.bot.id, **over), field)
    assert service_refusal(lambda s: sources.add_qa(s, a.owner, a.bot.id, **over)) == words


def test_text_and_title_limits_agree(client, world, monkeypatch):
    monkeypatch.setenv("MAX_TEXT_CHARS", "500")
    reset_settings()
    a, headers, base = world
    path = f"/bots/{a.bot.id}/sources/text"
    ok = {"title": "t" * knowledge.MAX_TITLE, "text": "x" * 500}
    assert client.post(f"{base}{path}", json=ok, headers=headers).status_code == 202
    service_accepts(lambda s: sources.add_text(s, a.owner, a.bot.id, **ok))
    long_text = {"title": "", "text": "x" * 501}
    add = sources.add_text
    agree(client, world, path, long_text, lambda s: add(s, a.owner, a.bot.id, **long_text), "text")
    long_title = {**ok, "title": "t" * (knowledge.MAX_TITLE + 1)}
    agree(
        client, world, path, long_title, lambda s: add(s, a.owner, a.bot.id, **long_title), "title"
    )


@pytest.mark.parametrize(
    ("field", "at_limit", "over"),
    [
        ("max_pages", knowledge.MAX_PAGES, knowledge.MAX_PAGES + 1),
        ("max_pages", knowledge.MIN_PAGES, knowledge.MIN_PAGES - 1),
        ("max_depth", knowledge.MAX_DEPTH, knowledge.MAX_DEPTH + 1),
        ("include", ["/p"] * knowledge.MAX_PATTERNS, ["/p"] * (knowledge.MAX_PATTERNS + 1)),
        ("exclude", ["/p"] * knowledge.MAX_PATTERNS, ["/p"] * (knowledge.MAX_PATTERNS + 1)),
    ],
)
def test_website_limits_agree(client, world, monkeypatch, field, at_limit, over):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    a, headers, base = world
    path = f"/bots/{a.bot.id}/sources/website"
    ok = {"url": "http://127.0.0.1:9/", field: at_limit}
    bad = {**ok, field: over}
    add = sources.add_website
    assert client.post(f"{base}{path}", json=ok, headers=headers).status_code == 202
    service_accepts(lambda s: add(s, a.owner, a.bot.id, **ok))
    agree(client, world, path, bad, lambda s: add(s, a.owner, a.bot.id, **bad), field)


@pytest.mark.parametrize("patterns", [True, "/docs", {"a": 1}, [1, 2], [["/a"]]])
def test_website_patterns_that_are_not_lists_of_text_are_refused_in_words(client, world, patterns):
    """Found by the fuzzer: `"exclude": true` crashed the patterns' cleaning (500)."""
    a, headers, base = world
    body = {"url": "https://example.com/", "include": patterns}
    response = client.post(f"{base}/bots/{a.bot.id}/sources/website", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert "list" in response.text or "string" in response.text


def test_url_length_agrees(client, world):
    a, _headers, _base = world
    url = "https://example.com/" + "a" * 2100
    add = sources.add_url
    agree(client, world, f"/bots/{a.bot.id}/sources/url", {"url": url},
          lambda s: add(s, a.owner, a.bot.id, url=url), "url")  # fmt: skip


def test_one_upload_check_at_the_limit_and_one_byte_over(client, world, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_MB", "0.01")
    reset_settings()
    a, headers, base = world
    limit = knowledge.upload_limit_bytes()
    path = f"{base}/bots/{a.bot.id}/sources/file"
    at_limit, over = b"w" * limit, b"w" * (limit + 1)
    accepted = client.post(path, files={"file": ("notes.txt", at_limit)}, headers=headers)
    assert accepted.status_code == 202, accepted.text
    refused = client.post(path, files={"file": ("notes.txt", over)}, headers=headers)
    words = service_refusal(
        lambda s: sources.add_file(s, a.owner, a.bot.id, filename="notes.txt", data=over)
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == words == knowledge.file_too_large_message("notes.txt")
    assert words == "notes.txt is larger than the 0.01 MB limit per file."


def test_token_name_limit_agrees(client, world):
    a, headers, base = world
    ok = client.post(f"{base}/tokens", json={"name": "t" * MAX_TOKEN_NAME}, headers=headers)
    assert ok.status_code == 201, ok.text
    over = "t" * (MAX_TOKEN_NAME + 1)
    agree(client, world, "/tokens", {"name": over},
          lambda s: api_tokens.create_token(s, a.owner, name=over), "name")  # fmt: skip


@pytest.mark.parametrize(("field", "limit"), [("name", MAX_NAME), ("message", MAX_LEAD_MESSAGE)])
def test_lead_form_limits_agree(client, database_url, field, limit):
    """The lead form's refusals stay a field -> message map (the widget shows each beside its
    field): the API's words are the service's, at every length."""
    shop = make_shop("a")
    with session_scope() as session:
        action = store.create_action(session, shop.tenant.owner, shop.bot_id, kind="collect_lead")
        config = action.config
    visitor = {"bot_id": shop.public_id, "api_key": shop.key, "email": "ann@example.com"}
    ok = client.post("/api/public/leads", json={**visitor, field: "x" * limit})
    assert ok.status_code == 201, ok.text
    over = {"email": "ann@example.com", field: "x" * (limit + 1)}
    refused = client.post("/api/public/leads", json={**visitor, **over})
    with pytest.raises(leads.LeadInvalid) as service:
        leads.clean(config, over)
    assert refused.status_code == 422
    assert refused.json()["errors"] == service.value.errors
    assert refused.json()["errors"][field] == f"Keep the {field} under {limit + 1} characters."


def test_action_name_limit_agrees(client, world):
    a, headers, base = world
    path = f"{base}/bots/{a.bot.id}/actions"
    ok = client.post(path, json={"kind": "link", "name": "n" * MAX_ACTION_NAME}, headers=headers)
    assert ok.status_code == 201, ok.text
    over = "n" * (MAX_ACTION_NAME + 1)
    refused = client.post(path, json={"kind": "link", "name": over}, headers=headers)
    with pytest.raises(ActionInvalid) as service, session_scope() as session:
        store.create_action(session, a.owner, a.bot.id, kind="link", name=over)
    assert refused.status_code == 422
    assert (
        refused.json()["errors"]
        == service.value.errors
        == {"name": f"Keep the name under {MAX_ACTION_NAME + 1} characters."}
    )


def test_agent_reply_limit_agrees(client, database_url):
    shop = make_shop("a")
    add_action(shop.bot_id, shop.tenant.workspace.id, "handoff")
    visitor = {"bot_id": shop.public_id, "session_id": new_session_id(), "api_key": shop.key}
    cid = client.post("/api/public/handoff", json=visitor).json()["conversation_id"]
    login = client.post(
        "/api/v1/auth/login", json={"email": "agent-a@example.com", "password": PASSWORD}
    )
    agent = {"Authorization": f"Bearer {login.json()['token']}"}
    inbox = f"/api/v1/workspaces/{shop.tenant.workspace.id}/inbox/{cid}"
    assert client.post(f"{inbox}/take", headers=agent).status_code == 200
    ok = client.post(f"{inbox}/messages", json={"content": "r" * MAX_REPLY_CHARS}, headers=agent)
    assert ok.status_code in (200, 201), ok.text
    over = "r" * (MAX_REPLY_CHARS + 1)
    refused = client.post(f"{inbox}/messages", json={"content": over}, headers=agent)
    words = service_refusal(lambda s: agents.reply(s, shop.tenant.agent, cid, over))
    assert words == "A reply is limited to 4,000 characters."
    assert refused.status_code == 422 and refused.json()["detail"] == f"content: {words}"
