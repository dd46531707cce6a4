"""Live handoff latency: from an agent's send (POST .../inbox/{id}/messages) to the message
arriving on the visitor's public event stream, over loopback.

Two setups, each with 200 sends one after another (each waits for its arrival):
* embedded: one API process (granian, as `reflex run --env prod` serves it) on SQLite, events in
  process;
* redis: two API processes on PostgreSQL + Redis; the visitor's stream is on worker A, the agent
  posts to worker B, so every event crosses Redis pub/sub.

Usage: .venv/bin/python bench/handoff_latency.py [--sends 200] [--setups embedded,redis]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def prepare(database_url: str, data_dir: Path) -> dict:
    """A workspace with an agent, a bot with a widget key and a handoff action."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["ARGON2_MEMORY_KIB"] = "1024"
    os.environ["ARGON2_ROUNDS"] = "1"
    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines, session_scope
    from chatapp.services.bots import bots
    from tests.utils.factories import make_tenant
    from tests.utils.handoff import add_action, new_session_id

    reset_settings()
    dispose_engines()
    migrations.upgrade(database_url)
    with session_scope() as session:
        tenant = make_tenant(session, "bench")
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff")
    dispose_engines()
    return {
        "bot": tenant.bot.public_id,
        "key": key,
        "workspace": tenant.workspace.id,
        "session_id": new_session_id(),
    }


async def measure(visitor_base: str, agent_base: str, data: dict, sends: int) -> list[float]:
    async with httpx.AsyncClient(timeout=30) as http:
        visitor = {"bot_id": data["bot"], "session_id": data["session_id"], "api_key": data["key"]}
        cid = (await http.post(f"{visitor_base}/api/public/handoff", json=visitor)).json()[
            "conversation_id"
        ]
        login = await http.post(
            f"{agent_base}/api/v1/auth/login",
            json={"email": "agent-bench@example.com", "password": "correct horse battery"},
        )
        agent = {"Authorization": f"Bearer {login.json()['token']}"}
        inbox = f"{agent_base}/api/v1/workspaces/{data['workspace']}/inbox/{cid}"
        (await http.post(f"{inbox}/take", headers=agent)).raise_for_status()

        arrived: dict[str, float] = {}
        waiters: dict[str, asyncio.Event] = {}
        ready = asyncio.Event()
        params = {"bot_id": data["bot"], "session_id": data["session_id"], "key": data["key"]}

        async def read():
            url = f"{visitor_base}/api/public/conversations/events"
            async with http.stream("GET", url, params=params, timeout=None) as response:
                ready.set()
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        if event["type"] == "message" and event["role"] == "agent":
                            arrived[event["content"]] = time.perf_counter()
                            waiter = waiters.get(event["content"])
                            if waiter:
                                waiter.set()

        reader = asyncio.create_task(read())
        await ready.wait()
        latencies = []
        for n in range(sends):
            text = f"reply {n}"
            waiters[text] = asyncio.Event()
            started = time.perf_counter()
            sent = await http.post(f"{inbox}/messages", json={"content": text}, headers=agent)
            sent.raise_for_status()
            await asyncio.wait_for(waiters[text].wait(), 30)
            latencies.append((arrived[text] - started) * 1000)
        reader.cancel()
        return latencies


def summary(latencies: list[float]) -> dict:
    return {
        "sends": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
    }


def run_embedded(sends: int) -> dict:
    from tests.utils.live_server import api_server

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'chatapp.db'}"
        data = prepare(url, data_dir)
        env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir)}
        env.pop("REDIS_URL", None)
        os.environ.pop("REDIS_URL", None)
        with api_server(env, data_dir / "api.log") as base:
            return summary(asyncio.run(measure(base, base, data, sends)))


def run_redis(sends: int) -> dict:
    from tests.utils.databases import postgres_database
    from tests.utils.live_server import api_server

    with tempfile.TemporaryDirectory() as tmp, postgres_database() as url, ExitStack() as stack:
        data_dir = Path(tmp)
        data = prepare(url, data_dir)
        env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "REDIS_URL": REDIS_URL}
        a = stack.enter_context(api_server(env, data_dir / "a.log"))
        b = stack.enter_context(api_server(env, data_dir / "b.log"))
        return summary(asyncio.run(measure(a, b, data, sends)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--setups", default="embedded,redis")
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    result: dict = {"metric": "agent send -> visitor stream (ms, loopback)"}
    for setup in args.setups.split(","):
        if setup == "embedded":
            result["embedded_sqlite_1_worker"] = run_embedded(args.sends)
        elif setup == "redis":
            result["redis_postgres_2_workers"] = run_redis(args.sends)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
