"""Tool calls on the wire: the fake LLM's real OpenAI format, read by llm.py (and the client)."""

import asyncio

import openai

from chatapp.services.bots.providers import LLMConfig
from chatapp.services.chat.llm import client as llm
from tests.utils.fake_llm import fake_llm_server

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
CALLS = [
    {"name": "lookup", "arguments": {"order_id": "12345", "note": "a longer argument text"}},
    {"name": "other", "arguments": "{}"},
]


def config(server):
    return LLMConfig(base_url=server.base_url, api_key="sk-x", model="m", timeout=5)


def stream(server, **options):
    calls: list[llm.ToolCall] = []

    async def run():
        usage = llm.Usage()
        text = [
            piece
            async for piece in llm.stream_chat(
                config(server),
                [{"role": "user", "content": "hi"}],
                usage=usage,
                max_tokens=50,
                tool_calls=calls,
                retry_base=0.01,
                **options,
            )
        ]
        return "".join(text), calls

    return asyncio.run(run())


def test_streamed_tool_calls_are_put_together_from_their_pieces():
    with fake_llm_server() as server:
        server.tool_calls = CALLS
        text, calls = stream(server, tools=TOOLS)
        assert text == ""
        assert [(c.name, c.arguments) for c in calls] == [
            ("lookup", '{"order_id": "12345", "note": "a longer argument text"}'),
            ("other", "{}"),
        ]
        assert calls[0].id and calls[0].id != calls[1].id
        assert server.requests[-1]["tools"] == TOOLS
        # Without tools offered, or with tool_choice none, the same server answers in text.
        text, calls = stream(server)
        assert text == server.reply and calls == []
        text, calls = stream(server, tools=TOOLS, tool_choice="none")
        assert text == server.reply and calls == []


def test_a_failed_attempt_is_retried_and_its_calls_counted_once():
    with fake_llm_server() as server:
        server.tool_calls = CALLS[:1]
        server.script = ["503"]
        _, calls = stream(server, tools=TOOLS, attempts=3)
        assert len(calls) == 1 and len(server.requests) == 2


def test_the_openai_client_reads_the_fake_servers_tool_calls_streamed_and_not():
    with fake_llm_server() as server:
        server.tool_calls = lambda body: CALLS[:1]
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-x")
        reply = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], tools=TOOLS
        )
        choice = reply.choices[0]
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        assert choice.message.tool_calls[0].function.name == "lookup"
        chunks = list(
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], tools=TOOLS, stream=True
            )
        )
        pieces = [c.choices[0].delta.tool_calls for c in chunks if c.choices]
        argument_pieces = [p[0].function.arguments for p in pieces if p and p[0].function.arguments]
        assert len(argument_pieces) == 3
        assert "".join(argument_pieces) == choice.message.tool_calls[0].function.arguments
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
