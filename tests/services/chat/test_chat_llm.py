"""The chat pipeline with an LLM: the real `openai` client against our loopback OpenAI-compatible
server (tests/utils/fake_llm.py), so every request, retry and error takes the production path.
"""

import asyncio
import time

import pytest
from sqlmodel import select

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.bots import bots, providers
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.llm import client as llm
from chatapp.services.models import Bot, BotUpdate, Message, Plan, UsageDaily, Workspace
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import ask, chat_request, make_shop, new_session_id

API_KEY = "sk-test-installation-key-0001"
FALLBACK = (
    "I don't have that information in my knowledge base. Please contact us directly for help."
)


@pytest.fixture
def fake(database_url, monkeypatch):
    with fake_llm_server() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
        monkeypatch.setenv("LLM_RETRY_BASE_SECONDS", "0.01")
        monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "5")
        reset_settings()
        yield server


@pytest.fixture
def shop_bot_with_llm(fake):
    """The small shop's bot, answering through the fake LLM server."""
    return make_shop()


def timed_events(bot, message, **extra):
    """The stream's events of a new visitor's message, each with the time it arrived."""

    async def run():
        return [
            (time.perf_counter(), e)
            async for e in chat_engine.stream(chat_request(bot, message, **extra))
        ]

    return asyncio.run(run())


def stored(role="assistant"):
    with session_scope() as session:
        return list(session.exec(select(Message).where(Message.role == role).order_by(Message.id)))


def bot_row(shop):
    with session_scope() as session:
        return session.get(Bot, shop.bot_id)


def test_grounding_prompt_from_the_knowledge_rules_and_owner_instructions(shop_bot_with_llm, fake):
    with session_scope() as session:
        bots.update_bot(
            session,
            shop_bot_with_llm.tenant.owner,
            shop_bot_with_llm.bot_id,
            BotUpdate(instructions="Speak like a friendly pirate."),
        )
    fake.reply = "We open Monday to Friday from 9am to 6pm [1]."
    reply = ask(shop_bot_with_llm, "What are your opening hours?")

    sent = fake.chat_requests(stream=True)[-1]
    assert sent["model"] == "gpt-4o-mini" and sent["stream_options"] == {"include_usage": True}
    system = sent["messages"][0]
    assert system["role"] == "system"
    prompt = system["content"]
    for rule in (
        "You are a helpful customer support assistant for Bot a.",
        "Answer using ONLY the context provided above.",
        "Be helpful, concise and friendly.",
        "If the context does not contain the answer, reply with exactly NOT_IN_SOURCES and "
        "nothing else",
        "Do not make up information.",
        "Speak like a friendly pirate.",
    ):
        assert rule in prompt
    assert prompt.index("Speak like a friendly pirate.") < prompt.index("Answer using ONLY")
    assert "[1] Hours" in prompt and "Monday to Friday from 9am to 6pm" in prompt
    assert sent["messages"][-1] == {"role": "user", "content": "What are your opening hours?"}
    assert fake.auth_headers[-1] == f"Bearer {API_KEY}"

    assert reply.answer == fake.reply and reply.answered and reply.error is None
    assert [(s["n"], s["title"]) for s in reply.sources] == [(1, "Hours")]
    answer = stored()[-1]
    assert answer.model == "gpt-4o-mini" and answer.content == fake.reply
    assert answer.completion_tokens == len(fake.reply.split()) and answer.prompt_tokens > 0
    assert reply.usage["completion_tokens"] == answer.completion_tokens


def test_history_goes_to_the_llm_as_turns(shop_bot_with_llm, fake):
    session_id = new_session_id()
    fake.reply = "We open at 9am [1]."
    ask(shop_bot_with_llm, "What are your opening hours?", session_id=session_id)
    ask(shop_bot_with_llm, "Can I return a used item?", session_id=session_id)
    turns = fake.chat_requests(stream=True)[-1]["messages"][1:]
    assert turns == [
        {"role": "user", "content": "What are your opening hours?"},
        {"role": "assistant", "content": "We open at 9am [1]."},
        {"role": "user", "content": "Can I return a used item?"},
    ]


