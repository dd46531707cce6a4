"""The LLM path against a server that behaves as llama.cpp's does (the fake LLM's strict options),
through the real `openai` client: each defect reproduced first, then shown fixed."""

import asyncio
import json

import pytest

from chatapp.core.config import get_settings, reset_settings
from chatapp.core.db import session_scope
from chatapp.services.actions import in_chat, store
from chatapp.services.bots.providers import LLMConfig
from chatapp.services.chat import citations, followup
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import outcome as llm_outcome
from chatapp.services.chat.llm import prompts
from chatapp.services.knowledge.retrieval import Passage
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import make_shop

USER = [{"role": "user", "content": "hi"}]
LINK = {"label": "Book", "url": "https://shop.example/book"}
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@pytest.fixture
def fake():
    with fake_llm_server() as server:
        yield server


def config(server, model="m"):
    return LLMConfig(base_url=server.base_url, api_key="sk-x", model=model, timeout=5)


def answer(server, messages, usage=None, **options):
    """The streamed answer's text, as stream_chat gives it."""
    usage = usage if usage is not None else llm.Usage()
    options.setdefault("max_tokens", 50)

    async def run():
        return "".join(
            [
                piece
                async for piece in llm.stream_chat(
                    config(server), messages, usage=usage, retry_base=0.01, **options
                )
            ]
        )

    return asyncio.run(run())


def passage(n: int, text: str) -> Passage:
    return Passage(f"c{n}", n, "text", text, f"Doc {n}", "", None, "", "", 1.0 / n, 0.5, 1.0)


def visible(pieces, flt=None):
    """What the visitor sees of `pieces` fed one by one into an AnswerFilter."""
    flt = flt or llm_outcome.AnswerFilter()
    shown = [flt.feed(piece) for piece in pieces] + [flt.finish()]
    return "".join(shown), flt


# -- 1. tool-call follow-up: content "" (llama.cpp refuses null with a 500) -------------------


def test_null_content_is_refused_by_a_strict_server_and_we_send_an_empty_string(fake):
    fake.strict()
    call = llm.ToolCall(id="call_1", name="lookup", arguments="{}")
    result = {"role": "tool", "tool_call_id": "call_1", "content": "found"}
    with_null = {"role": "assistant", "content": None, "tool_calls": [call.wire()]}
    with pytest.raises(llm.LLMError) as refused:
        answer(fake, [*USER, with_null, result], attempts=3)
    assert refused.value.code == "llm_unavailable" and len(fake.requests) == 3  # the defect
    fake.reply = "It was found."
    ours = llm.tool_call_message([call])
    assert ours["content"] == ""
    assert answer(fake, [*USER, ours, result]) == "It was found."


def test_the_tool_round_trip_of_a_turn_passes_a_strict_server(database_url, fake):
    fake.strict(context_size=4096)
    shop = make_shop()
    with session_scope() as session:
        link = store.create_action(
            session, shop.tenant.owner, shop.bot_id, kind="link", config=LINK
        ).id
        turn = in_chat.load(
            session, workspace_id=shop.tenant.workspace.id, bot_id=shop.bot_id, conversation_id=None
        )
    fake.tool_calls = lambda body: (
        None if any(m["role"] == "tool" for m in body["messages"]) else [{"name": f"link_{link}"}]
    )
    fake.reply = "Use the button below to book."
    usage = llm.Usage()

    async def run():
        pieces = in_chat.stream_answer(
            turn, config(fake), list(USER), usage=usage, max_tokens=100, context_tokens=4096
        )
        return "".join([piece async for piece in pieces])

    assert asyncio.run(run()) == "Use the button below to book."
    _, second = fake.chat_requests(stream=True)
    assert second["messages"][-2]["content"] == "" and second["messages"][-2]["tool_calls"]
    assert second["max_tokens"] <= 100
    assert turn.offered[0]["kind"] == "link"
    assert usage.reported is False and usage.prompt_tokens > 0  # this server sends no usage


# -- 2. empty streams, cut answers, estimated usage ------------------------------------------


