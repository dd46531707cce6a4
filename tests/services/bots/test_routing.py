"""Router bots: each message goes to the workspace's bot whose description and knowledge fit
(offline: local embedder + BM25; with an LLM: a JSON classification through the stub server),
two intents get two answers, an unclear message a clarifying question; the conversation stays
on the router, `message.routed_bot_id` records the bot; never another workspace's bot."""

import asyncio
import json

import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots, routing, routing_scores
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest
from chatapp.services.models import BotCreate, BotStatus, BotUpdate, Conversation, Message
from tests.utils.fake_llm import configured_fake_llm
from tests.utils.knowledge import new_session_id
from tests.utils.routing_bots import make_router_desk


@pytest.fixture
def desk(database_url):
    return make_router_desk()


def ask(desk, message, session_id=None):
    request = ChatRequest(
        bot_id=desk.router_public_id,
        api_key=desk.key,
        message=message,
        session_id=session_id or new_session_id(),
    )
    return asyncio.run(chat_engine.reply(request))


def answer_row(reply) -> Message:
    with session_scope() as session:
        return session.get(Message, reply.message_id)


def route(desk, message) -> routing.Decision:
    return routing.decide_sync(routing.RouterRef(desk.router_id, desk.tenant.workspace.id), message)


def test_candidates_are_the_workspaces_active_described_bots_only(desk):
    other = make_router_desk("other")  # another workspace with bots of the same names
    with session_scope() as session:
        owner = desk.tenant.owner
        undescribed = bots.create_bot(session, owner, BotCreate(name="Notes"))
        paused = bots.create_bot(session, owner, BotCreate(name="Old billing"))
        bots.update_bot(
            session,
            owner,
            paused.id,
            BotUpdate(description="Invoices and refunds", status=BotStatus.PAUSED),
        )
        pool = routing_scores.candidates(
            session, routing.RouterRef(desk.router_id, owner.workspace_id)
        )
    ids = {c.bot_id for c in pool}
    assert ids == set(desk.bots.values())
    assert undescribed.id not in ids and paused.id not in ids and desk.router_id not in ids
    assert not ids & set(other.bots.values())


def test_single_intent_messages_reach_the_fitting_bot_and_its_knowledge(desk):
    reply = ask(desk, "Can I get a refund for the duplicate payment?")
    assert reply.error is None and reply.answered
    assert "refund" in reply.answer.lower() and "[1]" in reply.answer
    assert reply.sources and reply.sources[0]["title"] == "Refunds"
    stored = answer_row(reply)
    assert stored.routed_bot_id == desk.bots["billing"]
    with session_scope() as session:
        conversation = session.get(Conversation, reply.conversation_id)
        assert conversation.bot_id == desk.router_id  # history stays on the router

    reply = ask(desk, "How do I reset my password?")
    assert answer_row(reply).routed_bot_id == desk.bots["technical"]
    assert "Forgot password" in reply.answer


def test_two_intents_get_two_answers_each_introduced_by_its_bot(desk):
    reply = ask(desk, "I was charged twice and my package still hasn't arrived")
    assert reply.error is None
    billing, shipping = "**Billing:**", "**Shipping:**"
    assert billing in reply.answer and shipping in reply.answer
    assert reply.answer.index(billing) < reply.answer.index(shipping)
    titles = {s["title"] for s in reply.sources}
    assert "Refunds" in titles and titles & {"Damaged or lost parcels", "Delivery times"}
    numbers = [s["n"] for s in reply.sources]
    assert numbers == list(range(1, len(numbers) + 1))  # the second part's sources renumbered
    assert answer_row(reply).routed_bot_id == desk.bots["billing"]


def test_an_unclear_message_gets_a_clarifying_question_naming_the_bots(desk):
    reply = ask(desk, "I have a problem")
    assert reply.error is None and reply.sources == []
    assert "?" in reply.answer
    named = [name for name in ("Billing", "Shipping", "Technical support") if name in reply.answer]
    assert len(named) >= 2
    assert answer_row(reply).routed_bot_id is None


