"""Chat path overhead: time to first token through our API vs straight from the LLM, under load.

Three processes on this machine's 2 cores: a stub OpenAI-compatible LLM
(tests/utils/fake_llm.py) that streams a fixed answer with a fixed delay per token; our API (the
FastAPI app the Reflex backend mounts, under granian as `reflex run --env prod` serves it, on
PostgreSQL + Redis like production, or SQLite with --db sqlite); and this client. For 1, 10, 50,
100 and 200 concurrent visitors (each sends 3 questions in a row, as a visitor does: the curve of
latency against concurrency), it measures time
to first `token` event and to `done` through `POST /api/chat`, then the same number of
concurrent streams straight from the stub, side by side in one run. Our overhead is the
difference of the p95s (and of the p50s). Then 2,000 visitors arriving over `--open-ramp`
seconds hold streams open at once against a slow stub (a token a second for
`--open-answer-seconds`): every one must finish without an error; their time to first token is
compared with the same arrivals straight from the stub.

Usage: .venv/bin/python bench/chat_latency.py [--db postgres|sqlite] [--levels 1,10,50,100,200]
       [--open-streams 2000] [--open-ramp 10] [--open-answer-seconds 60]
       [--token-ms 25] [--tokens 200] [--workers N] [--qdrant-url URL]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_stack import (  # noqa: E402
    add_scale_options,
    api_server,
    apply_scale_options,
    prepare,
    serve_stub,
    stub,
    wait_healthy,
)

TARGETS = {"ttft_overhead_p95_ms_at_200": 25.0, "errors": 0, "open_streams": 2000}
QUESTIONS = [
    "When are you open on Saturdays?",
    "What are your opening hours during the week?",
    "Can I return an item I bought?",
    "How many days do I have to return something?",
    "Do you ship to Canada?",
    "Are you open on Sundays?",
]
MESSAGES_PER_VISITOR = 3  # under the 10-per-minute session limit
# Visitors' greetings and thanks around a question: every question is a different text (no cache
# answers it), and none adds a word the bot must find in its knowledge (answerability ignores
# courtesy words; a number or a made-up word would make the bot refuse, as it should).
OPENINGS = ["", "Hi, ", "Hello, ", "Hey, ", "Hiya, ", "Hi hi, ", "Hey hey, ", "Hello hi, "]
CLOSINGS = ["", " Thanks!", " Thank you.", " Cheers.", " Please.", " Thanks, cheers.", " Okay?"]
ENDINGS = ["", " :)"]


def unique_question(n: int) -> str:
    """The n-th distinct question (6 questions x 8 openings x 7 closings x 2 endings = 672)."""
    question = QUESTIONS[n % len(QUESTIONS)]
    n //= len(QUESTIONS)
    opening, n = OPENINGS[n % len(OPENINGS)], n // len(OPENINGS)
    closing, n = CLOSINGS[n % len(CLOSINGS)], n // len(CLOSINGS)
    if opening:
        question = question[0].lower() + question[1:]
    return f"{opening}{question}{closing}{ENDINGS[n % len(ENDINGS)]}"


OPEN = {"now": 0, "peak": 0}  # streams of ours open at this moment / at most, client side


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * (len(ordered) - 1) + 0.5))]


def summary(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1)}


# --- clients ---------------------------------------------------------------------------------


async def ours_once(
    client: httpx.AsyncClient, base: str, bot: str, key: str, session: str, question: str
) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    body = {"bot_id": bot, "message": question, "session_id": session}
    async with client.stream(
        "POST", f"{base}/api/chat", json=body, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {(await response.aread())[:200]}")
        OPEN["now"] += 1
        OPEN["peak"] = max(OPEN["peak"], OPEN["now"])
        try:
            async for line in response.aiter_lines():
                if line == "event: token" and first is None:
                    first = time.perf_counter()
                elif line == "event: error":
                    raise RuntimeError("error event")
                elif line == "event: done":
                    break
        finally:
            OPEN["now"] -= 1
    if first is None:
        raise RuntimeError("no token")
    return (first - started) * 1000, (time.perf_counter() - started) * 1000


async def direct_once(
    client: httpx.AsyncClient, llm_port: int, question: str
) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    body = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": question}]}
    async with client.stream(
        "POST", f"http://127.0.0.1:{llm_port}/v1/chat/completions", json=body
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        async for line in response.aiter_lines():
            if line.startswith("data: ") and '"content"' in line and first is None:
                first = time.perf_counter()
            if line == "data: [DONE]":
                break
    if first is None:
        raise RuntimeError("no token")
    return (first - started) * 1000, (time.perf_counter() - started) * 1000


async def load(concurrency: int, messages: int, once, ramp: float = 0.0) -> dict:
    """`concurrency` visitors, each sending `messages` questions one after another.

    Visitors start spread evenly over `ramp` seconds (about one answer's length), as real ones
    do, so that `concurrency` streams are open at any moment without all arriving in one burst.
    Questions differ as text (`unique_question`), so no cache answers for the pipeline.
    """
    ttft, total, errors = [], [], []
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def visitor(number: int) -> None:
            await asyncio.sleep(ramp * number / max(1, concurrency))
            session = f"bench-{number}-{secrets.token_hex(6)}"
            for turn in range(messages):
                question = unique_question(number * messages + turn)
                try:
                    first, whole = await once(client, session, question)
                    ttft.append(first)
                    total.append(whole)
                except Exception as exc:  # counted and reported
                    errors.append(str(exc)[:200])

        started = time.perf_counter()
        await asyncio.gather(*(visitor(n) for n in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "ttft_ms": summary(ttft),
        "total_ms": summary(total),
        "requests": len(ttft) + len(errors),
        "requests_per_second": round((len(ttft) + len(errors)) / seconds, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def side_by_side(
    levels: list[int], env: dict, bot: str, key: str, token_ms: float, tokens: int
) -> dict:
    report = {}
    with stub(token_ms, tokens) as llm_port:
        server, base = api_server(env, llm_port)
        with server:
            asyncio.run(wait_healthy(base))
            asyncio.run(load(4, 1, lambda c, s, q: ours_once(c, base, bot, key, s, q)))  # warm
            for level in levels:
                ramp = token_ms * tokens / 1000
                ours = asyncio.run(
                    load(
                        level,
                        MESSAGES_PER_VISITOR,
                        lambda c, s, q: ours_once(c, base, bot, key, s, q),
                        ramp,
                    )
                )
                direct = asyncio.run(
                    load(
                        level,
                        MESSAGES_PER_VISITOR,
                        lambda c, s, q: direct_once(c, llm_port, q),
                        ramp,
                    )
                )
                report[str(level)] = {
                    "ours": ours,
                    "direct": direct,
                    "ttft_overhead_ms": {
                        stat: round(ours["ttft_ms"][stat] - direct["ttft_ms"][stat], 1)
                        for stat in ("p50", "p95")
                        if ours["ttft_ms"][stat] is not None and direct["ttft_ms"][stat] is not None
                    },
                }
    return report


def open_streams(
    count: int, env: dict, bot: str, key: str, *, ramp: float = 10.0, answer_s: int = 60
) -> dict:
    """`count` visitors arriving within `ramp` seconds, each answer streaming for `answer_s`
    seconds (a token a second): all held open at once. Their time to first token is compared
    with the same arrivals straight from the stub, as in the levels above."""
    OPEN.update(now=0, peak=0)
    with stub(1000, answer_s) as llm_port:
        server, base = api_server(env, llm_port)
        with server:
            asyncio.run(wait_healthy(base))
            result = asyncio.run(
                load(count, 1, lambda c, s, q: ours_once(c, base, bot, key, s, q), ramp=ramp)
            )
            peak = OPEN["peak"]
            direct = asyncio.run(load(count, 1, lambda c, s, q: direct_once(c, llm_port, q), ramp))
    overhead = {
        stat: round(result["ttft_ms"][stat] - direct["ttft_ms"][stat], 1)
        for stat in ("p50", "p95")
        if result["ttft_ms"][stat] is not None and direct["ttft_ms"][stat] is not None
    }
    return {
        "visitors": count,
        "arriving_over_s": ramp,
        "answer_s": answer_s,
        "peak_open_streams": peak,
        **result,
        "direct_ttft_ms": direct["ttft_ms"],
        "direct_errors": direct["errors"],
        "ttft_overhead_ms": overhead,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve-stub", action="store_true")
    add_scale_options(parser)
    parser.add_argument("--levels", default="1,10,50,100,200")
    parser.add_argument("--open-streams", type=int, default=2000)
    parser.add_argument("--open-ramp", type=float, default=10.0, help="arrivals over seconds")
    parser.add_argument("--open-answer-seconds", type=int, default=60)
    # A 200-token answer at 40 tokens/s (5 s), as hosted models stream; at 200 concurrent
    # streams that is ~40 new questions per second, each needing its own retrieval.
    parser.add_argument("--token-ms", type=float, default=25.0)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    if args.serve_stub:
        serve_stub(args.token_ms, args.tokens)
        return
    apply_scale_options(args)
    env, bot, key = prepare(args.db)
    levels = [int(x) for x in args.levels.split(",") if x]
    report = {
        "database": args.db,
        "llm_stub": {"token_ms": args.token_ms, "tokens": args.tokens},
        "messages_per_visitor": MESSAGES_PER_VISITOR,
        "targets": TARGETS,
        "levels": side_by_side(levels, env, bot, key, args.token_ms, args.tokens),
    }
    if args.open_streams:
        report["open_streams"] = open_streams(
            args.open_streams, env, bot, key, ramp=args.open_ramp, answer_s=args.open_answer_seconds
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