def test_an_overflowing_prompt_gets_an_empty_200_stream_and_raises_llm_empty(fake):
    fake.strict(context_size=40)
    long = [{"role": "user", "content": "tell me everything " * 40}]
    with pytest.raises(llm.LLMError) as empty:
        answer(fake, long, attempts=3)
    assert empty.value.code == "llm_empty" and empty.value.message == llm.EMPTY
    assert len(fake.requests) == 1  # the same prompt would fail the same: not retried


def test_finish_reason_length_marks_the_usage_cut(fake):
    fake.strict()
    fake.reply = "one two three four five six seven eight nine ten"
    usage = llm.Usage()
    assert answer(fake, USER, usage, max_tokens=3) == "one two three "
    assert usage.cut and usage.finish_reason == "length"
    usage = llm.Usage()
    answer(fake, USER, usage, max_tokens=50)
    assert not usage.cut and usage.finish_reason == "stop"


def test_usage_says_whether_it_was_reported_or_estimated(fake):
    fake.reply = "one two three four"
    usage = llm.Usage()
    answer(fake, USER, usage)
    assert usage.reported and (usage.prompt_tokens, usage.completion_tokens) == (1, 4)
    fake.send_usage = False
    usage = llm.Usage()
    answer(fake, USER, usage)
    assert not usage.reported
    assert usage.completion_tokens == llm.estimate_tokens(fake.reply) and usage.prompt_tokens > 0
    # The estimate never overwrites counts the server reported.
    reported = llm.Usage(prompt_tokens=7, completion_tokens=9, reported=True)
    reported.estimate(USER, "a much longer answer than nine tokens would ever be, really")
    assert (reported.prompt_tokens, reported.completion_tokens) == (7, 9)


# -- 3. the prompt fitted to the model's window ----------------------------------------------


def fit(history, passages, *, context_tokens, max_tokens=200, **extra):
    return prompts.fit_chat_messages(
        bot_name="Shop",
        instructions="",
        fallback="Sorry.",
        question="What are your opening hours?",
        history=history,
        passages=passages,
        context_tokens=context_tokens,
        max_tokens=max_tokens,
        **extra,
    )


HISTORY = [
    (role, f"turn {n} " + "we talked about many things at length " * 8)
    for n in range(6)
    for role in ("user", "assistant")
]
PASSAGES = [
    passage(n, f"Passage {n}: " + "the shop opens at nine on weekdays " * 30) for n in (1, 2, 3, 4)
]


def test_history_goes_first_then_passages_then_max_tokens_is_capped():
    roomy = fit(HISTORY, PASSAGES, context_tokens=100_000)
    assert (roomy.dropped_turns, roomy.dropped_passages, roomy.max_tokens) == (0, 0, 200)
    full = roomy.prompt_tokens
    # A little short: the oldest turns go, whole (a turn starts with the visitor).
    fitted = fit(HISTORY, PASSAGES, context_tokens=full + 100)
    assert fitted.dropped_turns >= 2 and fitted.dropped_passages == 0
    assert fitted.history == HISTORY[fitted.dropped_turns :] and fitted.history[0][0] == "user"
    assert fitted.prompt_tokens + fitted.max_tokens <= full + 100
    # Much shorter: all history, then the lowest-ranked passages; the answer keeps some room.
    small = fit(HISTORY, PASSAGES, context_tokens=900)
    assert small.history == [] and 0 < len(small.passages) < 4
    assert small.passages == PASSAGES[: len(small.passages)]
    assert (
        "[1] Doc 1" in small.messages[0]["content"]
        and "[4] Doc 4" not in small.messages[0]["content"]
    )
    assert prompts.ANSWER_FLOOR <= small.max_tokens <= 200
    assert small.prompt_tokens + small.max_tokens <= 900
    # Tool schemas take room too.
    tools = [TOOL] * 20
    assert fit(HISTORY, PASSAGES, context_tokens=100_000, tools=tools).prompt_tokens > full


def test_a_fitted_prompt_gets_an_answer_where_the_unfitted_one_got_nothing(fake):
    fake.strict(context_size=1200)
    fake.reply = "We open at nine [1]."
    fitted = fit(HISTORY, PASSAGES, context_tokens=1200)
    unfitted = fit(HISTORY, PASSAGES, context_tokens=100_000)
    with pytest.raises(llm.LLMError, match=llm.EMPTY):
        answer(fake, unfitted.messages, max_tokens=unfitted.max_tokens)
    assert answer(fake, fitted.messages, max_tokens=fitted.max_tokens) == fake.reply
    assert fake.prompt_size(fake.requests[-1]) <= fitted.prompt_tokens  # our estimate is high


