"""Actions in the chat pipeline: offline rules and model tool calls (the real openai client
against our loopback fake LLM emitting real tool calls), with a loopback API behind the action."""

import json

import pytest
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.actions import run_log, store
from chatapp.services.models import Bot, Message
from tests.utils.action_api import running_action_api
from tests.utils.fake_llm import configured_fake_llm
from tests.utils.knowledge import collect, make_shop, new_session_id


@pytest.fixture
def api(database_url, monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")  # the order API lives on loopback
    reset_settings()
    with running_action_api({"12345": {"status": "shipped on Monday"}}) as api:
        yield api


@pytest.fixture
def shop_with_order_api(api):
    return make_shop()


def add(shop, kind, **config):
    with session_scope() as session:
        action = store.create_action(
            session, shop.tenant.owner, shop.bot_id, kind=kind, config=config
        )
        return action.id


def order_lookup(shop, api):
    return add(shop, "http", url=api.base_url + "/orders/{order_id}")


def answer_of(events):
    return "".join(e.data["content"] for e in events if e.type == "token")


def last_answer():
    with session_scope() as session:
        return session.exec(
            select(Message).where(Message.role == "assistant").order_by(Message.id.desc())
        ).first()


def all_runs(shop):
    with session_scope() as session:
        return run_log.list_runs(session, shop.tenant.owner, shop.bot_id)


def test_offline_rule_calls_the_api_and_its_answer_is_the_reply(shop_with_order_api, api):
    action_id = order_lookup(shop_with_order_api, api)
    events = collect(shop_with_order_api, "Where is my order 12345?")
    assert answer_of(events) == "Order 12345: shipped on Monday"
    assert [e.type for e in events][-2:] == ["sources", "done"]
    assert events[-1].data["answered"] is True
    assert api.requests[-1].path == "/orders/12345"
    stored = last_answer()
    assert stored.content == "Order 12345: shipped on Monday"
    assert stored.actions[0]["kind"] == "http" and stored.actions[0]["action_id"] == action_id
    [run] = all_runs(shop_with_order_api)
    assert (run.trigger, run.outcome, run.input["order_id"]) == ("rule", "ok", "12345")
    assert run.conversation_id == events[-1].data["conversation_id"]


def test_offline_rule_without_the_parameter_is_refused_and_the_bot_answers_as_usual(
    shop_with_order_api, api
):
    order_lookup(shop_with_order_api, api)
    events = collect(shop_with_order_api, "What is your order returns policy?")
    assert "30 days" in answer_of(events)
    [run] = all_runs(shop_with_order_api)
    assert run.outcome == "refused" and "order_id" in run.error
    assert api.requests == []


def test_link_and_lead_form_events_come_after_sources_and_before_done(shop_with_order_api, api):
    add(shop_with_order_api, "link", label="Book a call", url="https://shop.example/book")
    add(shop_with_order_api, "collect_lead")
    events = collect(shop_with_order_api, "Can I book a demo of your teleporter?")
    types = [e.type for e in events]
    assert types[-4:] == ["sources", "action", "action", "done"]
    link, form = events[-3].data, events[-2].data
    assert link == {"kind": "link", "label": "Book a call", "url": "https://shop.example/book"}
    assert form["kind"] == "lead_form" and form["reason"] == "the bot could not answer"
    assert [f["name"] for f in form["fields"]] == ["name", "email", "phone", "message"]
    assert [a["kind"] for a in last_answer().actions] == ["link", "lead_form"]
    sse = events[-3].sse()
    assert sse.startswith("event: action\n") and json.loads(sse.split("data: ")[1])["type"] == (
        "action"
    )
    # A disabled action is not run.
    with session_scope() as session:
        for action in store.list_actions(
            session, shop_with_order_api.tenant.owner, shop_with_order_api.bot_id
        ):
            store.update_action(session, shop_with_order_api.tenant.owner, action.id, enabled=False)
    assert [e.type for e in collect(shop_with_order_api, "Can I book a demo?")][-2:] == [
        "sources",
        "done",
    ]


@pytest.fixture
def fake(api, monkeypatch):
    with configured_fake_llm(monkeypatch, api_key="sk-test-installation-key-0001") as server:
        yield server


def tool_results(body):
    return [m for m in body["messages"] if m["role"] == "tool"]


def test_the_model_calls_the_http_tool_and_writes_the_answer_from_its_result(
    shop_with_order_api, api, fake
):
    action_id = order_lookup(shop_with_order_api, api)
    name = f"http_{action_id}"

    def calls(body):
        if tool_results(body):
            return None  # the result is back: answer in text
        return [{"name": name, "arguments": {"order_id": "12345"}}]

    fake.tool_calls = calls
    fake.reply = lambda body: "Your order " + tool_results(body)[0]["content"] + "."
    events = collect(shop_with_order_api, "Where is my order 12345?")
    assert answer_of(events) == "Your order shipped on Monday."
    first, second = fake.chat_requests(stream=True)
    [tool] = first["tools"]
    assert tool["function"]["name"] == name
    assert "x-pattern" not in json.dumps(tool["function"]["parameters"])
    assert tool["function"]["parameters"]["required"] == ["order_id"]
    assistant = second["messages"][-2]
    assert assistant["tool_calls"][0]["function"] == {
        "name": name,
        "arguments": '{"order_id": "12345"}',
    }
    assert second["messages"][-1] == {
        "role": "tool",
        "tool_call_id": assistant["tool_calls"][0]["id"],
        "content": "shipped on Monday",
    }
    assert api.requests[-1].path == "/orders/12345"
    [run] = all_runs(shop_with_order_api)
    assert (run.trigger, run.outcome, run.input) == ("model", "ok", {"order_id": "12345"})
    assert last_answer().actions[0]["kind"] == "http"


def test_tool_calls_are_capped_per_message_and_bad_arguments_are_refused(
    shop_with_order_api, api, fake, monkeypatch
):
    monkeypatch.setenv("ACTION_MAX_TOOL_CALLS", "2")
    reset_settings()
    action_id = order_lookup(shop_with_order_api, api)
    link_id = add(shop_with_order_api, "link", label="Track", url="https://shop.example/track")
    # The model keeps calling: two bad calls in one turn, then more; only 2 run in all.
    fake.tool_calls = lambda body: [
        {"name": f"http_{action_id}", "arguments": {"order_id": "x"}},
        {"name": f"link_{link_id}", "arguments": "{not json"},
        {"name": f"http_{action_id}", "arguments": {"order_id": "12345"}},
    ]
    fake.reply = "Sorry, I could not look that up."
    events = collect(shop_with_order_api, "Where is my order?")
    # The third call was over the cap; the answer came from a request with tool_choice none.
    requests = fake.chat_requests(stream=True)
    assert len(requests) == 2 and requests[-1]["tool_choice"] == "none"
    assert len(tool_results(requests[-1])) == 2
    assert answer_of(events) == "Sorry, I could not look that up."
    outcomes = sorted((r.trigger, r.outcome) for r in all_runs(shop_with_order_api))
    assert outcomes == [("model", "refused"), ("model", "refused")]
    assert api.requests == []


def test_the_model_shows_a_link_through_its_tool(shop_with_order_api, api, fake):
    link_id = add(shop_with_order_api, "link", label="Book a call", url="https://shop.example/book")
    fake.tool_calls = lambda body: (
        None
        if tool_results(body)
        else [{"name": f"link_{link_id}", "arguments": {"reason": "wants a call"}}]
    )
    fake.reply = "You can book a call with the button below."
    events = collect(shop_with_order_api, "Can I talk to your team about a big order?")
    action = next(e for e in events if e.type == "action")
    assert action.data == {
        "kind": "link",
        "label": "Book a call",
        "url": "https://shop.example/book",
    }
    assert answer_of(events) == "You can book a call with the button below."
    [run] = all_runs(shop_with_order_api)
    assert (run.trigger, run.input) == ("model", {"reason": "wants a call"})


def test_the_model_hands_the_conversation_to_a_person_through_its_tool(
    shop_with_order_api, api, fake
):
    handoff_id = add(
        shop_with_order_api,
        "handoff",
        connecting_message="A person from our team will join you here.",
        fallback_threshold=0,
    )
    fake.tool_calls = lambda body: (
        None
        if tool_results(body)
        else [{"name": f"handoff_{handoff_id}", "arguments": {"reason": "angry customer"}}]
    )
    fake.reply = "I am asking a colleague to join."
    session_id = new_session_id()
    events = collect(shop_with_order_api, "This is the third time my parcel is late!", session_id)
    action = next(e for e in events if e.type == "action")
    assert action.data["kind"] == "handoff" and action.data["status"] == "pending"
    assert action.data["message"] == "A person from our team will join you here."
    assert answer_of(events) == "I am asking a colleague to join."
    assert events[-1].data["conversation_status"] == "pending"
    with session_scope() as session:
        from chatapp.services.models import Conversation

        conversation = session.exec(
            select(Conversation).where(Conversation.session_id == session_id)
        ).one()
        assert (conversation.status, conversation.handoff_reason) == ("pending", "model")
    [run] = all_runs(shop_with_order_api)
    assert (run.trigger, run.outcome) == ("model", "ok")
    # From now on the bot stays silent: the next message waits for the person.
    fake.tool_calls = None
    after = collect(shop_with_order_api, "Hello?", session_id)
    assert [e.type for e in after] == ["done"] and after[0].data["handled_by"] == "human"


def test_an_offline_rule_hands_the_conversation_to_a_person(shop_with_order_api):
    add(
        shop_with_order_api,
        "handoff",
        rules={"keywords": ["complaint"]},
        phrases=[],
        fallback_threshold=0,
    )
    session_id = new_session_id()
    events = collect(shop_with_order_api, "I want to make a complaint about my order", session_id)
    action = next(e for e in events if e.type == "action")
    assert (action.data["kind"], action.data["status"]) == ("handoff", "pending")
    assert events[-1].data["conversation_status"] == "pending"
    [run] = all_runs(shop_with_order_api)
    assert (run.trigger, run.outcome) == ("rule", "ok")


def test_with_actions_on_a_question_the_content_does_not_cover_still_gets_the_fallback(
    shop_with_order_api, api, fake
):
    """Enabled actions must not remove "I don't know": the model is given no passage, and what
    it says without calling an action (an invented answer) is never shown."""
    add(shop_with_order_api, "link", label="Book a call", url="https://shop.example/book")
    fake.reply = "The capital of France is Paris, and we sell baguettes."
    events = collect(shop_with_order_api, "What is the capital of France?")
    with session_scope() as session:
        fallback = session.get(Bot, shop_with_order_api.bot_id).fallback_message
    assert answer_of(events) == fallback
    assert events[-1].type == "done" and events[-1].data["answered"] is False
    assert fake.chat_requests(stream=True)  # the model was asked (it could have acted)
    assert "Paris" not in last_answer().content