def test_tokens_stream_as_they_come_then_sources_then_done(shop_bot_with_llm, fake):
    fake.reply = "one two three four five six seven eight [1]"
    fake.token_delay = 0.05
    timed = timed_events(shop_bot_with_llm, "What are your opening hours?")
    kinds = [e.type for _, e in timed]
    assert kinds == ["token"] * 9 + ["sources", "done"]
    assert "".join(e.data["content"] for _, e in timed if e.type == "token") == fake.reply
    first, last = timed[0][0], timed[8][0]
    assert last - first >= 0.25  # relayed one by one, not buffered until the end
    done = timed[-1][1].data
    assert done["message_id"] == stored()[-1].id and done["answered"] is True
    assert stored()[-1].first_token_ms < stored()[-1].latency_ms


@pytest.mark.parametrize("framing", ["split", "together"])
def test_events_cut_or_joined_by_the_network_give_the_same_answer(shop_bot_with_llm, fake, framing):
    fake.reply = "Naïve café — we open at nine [1]."
    fake.framing = framing
    timed = timed_events(shop_bot_with_llm, "What are your opening hours?")
    tokens = [e.data["content"] for _, e in timed if e.type == "token"]
    assert "".join(tokens) == fake.reply
    assert [e.type for _, e in timed][-2:] == ["sources", "done"]
    # Events that arrive in one read are relayed as one piece, not one piece each.
    assert len(tokens) == (1 if framing == "together" else len(fake.reply.split(" ")))
    assert stored()[-1].completion_tokens == len(fake.reply.split(" "))


def test_answers_reuse_one_connection_to_the_llm(shop_bot_with_llm, fake):
    session_id = new_session_id()
    questions = ("When are you open?", "And on Saturdays?", "Can I return an item?")

    async def three_answers():  # one event loop, as one server process has
        return [
            await chat_engine.reply(chat_request(shop_bot_with_llm, q, session_id))
            for q in questions
        ]

    assert [reply.error for reply in asyncio.run(three_answers())] == [None] * 3
    # The stream is read to its end after [DONE], so the connection goes back to the pool
    # (a new TCP connection per answer cost ~5 % of the event loop under load).
    assert fake.connections == 1


def test_retries_then_success(shop_bot_with_llm, fake):
    fake.script = ["503", "429"]
    fake.reply = "Saturdays 10am to 4pm [1]."
    reply = ask(shop_bot_with_llm, "When are you open on Saturday?")
    assert reply.error is None and reply.answer == "Saturdays 10am to 4pm [1]."
    assert len(fake.chat_requests(stream=True)) == 3
    assert len(stored()) == 1 and bot_row(shop_bot_with_llm).message_count == 1


def test_connection_failures_are_retried_too(shop_bot_with_llm, fake):
    fake.script = ["drop", "drop"]
    reply = ask(shop_bot_with_llm, "When are you open on Saturday?")
    assert reply.error is None and len(fake.chat_requests(stream=True)) == 3


def test_retries_then_a_clean_error_and_nothing_charged(shop_bot_with_llm, fake):
    fake.script = ["500", "500", "500"]
    timed = timed_events(shop_bot_with_llm, "When are you open on Saturday?")
    assert [e.type for _, e in timed] == ["error"]
    error = timed[0][1].data
    assert error == {"code": "llm_unavailable", "message": llm.UNAVAILABLE}
    assert len(fake.chat_requests(stream=True)) == 3
    assert stored() == [] and len(stored("user")) == 1
    assert bot_row(shop_bot_with_llm).message_count == 0  # the failed answer is not counted
    with session_scope() as session:
        usage = session.exec(select(UsageDaily)).one()
    assert (usage.messages, usage.errors) == (0, 1)


def test_a_refusal_by_the_provider_is_not_retried(shop_bot_with_llm, fake):
    fake.script = ["401"]
    reply = ask(shop_bot_with_llm, "When are you open on Saturday?")
    assert reply.error == {"code": "llm_config", "message": llm.MISCONFIGURED}
    assert API_KEY not in reply.error["message"]
    assert len(fake.chat_requests(stream=True)) == 1


