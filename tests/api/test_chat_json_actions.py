"""`POST /api/chat` with `"stream": false` carries the actions the answer offered (link, lead
form, handoff), exactly as the streamed `action` events do."""

from __future__ import annotations

from chatapp.core.db import session_scope
from chatapp.services.actions import store
from tests.api.test_public_api import body, parse_sse
from tests.utils.knowledge import make_shop

QUESTION = "Can I book a demo of your teleporter?"  # not in the shop's knowledge: the rules fire


def test_the_json_answer_carries_the_same_actions_as_the_stream(client):
    shop = make_shop()
    with session_scope() as session:
        for kind, config in (
            ("link", {"label": "Book a call", "url": "https://shop.example/book"}),
            ("collect_lead", {}),
        ):
            store.create_action(session, shop.tenant.owner, shop.bot_id, kind=kind, config=config)
    streamed = client.post("/api/chat", json=body(shop, QUESTION))
    events = [e for e in parse_sse(streamed.text) if e["type"] == "action"]
    expected = [{k: v for k, v in e.items() if k != "type"} for e in events]
    assert [a["kind"] for a in expected] == ["link", "lead_form"]

    answer = client.post("/api/chat", json=body(shop, QUESTION, stream=False))
    assert answer.status_code == 200, answer.text
    assert answer.json()["actions"] == expected
    assert answer.json()["actions"][0]["url"] == "https://shop.example/book"

    plain = client.post("/api/chat", json=body(shop, "What are your opening hours?", stream=False))
    assert plain.json()["actions"] == [] and plain.json()["answered"] is True
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["ChatOut"]
    assert "actions" in schema["properties"]
