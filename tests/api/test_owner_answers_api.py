"""What owners coming from Chatbase look for, through the HTTP API: improve a bot's answer (a
visitor asking through the public API gets the new one, citing the Q&A pair), read what a source
taught, edit a pasted text or a pair in place; every refusal in words, and no other workspace's
answers or sources reachable."""

from __future__ import annotations

import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.workers import ingest as worker
from tests.utils.factories import PASSWORD, make_tenant
from tests.utils.knowledge import Shop, make_shop, new_session_id

SATURDAY = "When do you open on Saturdays?"
BETTER = "On Saturdays we open from 9am to 1pm, since May."


@pytest.fixture
def shops(client):
    """Shop A (its members logged in by role) and shop B, each with its own answered question."""
    a, b = make_shop("a"), _small_shop("b")
    logins = {}
    for role in ("owner", "admin", "agent", "viewer"):
        reply = client.post(
            "/api/v1/auth/login", json={"email": f"{role}-a@example.com", "password": PASSWORD}
        )
        logins[role] = {"Authorization": f"Bearer {reply.json()['token']}"}
    return a, b, logins, f"/api/v1/workspaces/{a.tenant.workspace.id}"


def _small_shop(label: str) -> Shop:
    """Another workspace's bot with one pasted text (cheaper to train than the whole shop)."""
    with session_scope() as session:
        tenant = make_tenant(session, label)
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text="Open 9 to 5.")
    worker.run_until_idle()
    return Shop(tenant, key, tenant.bot.public_id)