def test_inactive_bots_are_skipped(desk):
    with session_scope() as session:
        bots.update_bot(
            session,
            desk.tenant.owner,
            desk.bots["billing"],
            BotUpdate(status=BotStatus.PAUSED),
        )
    decision = route(desk, "Can I get a refund for the duplicate payment?")
    assert desk.bots["billing"] not in {t.bot_id for t in decision.targets}


def test_a_router_never_routes_to_another_workspaces_bot(desk):
    other = make_router_desk("other")
    for message in ("Do you ship to Canada?", "The app crashes every time I open it"):
        decision = route(desk, message)
        assert decision.kind == "route"
        assert {t.bot_id for t in decision.targets} <= set(desk.bots.values())
        assert not {t.bot_id for t in decision.targets} & set(other.bots.values())


def test_splits_offers_sentence_and_conjunction_cuts():
    cuts = routing.splits("Where is my order? And why was my card charged twice?")
    assert ("Where is my order?", "And why was my card charged twice?") in cuts
    assert ("Where is my order?", "why was my card charged twice?") in cuts
    assert routing.splits("Do you ship to Canada?") == []


# ----------------------------------------------------------------------------------- LLM


@pytest.fixture
def fake(monkeypatch, database_url):
    with configured_fake_llm(monkeypatch, api_key="sk-test-routing-0001") as server:
        yield server


def test_llm_routing_is_a_strictly_parsed_json_classification(fake):
    desk = make_router_desk()

    def reply(body):
        if body.get("stream"):
            return "Refunds take 5 to 10 business days [1]."
        return json.dumps({"routes": [{"bot": "Billing", "text": "refund please"}]})

    fake.reply = reply
    answer = ask(desk, "Where is my refund?")
    classify = fake.chat_requests(stream=False)[-1]
    assert "Billing: Payments, invoices" in classify["messages"][0]["content"]
    assert classify["messages"][-1]["content"] == "Where is my refund?"
    answering = fake.chat_requests(stream=True)[-1]
    assert (
        "You are a helpful customer support assistant for Billing"
        in (answering["messages"][0]["content"])
    )
    assert answer.answer == "Refunds take 5 to 10 business days [1]."
    assert answer_row(answer).routed_bot_id == desk.bots["billing"]


def test_llm_routing_falls_back_offline_on_an_unusable_reply(fake):
    desk = make_router_desk()
    router = routing.RouterRef(desk.router_id, desk.tenant.workspace.id)
    from chatapp.services.bots.providers import LLMConfig

    config = LLMConfig(fake.base_url, "sk-test-routing-0001", "gpt-4o-mini", 5.0)
    for bad in ("Billing, I think", json.dumps({"routes": [{"bot": "Nobody"}]}), "500"):
        if bad == "500":
            fake.script = ["500", "500", "500"]
        else:
            fake.reply = bad
        decision = asyncio.run(routing.decide(router, "Do you ship to Canada?", config))
        assert decision.method == "offline" and decision.kind == "route"
        assert decision.targets[0].bot_id == desk.bots["shipping"]


def test_parse_llm_accepts_two_routes_and_clarify_only():
    pool = [
        routing_scores.Candidate(1, "Billing", "money"),
        routing_scores.Candidate(2, "Shipping", "parcels"),
    ]
    two = routing.parse_llm(
        pool,
        "x",
        '```json\n{"routes": [{"bot": "billing", "text": "a"}, {"bot": "Shipping", "text": "b"}]}'
        "\n```",
    )
    assert [(t.bot_id, t.text) for t in two.targets] == [(1, "a"), (2, "b")]
    assert routing.parse_llm(pool, "x", '{"clarify": true}').kind == "clarify"
    assert routing.parse_llm(pool, "x", '{"routes": []}') is None
    assert routing.parse_llm(pool, "x", "[1, 2]") is None
