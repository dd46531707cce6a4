"""Audiences (seed 003): the visitor's pick or a classification of their first messages is
stored on the conversation; its instructions join the prompt (seen in the stub LLM's request);
an unknown key is refused and loses nothing; the widget config lists them without instructions.
"""

import pytest
from sqlmodel import func, select

from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import visitor_access
from chatapp.services.bots import audiences, bots
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.models import Bot, BotUpdate, Conversation, Message
from tests.utils.fake_llm import configured_fake_llm
from tests.utils.knowledge import ask, make_shop, new_session_id

AUDIENCES = [
    {
        "label": "Recruiter",
        "instructions": "Talk about skills, experience and availability for new roles.",
        "starter_questions": ["What roles are you open to?"],
    },
    {
        "key": "hiring-manager",
        "label": "Hiring manager",
        "instructions": "Focus on team leadership, delivery and management style.",
    },
    {
        "label": "Peer engineer",
        "instructions": "Go deep into technical details, architecture and code.",
    },
]


def with_audiences(shop):
    with session_scope() as session:
        bots.update_bot(session, shop.tenant.owner, shop.bot_id, BotUpdate(audiences=AUDIENCES))
    return shop


@pytest.fixture
def shop_with_audiences(database_url):
    return with_audiences(make_shop())


def conversation_audience(conversation_id):
    with session_scope() as session:
        return session.get(Conversation, conversation_id).audience


def test_the_visitors_pick_is_stored_and_a_later_pick_replaces_it(shop_with_audiences):
    session_id = new_session_id()
    reply = ask(
        shop_with_audiences, "What are your opening hours?", session_id, audience="recruiter"
    )
    assert reply.error is None and "9am" in reply.answer  # offline: the answer still comes
    assert conversation_audience(reply.conversation_id) == "recruiter"
    again = ask(shop_with_audiences, "Do you ship to Canada?", session_id)
    assert conversation_audience(again.conversation_id) == "recruiter"  # kept without a pick
    ask(shop_with_audiences, "And returns?", session_id, audience="peer-engineer")
    assert conversation_audience(reply.conversation_id) == "peer-engineer"


def test_an_unknown_audience_is_refused_in_words_and_nothing_is_stored(shop_with_audiences):
    with pytest.raises(ValidationFailed) as refused:
        ask(shop_with_audiences, "What are your opening hours?", audience="ceo")
    assert refused.value.status == 422
    assert refused.value.message == (
        "Unknown audience 'ceo': choose one of recruiter, hiring-manager, peer-engineer."
    )
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Message)).one() == 0
        assert session.exec(select(func.count()).select_from(Conversation)).one() == 0
        assert session.get(Bot, shop_with_audiences.bot_id).message_count == 0  # no quota used


def test_offline_classification_of_the_first_messages(shop_with_audiences):
    reply = ask(shop_with_audiences, "Hello, I'm a recruiter looking at your profile for a role")
    assert conversation_audience(reply.conversation_id) == "recruiter"
    unclear = ask(shop_with_audiences, "What are your opening hours?")
    assert conversation_audience(unclear.conversation_id) == ""


def test_offline_classifier_needs_a_clear_winner(database_url):
    stored = with_audiences(make_shop())
    with session_scope() as session:
        defined = session.get(Bot, stored.bot_id).audiences
    embedder = get_embedder()
    assert audiences.classify_offline(defined, "I manage the hiring for my team", embedder) in (
        "hiring-manager",
    )
    assert audiences.classify_offline(defined, "What is the weather like?", embedder) == ""
    assert audiences.keyword_hits(defined, "recruiting for a peer team") == [
        "recruiter",
        "peer-engineer",
    ]


def test_widget_config_lists_audiences_without_their_instructions(shop_with_audiences):
    with session_scope() as session:
        config = visitor_access.widget_config(
            visitor_access.public_bot(session, shop_with_audiences.public_id)
        )
    assert config["audiences"] == [
        {
            "key": "recruiter",
            "label": "Recruiter",
            "starter_questions": ["What roles are you open to?"],
        },
        {"key": "hiring-manager", "label": "Hiring manager", "starter_questions": []},
        {"key": "peer-engineer", "label": "Peer engineer", "starter_questions": []},
    ]
    assert "Talk about skills" not in str(config)


def test_a_tenant_cannot_pick_another_bots_audience(database_url):
    mine = with_audiences(make_shop("mine"))
    theirs = make_shop("theirs")  # no audiences
    with pytest.raises(ValidationFailed):
        ask(theirs, "What are your opening hours?", audience="recruiter")
    assert ask(mine, "Hi there, opening hours?", audience="recruiter").error is None


# ----------------------------------------------------------------------------------- LLM


@pytest.fixture
def fake(database_url, monkeypatch):
    with configured_fake_llm(monkeypatch, api_key="sk-test-audiences-0001") as server:
        yield server


def test_the_audiences_instructions_join_the_prompt(fake):
    shop_with_audiences = with_audiences(make_shop())
    fake.reply = "We open at 9am [1]."
    ask(shop_with_audiences, "What are your opening hours?", audience="hiring-manager")
    system = fake.chat_requests(stream=True)[-1]["messages"][0]["content"]
    assert "The visitor is a Hiring manager." in system
    assert "Focus on team leadership, delivery and management style." in system
    assert not fake.chat_requests(stream=False) or all(
        "Classify who the visitor" not in r["messages"][0]["content"]
        for r in fake.chat_requests(stream=False)
    )  # a pick is never re-classified


def test_the_model_classifies_when_there_is_no_pick_and_junk_falls_back(fake):
    shop_with_audiences = with_audiences(make_shop())

    def reply(body):
        if body.get("stream"):
            return "We open at 9am [1]."
        if "Classify who the visitor" in body["messages"][0]["content"]:
            return "peer-engineer"
        return body["messages"][-1]["content"]

    fake.reply = reply
    answer = ask(shop_with_audiences, "What are your opening hours?")
    assert conversation_audience(answer.conversation_id) == "peer-engineer"
    system = fake.chat_requests(stream=True)[-1]["messages"][0]["content"]
    assert "Go deep into technical details" in system

    fake.reply = lambda body: "I think a recruiter" if not body.get("stream") else "Hi [1]."
    junk = ask(shop_with_audiences, "What are your opening hours?")
    assert conversation_audience(junk.conversation_id) == ""  # unparseable, unclear offline