def test_the_context_size_comes_from_settings_by_model_or_base_url(monkeypatch):
    monkeypatch.setenv("LLM_CONTEXT_TOKENS", "4096")
    monkeypatch.setenv("LLM_CONTEXT_TOKENS_BY_MODEL", '{"tiny": 2048, "http://h:8080/v1": 1024}')
    reset_settings()
    assert get_settings().llm_context_tokens == 4096
    at = LLMConfig(base_url="http://h:8080/v1/", api_key="", model="tiny", timeout=1)
    assert llm.context_tokens(at) == 2048
    assert llm.context_tokens(LLMConfig("http://h:8080/v1", "", "other", 1)) == 1024
    assert llm.context_tokens(LLMConfig("", "", "gpt", 1)) == 4096


# -- 4. "not in the sources" and pseudo tool calls -------------------------------------------


def test_the_prompt_asks_for_the_marker_only_when_given():
    parts = dict(bot_name="Shop", instructions="", fallback="Ask us.", passages=[], history=[])
    plain = prompts.chat_messages(question="q", **parts)[0]["content"]
    assert 'say "Ask us."' in plain and llm_outcome.MARKER not in plain
    marked = prompts.chat_messages(question="q", marker=llm_outcome.MARKER, **parts)
    assert f"reply with exactly {llm_outcome.MARKER} and nothing else" in marked[0]["content"]


@pytest.mark.parametrize(
    "reply", ["NOT_IN_SOURCES", "  **NOT_IN_SOURCES**", "NOT_IN_SOURCES.\nSorry!", "Not in sources"]
)
def test_the_marker_is_detected_and_never_shown_however_it_streams(reply):
    for pieces in ([reply], list(reply)):  # whole, or one character at a time
        shown, flt = visible(pieces)
        assert shown == "" and flt.not_in_sources and not flt.empty


@pytest.mark.parametrize(
    "reply",
    [
        "We open at nine [1].",
        "Not at all: returns are free [2].",
        "No, we do not ship on Sundays.",
        "N",
        "Our functions. Each one {works}.",
        '{"a": 1} is JSON, said the docs.',
        "See <b>bold</b> and [1].",
    ],
)
def test_an_ordinary_answer_streams_unchanged(reply):
    words = [word + " " for word in reply.split(" ")]
    words[-1] = words[-1][:-1]
    for pieces in ([reply], list(reply), words):
        shown, flt = visible(pieces)
        assert shown == reply and not flt.not_in_sources and flt.dropped_calls == 0


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('functions.http_1: {"order_id": "12345"}', ""),
        ('Let me check. functions.http_1: {"order_id": {"x": "}"}} Done.', "Let me check.  Done."),
        ('<tool_call>\n{"name": "http_1", "arguments": {}}\n</tool_call>Hi', "Hi"),
        (
            '{"name": "link_3", "arguments": {"reason": "x"}} Here is the link.',
            " Here is the link.",
        ),
        ('[TOOL_CALLS][{"name": "a", "arguments": {}}] ok', " ok"),
        ("We open at nine. NOT_IN_SOURCES", "We open at nine. "),
        ('Half an answer <tool_call>{"name": "x"', "Half an answer "),
    ],
)
def test_pseudo_tool_calls_and_a_late_marker_are_removed(reply, expected):
    for pieces in ([reply], list(reply)):
        shown, flt = visible(pieces)
        assert shown == expected and (flt.dropped_calls > 0 or flt.marker_seen)
        assert "functions." not in shown and "NOT_IN" not in shown