def visitor_asks(client, shop, question: str) -> dict:
    """A new visitor's question through the public API (the widget's JSON form)."""
    reply = client.post(
        "/api/chat",
        json={
            "bot_id": shop.public_id,
            "session_id": new_session_id(),
            "message": question,
            "stream": False,
        },
        headers={"X-Widget-Key": shop.key},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_an_improved_answer_reaches_the_next_visitor(client, shops):
    a, _b, logins, base = shops
    before = visitor_asks(client, a, SATURDAY)
    assert "10am to 4pm" in before["answer"]
    improved = client.post(
        f"{base}/messages/{before['message_id']}/improve",
        json={"answer": BETTER},
        headers=logins["admin"],
    )
    assert improved.status_code == 202, improved.text
    pair = improved.json()
    assert (pair["kind"], pair["status"], pair["title"]) == ("qa", "queued", SATURDAY)
    again = client.post(
        f"{base}/messages/{before['message_id']}/improve",
        json={"answer": "On Saturdays: 9am to 1pm.", "question": SATURDAY},
        headers=logins["owner"],
    )
    assert again.status_code == 202 and again.json()["id"] == pair["id"]  # no duplicate
    worker.run_until_idle()
    after = visitor_asks(client, a, SATURDAY)
    assert after["answer"].startswith("On Saturdays: 9am to 1pm")
    assert [s["source_id"] for s in after["sources"]] == [pair["id"]]
    content = client.get(f"{base}/sources/{pair['id']}/content", headers=logins["viewer"]).json()
    assert content["text"] == f"{SATURDAY}\n\nOn Saturdays: 9am to 1pm."


def test_improving_refuses_in_words(client, shops):
    a, b, logins, base = shops
    answer_id = visitor_asks(client, a, SATURDAY)["message_id"]
    foreign_id = visitor_asks(client, b, SATURDAY)["message_id"]
    url = f"{base}/messages/{answer_id}/improve"
    cases = [
        (url, logins["owner"], {"answer": "  "}, 422, "answer: Write both the question"),
        (url, logins["owner"], {"answer": "Yes.", "colour": "red"}, 422, "colour: Extra inputs"),
        (url, logins["agent"], {"answer": "Yes."}, 403, "agent"),
        (url, logins["viewer"], {"answer": "Yes."}, 403, "viewer"),
        (f"{base}/messages/{answer_id - 1}/improve", logins["owner"], {"answer": "Yes."}, 422,
         "Only the bot's answers can be improved."),
        (f"{base}/messages/{foreign_id}/improve", logins["owner"], {"answer": "Yes."}, 404,
         "Message not found."),
    ]  # fmt: skip
    for path, headers, body, status, words in cases:
        reply = client.post(path, json=body, headers=headers)
        assert reply.status_code == status, (path, body, reply.text)
        assert words in reply.json()["detail"]
    listed = client.get(f"{base}/bots/{a.bot_id}/sources", headers=logins["owner"]).json()
    assert sorted(s["kind"] for s in listed) == ["qa", "text", "text"]  # the shop's own three


def test_a_sources_text_and_chunks_are_read_and_paged(client, shops):
    a, _b, logins, base = shops
    data = " ".join(
        f"Rule {n}: bay {n % 9} serves bikes of model {n * 7} on shift {n}." for n in range(40)
    )
    upload = client.post(
        f"{base}/bots/{a.bot_id}/sources/file",
        files={"file": ("rules.txt", data.encode(), "text/plain")},
        headers=logins["owner"],
    )
    worker.run_until_idle()
    url = f"{base}/sources/{upload.json()['id']}/content"
    whole = client.get(url, params={"chunk_limit": 500}, headers=logins["viewer"]).json()
    assert whole["text"] == data and not whole["text_truncated"]
    assert whole["chunk_count"] == len(whole["chunks"]) > 2
    assert [c["index"] for c in whole["chunks"]] == list(range(1, whole["chunk_count"] + 1))
    page = client.get(url, params={"chunk_offset": 1, "chunk_limit": 1}, headers=logins["agent"])
    assert page.json()["chunks"] == [whole["chunks"][1]]
    assert f"Showing chunks 2 to 2 of {whole['chunk_count']}." in page.json()["notes"]
    for params in ({"chunk_limit": 0}, {"chunk_limit": 501}, {"chunk_offset": -1}):
        assert client.get(url, params=params, headers=logins["owner"]).status_code == 422


def test_texts_and_pairs_are_edited_in_place(client, shops):
    a, _b, logins, base = shops
    listed = client.get(f"{base}/bots/{a.bot_id}/sources", headers=logins["owner"]).json()
    hours = next(s for s in listed if s["title"] == "Hours")
    pair = next(s for s in listed if s["kind"] == "qa")
    text = "Opening hours\n\nOur shop in Lyon is open Tuesday to Saturday from 11am to 7pm."
    edited = client.patch(
        f"{base}/sources/{hours['id']}", json={"text": text}, headers=logins["admin"]
    )
    assert edited.status_code == 202, edited.text
    assert (edited.json()["id"], edited.json()["status"], edited.json()["title"]) == (
        hours["id"], "queued", "Hours",
    )  # fmt: skip
    answer = client.patch(
        f"{base}/sources/{pair['id']}", json={"answer": "Yes, in 3 days."}, headers=logins["owner"]
    )
    assert answer.status_code == 202
    worker.run_until_idle()
    content = client.get(f"{base}/sources/{hours['id']}/content", headers=logins["owner"]).json()
    assert content["text"] == text and "Tuesday to Saturday" in content["chunks"][0]["text"]
    assert "Tuesday to Saturday" in visitor_asks(client, a, "When are you open?")["answer"]
    assert visitor_asks(client, a, "Do you ship to Canada?")["answer"].startswith("Yes, in 3 days")


def test_editing_refuses_in_words(client, shops):
    a, b, logins, base = shops
    listed = client.get(f"{base}/bots/{a.bot_id}/sources", headers=logins["owner"]).json()
    hours = next(s for s in listed if s["title"] == "Hours")["id"]
    pair = next(s for s in listed if s["kind"] == "qa")["id"]
    with session_scope() as session:
        url_source = sources.add_url(session, a.tenant.owner, a.bot_id, url="https://1.1.1.1/").id
        foreign = sources.list_sources(session, b.tenant.owner, b.bot_id)[0].id
    cases = [
        (hours, logins["owner"], {"text": ""}, 422, "text: Paste some text first."),
        (hours, logins["owner"], {"question": "Q?"}, 422, "not a question"),
        (hours, logins["owner"], {"txt": "typo"}, 422, "txt: Extra inputs are not permitted"),
        (pair, logins["owner"], {"text": "Some text."}, 422, "not a title or text"),
        (pair, logins["owner"], {"answer": "x" * 10_001}, 422, "Keep the answer under 10,000"),
        (url_source, logins["owner"], {"text": "x"}, 422, "Only pasted texts and Q&A pairs"),
        (hours, logins["agent"], {"text": "Mine."}, 403, "agent"),
        (hours, logins["viewer"], {"text": "Mine."}, 403, "viewer"),
        (foreign, logins["owner"], {"text": "Mine."}, 404, "Source not found."),
    ]
    for source_id, headers, body, status, words in cases:
        reply = client.patch(f"{base}/sources/{source_id}", json=body, headers=headers)
        assert reply.status_code == status, (body, reply.text)
        assert words in reply.json()["detail"]
    foreign_content = client.get(f"{base}/sources/{foreign}/content", headers=logins["owner"])
    assert foreign_content.status_code == 404
    b_base = f"/api/v1/workspaces/{b.tenant.workspace.id}"
    assert (
        client.get(f"{b_base}/sources/{foreign}/content", headers=logins["owner"]).status_code
        == 404
    )
    with session_scope() as session:
        assert (
            sources.get_source(session, a.tenant.owner, hours)
            .meta["text"]
            .startswith("Opening hours\n\nOur shop in Lyon is open Monday")
        )
        assert sources.get_source(session, b.tenant.owner, foreign).status == "ready"
