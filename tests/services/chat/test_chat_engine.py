"""The engine's one way of answering: every kind of answer (here a router bot's, offline and with
an LLM) streams exactly what is stored, is stored when the visitor leaves mid-answer, sends its
actions' events, and a failure mid-answer is recorded (what was said kept, refunded, an error
counted, never an answered message)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest, Event
from chatapp.services.models import Bot, Message, UsageDaily
from tests.utils.fake_llm import configured_fake_llm
from tests.utils.handoff import add_action
from tests.utils.knowledge import new_session_id
from tests.utils.routing_bots import make_router_desk

TWO_INTENTS = "I was charged twice and my package still hasn't arrived"


@pytest.fixture
def desk(sqlite_url):
    return make_router_desk()


def request(desk, message: str, session_id: str | None = None) -> ChatRequest:
    return ChatRequest(
        bot_id=desk.router_public_id,
        api_key=desk.key,
        message=message,
        session_id=session_id or new_session_id(),
    )


def events_of(desk, message: str) -> list[Event]:
    async def run():
        return [event async for event in chat_engine.stream(request(desk, message))]

    return asyncio.run(run())


def stored_answers(conversation_id: int) -> list[Message]:
    with session_scope() as session:
        return session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.role == "assistant")
            .order_by(Message.id)
        ).all()


def said(events: list[Event]) -> str:
    return "".join(e.data["content"] for e in events if e.type == "token")


def test_a_two_part_routed_answer_streams_what_is_stored(desk):
    events = events_of(desk, TWO_INTENTS)
    done = events[-1].data
    assert done["routed_to"] and len(done["routed_to"]) == 2
    [stored] = stored_answers(done["conversation_id"])
    assert said(events) == stored.content
    assert "\n\n**" in stored.content  # the second part starts a paragraph of its own
    reply = asyncio.run(chat_engine.reply(request(desk, TWO_INTENTS)))
    assert reply.answer == stored_answers(reply.conversation_id)[0].content


def test_a_routed_answer_sends_the_routers_actions(desk):
    add_action(
        desk.router_id,
        desk.tenant.workspace.id,
        "link",
        label="Book a call",
        url="https://desk.example/call",
        rules={"keywords": ["invoice"]},
    )
    events = events_of(desk, "Can I pay my invoice in Bitcoin?")
    kinds = [e.type for e in events]
    assert kinds[-3:] == ["sources", "action", "done"], kinds
    assert events[-2].data["kind"] == "link"
    assert stored_answers(events[-1].data["conversation_id"])[0].actions


def test_a_routed_answer_is_stored_when_the_visitor_leaves_mid_answer(desk):
    async def leave_after_three_tokens() -> int:
        turn = await chat_begin.begin(request(desk, TWO_INTENTS))
        stream = chat_engine.events(turn)
        tokens = 0
        async for event in stream:
            tokens += event.type == "token"
            if tokens == 3:
                break
        await stream.aclose()
        return turn.conversation_id

    conversation_id = asyncio.run(leave_after_three_tokens())
    [stored] = stored_answers(conversation_id)
    assert stored.content and len(stored.content.split()) == 3


@pytest.fixture
def fake(monkeypatch, sqlite_url):
    with configured_fake_llm(monkeypatch, api_key="sk-test-engine-0001") as server:
        yield server


def test_with_an_llm_the_second_parts_citations_are_numbered_as_stored(fake):
    desk = make_router_desk()
    routes = [
        {"bot": "Billing", "text": "How long does a refund of a duplicate charge take?"},
        {"bot": "Shipping", "text": "My parcel arrived damaged"},
    ]

    def reply(body):
        if body.get("stream"):
            return "See this [1]."
        return json.dumps({"routes": routes})

    fake.reply = reply
    answer = asyncio.run(chat_engine.reply(request(desk, TWO_INTENTS)))
    [stored] = stored_answers(answer.conversation_id)
    assert answer.answer == stored.content
    numbers = [s["n"] for s in answer.sources]
    assert "[1]" in stored.content and "[2]" in stored.content, stored.content
    assert numbers == [1, 2]


def test_a_failure_mid_answer_is_recorded_refunded_and_counted_as_an_error(fake):
    desk = make_router_desk()
    fake.reply = lambda body: (
        "Refunds take five to ten business days after we receive the item [1]."
        if body.get("stream")
        else json.dumps({"routes": [{"bot": "Billing", "text": "refund"}]})
    )
    fake.script = ["ok", "break"]  # the classification, then an answer cut after two tokens
    events = events_of(desk, "Where is my refund?")
    assert events[-1].type == "error", [e.type for e in events]
    assert said(events)  # the visitor saw the start of the answer
    with session_scope() as session:
        usage = session.exec(select(UsageDaily).where(UsageDaily.bot_id == desk.router_id)).one()
        assert (usage.errors, usage.answered, usage.messages) == (1, 0, 0)
        assert session.get(Bot, desk.router_id).message_count == 0  # given back
        conversation_id = session.exec(
            select(Message.conversation_id).where(Message.role == "user")
        ).first()
    [stored] = stored_answers(conversation_id)
    assert stored.content == said(events) and not stored.fell_back