def test_streamed_from_the_server_the_outcome_is_read_and_an_empty_answer_raised(fake):
    async def run(messages, **options):
        flt = llm_outcome.AnswerFilter()
        pieces = llm.stream_chat(
            config(fake), messages, usage=llm.Usage(), max_tokens=50, **options
        )
        return "".join([p async for p in llm_outcome.filtered(pieces, flt)]), flt

    fake.reply = "NOT_IN_SOURCES"
    fake.framing = "split"
    shown, flt = asyncio.run(run(USER))
    assert shown == "" and flt.not_in_sources
    # A chat format that ignores tools writes the call as text: never shown, never stored empty.
    fake.strict(tools_as_text="functions")
    fake.tool_calls = [{"name": "http_1", "arguments": {"order_id": "12345"}}]
    with pytest.raises(llm.LLMError) as empty:
        asyncio.run(run(USER, tools=[TOOL]))
    assert empty.value.code == "llm_empty"


def test_only_cited_passages_are_sources_and_the_rest_are_consulted():
    passages = [passage(n, f"text {n}") for n in (1, 2, 3)]
    assert [s["n"] for s in citations.cited("Yes [2], and [1, 3].", passages)] == [1, 2, 3]
    assert [s["n"] for s in citations.cited("Yes [2][9].", passages)] == [2]
    assert citations.cited("An invented answer.", passages) == []
    listed = citations.listed("An invented answer.", passages)
    assert [(s["n"], s["consulted"]) for s in listed] == [(1, True), (2, True), (3, True)]
    assert [s["n"] for s in citations.consulted("Yes [2].", passages)] == [1, 3]
    assert "consulted" not in citations.listed("Yes [2].", passages)[0]


# -- 5. the follow-up rewrite, checked ---------------------------------------------------------

TALK = [("user", "What are your opening hours?"), ("assistant", "9am to 6pm [1].")]


@pytest.mark.parametrize(
    ("rewrite", "usable"),
    [
        ("What are your opening hours on weekends?", True),
        ("I'm sorry, but I can't help with that.", False),
        ("As an AI language model, I cannot rewrite this.", False),
        ("", False),
        ("What are your opening hours? " * 20, False),
        ("What is the capital of Peru?", False),
        ("Question: opening\nhours", False),
    ],
)
def test_a_rewrite_is_used_only_when_it_is_a_query_about_the_conversation(rewrite, usable):
    assert followup.usable_rewrite(rewrite, "and on weekends?", TALK) is usable


def test_the_visitors_own_words_are_no_refusal():
    talk = [("user", "I'm unable to log in to my account")]
    assert followup.usable_rewrite("Why am I unable to log in?", "why is that?", talk)


def test_an_apology_rewrite_falls_back_to_the_heuristic_query_and_no_history_asks_nothing(fake):
    fake.reply = "I'm sorry, I cannot help with that."
    query = asyncio.run(followup.retrieval_query("and on weekends?", TALK, config(fake)))
    assert query == "What are your opening hours? and on weekends?"
    assert len(fake.chat_requests(stream=False)) == 1
    fake.reply = '"What are your opening hours on weekends?"'
    query = asyncio.run(followup.retrieval_query("and on weekends?", TALK, config(fake)))
    assert query == "What are your opening hours on weekends?"
    before = len(fake.requests)
    assert asyncio.run(followup.retrieval_query("and on weekends?", [], config(fake))) == (
        "and on weekends?"
    )
    assert len(fake.requests) == before


def test_a_slow_rewrite_is_given_up_for_the_heuristic_query(fake):
    fake.first_delay = 2
    fake.reply = "What are your opening hours on weekends?"

    async def run():
        loop = asyncio.get_running_loop()
        begin = loop.time()
        query = await followup.retrieval_query("and on weekends?", TALK, config(fake), timeout=0.3)
        return query, loop.time() - begin

    query, took = asyncio.run(run())
    assert query == "What are your opening hours? and on weekends?" and took < 1.5


# -- 6. the real-server check runs (here against the strict stub) ------------------------------


def test_the_server_check_passes_against_the_strict_stub():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    run = subprocess.run(
        [sys.executable, str(root / "bench" / "llm_server_check.py"), "--stub"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    report = json.loads(run.stdout)
    assert report["ok"], report
    assert report["overflow"]["unfitted"]["error"] == "llm_empty"
    assert report["tool_call"]["follow_up"]["shown"] == "Your order shipped on Monday."
    assert report["not_in_sources"]["not_in_sources"] is True
