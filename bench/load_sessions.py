"""Widget sessions at scale: many visitors each open the widget (config) and send a first message.

The stack of bench/chat_latency.py (a stub OpenAI-compatible LLM streaming a short answer, our API
under granian on PostgreSQL + Redis, this client, all on this machine's 2 cores). `--sessions`
visitors (10,000 by default) arrive with at most `--concurrency` at once; each does what the widget
does on a page: `GET /api/public/bots/{id}/config`, then `POST /api/chat` (streamed) with its first
question, read to `done`. Reported: sessions per second, errors, latency of the config and of the
first token, and whether the bot's monthly counter equals the answered messages exactly.

One API worker by default; `--workers N` runs N processes (PostgreSQL and Redis), each with its
own index derived from the database, as `python -m chatapp serve-api --workers N` does.

Usage: .venv/bin/python bench/load_sessions.py [--sessions 10000] [--concurrency 100]
       [--tokens 20] [--token-ms 5] [--db postgres|sqlite] [--workers N] [--qdrant-url URL]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_latency import summary, unique_question  # noqa: E402
from bench.chat_stack import (  # noqa: E402
    add_scale_options,
    api_server,
    apply_scale_options,
    prepare,
    stub,
    wait_healthy,
)

TARGETS = {"sessions": 10_000, "errors": 0, "quota_exact": True}


async def one_session(client: httpx.AsyncClient, base: str, bot: str, key: str, n: int) -> dict:
    started = time.perf_counter()
    config = await client.get(f"{base}/api/public/bots/{bot}/config")
    if config.status_code != 200:
        raise RuntimeError(f"config HTTP {config.status_code}")
    config_ms = (time.perf_counter() - started) * 1000
    body = {
        "bot_id": bot,
        "message": unique_question(n),  # distinct texts, no number the bot would not know
        "session_id": f"load-{n}-{secrets.token_hex(4)}",
    }
    asked = time.perf_counter()
    first = None
    async with client.stream(
        "POST", f"{base}/api/chat", json=body, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"chat HTTP {response.status_code}")
        async for line in response.aiter_lines():
            if line == "event: token" and first is None:
                first = time.perf_counter()
            elif line == "event: error":
                raise RuntimeError("error event")
            elif line == "event: done":
                break
    if first is None:
        raise RuntimeError("no token")
    return {"config_ms": config_ms, "ttft_ms": (first - asked) * 1000}


async def run_sessions(base: str, bot: str, key: str, sessions: int, concurrency: int) -> dict:
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    results, errors = [], []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(sessions):
        queue.put_nowait(n)

    async def visitor_slot(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            try:
                results.append(await one_session(client, base, bot, key, n))
            except Exception as exc:  # counted and shown, never hidden
                errors.append(str(exc)[:120])

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(visitor_slot(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "sessions": sessions,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "sessions_per_second": round(len(results) / elapsed, 1),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "config_ms": summary([r["config_ms"] for r in results]),
        "ttft_ms": summary([r["ttft_ms"] for r in results]),
        "answered": len(results),
    }


def counted_messages(env: dict, bot: str) -> int:
    from sqlmodel import select

    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines, session_scope
    from chatapp.services.models import Bot

    reset_settings()
    dispose_engines()
    with session_scope() as session:
        return session.exec(select(Bot.message_count).where(Bot.public_id == bot)).one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--token-ms", type=float, default=5.0)
    add_scale_options(parser)
    args = parser.parse_args()
    apply_scale_options(args)
    env, bot, key = prepare(args.db)
    env["CHAT_SESSION_PER_MINUTE"] = "0"
    with stub(args.token_ms, args.tokens) as llm_port:
        proc, base = api_server(env, llm_port)
        with proc:
            asyncio.run(wait_healthy(base))
            result = asyncio.run(run_sessions(base, bot, key, args.sessions, args.concurrency))
    result["db"] = args.db
    result["workers"] = args.workers
    result["bot_message_count"] = counted_messages(env, bot)
    result["quota_exact"] = result["bot_message_count"] == result["answered"]
    result["targets"] = TARGETS
    print(json.dumps(result))


if __name__ == "__main__":
    main()