def test_timeout_gives_a_clean_error_in_time(shop_bot_with_llm, fake, monkeypatch):
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "0.5")
    reset_settings()
    fake.script = ["hang"]
    started = time.perf_counter()
    reply = ask(shop_bot_with_llm, "When are you open on Saturday?")
    assert time.perf_counter() - started < 4
    assert reply.error == {"code": "llm_timeout", "message": llm.TIMED_OUT}
    assert len(fake.chat_requests(stream=True)) == 1


def test_a_stream_broken_after_the_first_token_is_not_retried(shop_bot_with_llm, fake):
    fake.reply = "We open at nine on weekdays [1]."
    fake.script = ["break"]
    timed = timed_events(shop_bot_with_llm, "When are you open on Saturday?")
    kinds = [e.type for _, e in timed]
    assert kinds == ["token", "token", "error"]
    assert timed[-1][1].data["code"] == "llm_interrupted"
    assert len(fake.chat_requests(stream=True)) == 1


def test_an_error_inside_the_stream_is_a_clean_error(shop_bot_with_llm, fake):
    fake.script = ["stream-error"]
    reply = ask(shop_bot_with_llm, "When are you open on Saturday?")
    assert reply.error == {"code": "llm_unavailable", "message": llm.UNAVAILABLE}
    assert reply.answer == ""


def test_an_unreadable_chunk_after_the_first_token_interrupts_the_answer(shop_bot_with_llm, fake):
    fake.reply = "We open at nine on weekdays [1]."
    fake.script = ["garbage"]
    timed = timed_events(shop_bot_with_llm, "When are you open on Saturday?")
    assert [e.type for _, e in timed] == ["token", "token", "error"]
    assert timed[-1][1].data["code"] == "llm_interrupted"


def test_no_llm_call_when_the_knowledge_has_nothing(shop_bot_with_llm, fake):
    reply = ask(shop_bot_with_llm, "What is the capital of Peru?")
    assert reply.answer == FALLBACK and not reply.answered
    assert fake.chat_requests() == []


def test_an_llm_answering_with_the_fallback_counts_as_fallen_back(shop_bot_with_llm, fake):
    fake.reply = FALLBACK
    reply = ask(shop_bot_with_llm, "Can I return a used item?")
    assert reply.answered is False and reply.sources == []
    assert stored()[-1].fell_back is True


def test_follow_up_is_condensed_by_the_llm_before_retrieval(shop_bot_with_llm, fake):
    def answer(body):
        if not body.get("stream"):
            return "What are your opening hours on weekends?"
        return "On Saturdays from 10am to 4pm [1]."

    fake.reply = answer
    session_id = new_session_id()
    ask(shop_bot_with_llm, "Can I return a used item?", session_id=session_id)
    ask(shop_bot_with_llm, "What are your opening hours?", session_id=session_id)
    reply = ask(shop_bot_with_llm, "and on weekends?", session_id=session_id)
    condense = fake.chat_requests(stream=False)
    assert len(condense) == 1  # only the follow-up needed rewriting
    assert "Last message: and on weekends?" in condense[0]["messages"][-1]["content"]
    assert "user: What are your opening hours?" in condense[0]["messages"][-1]["content"]
    prompt = fake.chat_requests(stream=True)[-1]["messages"][0]["content"]
    assert prompt.index("[1] Hours") < prompt.index("CONTEXT>>>")
    assert reply.sources[0]["title"] == "Hours"


def test_a_retry_with_the_same_client_id_does_not_call_the_llm_again(shop_bot_with_llm, fake):
    session_id = new_session_id()
    first = ask(
        shop_bot_with_llm, "What are your opening hours?", session_id=session_id, client_id="abc"
    )
    again = ask(
        shop_bot_with_llm, "What are your opening hours?", session_id=session_id, client_id="abc"
    )
    assert again.answer == first.answer and again.message_id == first.message_id
    assert len(fake.chat_requests()) == 1 and len(stored()) == 1


def test_the_plan_and_the_bot_choose_the_model(shop_bot_with_llm, fake, monkeypatch):
    monkeypatch.setenv("OPENAI_MODEL_PAID", "big-model")
    reset_settings()
    ask(shop_bot_with_llm, "What are your opening hours?")
    assert fake.chat_requests()[-1]["model"] == "gpt-4o-mini"
    with session_scope() as session:
        workspace = session.get(Workspace, shop_bot_with_llm.tenant.workspace.id)
        workspace.plan = Plan.PAID
        session.add(workspace)
    ask(shop_bot_with_llm, "What are your opening hours?")
    assert fake.chat_requests()[-1]["model"] == "big-model"
    with session_scope() as session:
        bots.update_bot(
            session,
            shop_bot_with_llm.tenant.owner,
            shop_bot_with_llm.bot_id,
            BotUpdate(model="bot-model"),
        )
    ask(shop_bot_with_llm, "What are your opening hours?")
    assert fake.chat_requests()[-1]["model"] == "bot-model"
    assert stored()[-1].model == "bot-model"


def test_a_workspace_provider_key_is_stored_encrypted_and_used(
    shop_bot_with_llm, fake, monkeypatch
):
    own_key = "sk-workspace-own-key-9876"
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    reset_settings()
    with session_scope() as session:
        view = providers.set_provider(
            session,
            shop_bot_with_llm.tenant.admin,
            base_url=fake.base_url,
            api_key=own_key,
            model="own-model",
        )
    assert (view.source, view.model, view.key_hint) == ("workspace", "own-model", "...9876")
    with session_scope() as session:
        stored_key = session.get(
            Workspace, shop_bot_with_llm.tenant.workspace.id
        ).llm_api_key_encrypted
    assert stored_key and own_key not in stored_key
    ask(shop_bot_with_llm, "What are your opening hours?")
    assert fake.auth_headers[-1] == f"Bearer {own_key}"
    assert fake.chat_requests()[-1]["model"] == "own-model"

    # Another SECRET_KEY cannot read it: the bot answers offline rather than failing.
    monkeypatch.setenv("SECRET_KEY", "another-secret-key-that-is-long-enough-1234")
    reset_settings()
    before = len(fake.chat_requests())
    reply = ask(shop_bot_with_llm, "What are your opening hours?")
    assert "9am to 6pm" in reply.answer and len(fake.chat_requests()) == before
    with session_scope() as session:
        assert providers.get_provider(session, shop_bot_with_llm.tenant.viewer).key_hint.startswith(
            "unreadable"
        )


def test_only_owners_and_admins_set_the_provider(shop_bot_with_llm):
    from chatapp.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied), session_scope() as session:
        providers.set_provider(session, shop_bot_with_llm.tenant.agent, api_key="sk-x")
    with pytest.raises(ValidationFailed), session_scope() as session:
        providers.set_provider(
            session, shop_bot_with_llm.tenant.owner, base_url="http://127.0.0.1:1/v1"
        )


def test_not_in_the_sources_becomes_the_fallback_and_is_counted_unanswered(shop_bot_with_llm, fake):
    """The model's machine-readable "not in the sources" never reaches the visitor: the bot's
    fallback does, with no sources, counted as unanswered; streamed as well as in JSON."""
    fake.reply = "NOT_IN_SOURCES"
    reply = ask(shop_bot_with_llm, "What are your opening hours?")
    assert fake.chat_requests(stream=True)  # the model was asked, and said it is not there
    assert reply.answer == FALLBACK and not reply.answered and reply.sources == []
    with session_scope() as session:
        stored = session.get(Message, reply.message_id)
    assert stored.content == FALLBACK and stored.fell_back


def test_an_empty_answer_from_an_overflowing_server_is_an_error_not_an_answer(
    shop_bot_with_llm, fake
):
    fake.strict(context_size=40)  # the prompt cannot fit: an empty 200 stream, as llama.cpp does
    reply = ask(shop_bot_with_llm, "What are your opening hours?")
    assert reply.error is not None and reply.error["code"] in ("llm_empty", "llm_unavailable")
    with session_scope() as session:
        answers = session.exec(select(Message).where(Message.role == "assistant")).all()
    assert answers == []  # nothing stored as answered, and the message was given back
