"""The chat benchmarks' stack on loopback (bench/chat_latency.py, bench/load_sessions.py): a stub
OpenAI-compatible LLM in its own process, and our API under granian as production serves it, on
a prepared data directory with a shop bot.

Run as a script, it is the stub LLM: `python bench/chat_stack.py --token-ms 25 --tokens 200`
prints its port and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", type=int, default=1, help="API processes (> 1: PostgreSQL)")
    parser.add_argument(
        "--qdrant-url", default="", help="a Qdrant server instead of the embedded index"
    )


def apply_scale_options(args: argparse.Namespace) -> None:
    """Before prepare(): the API process and the prepared bot use these."""
    if args.workers > 1 and args.db != "postgres":
        raise SystemExit("several workers need PostgreSQL (--db postgres): SQLite has one writer")
    os.environ["BENCH_WORKERS"] = str(args.workers)
    if args.qdrant_url:
        os.environ["QDRANT_URL"] = args.qdrant_url


# --- the stub LLM, in its own process ------------------------------------------------------------


def serve_stub(token_ms: float, tokens: int) -> None:
    from tests.utils.fake_llm import FakeLLMServer

    server = FakeLLMServer()
    server.reply = " ".join(f"word{i}" for i in range(tokens))
    server.token_delay = token_ms / 1000
    server.start()
    print(server.port, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


@contextmanager
def process(args: list[str], env: dict | None = None, *, read_port: bool = False):
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE if read_port else None, text=True, cwd=ROOT
    )
    try:
        yield int(proc.stdout.readline()) if read_port else proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def stub(token_ms: float, tokens: int):
    return process(
        [
            sys.executable,
            __file__,
            "--token-ms",
            str(token_ms),
            "--tokens",
            str(tokens),
        ],
        read_port=True,
    )


# --- our API, prepared like production ------------------------------------------------------------


def prepare(db: str) -> tuple[dict, str, str]:
    """A data directory with a migrated database and a shop bot: (env, bot public id, key)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "INGEST_WORKER": "false",
        "CHAT_IP_PER_MINUTE": "0",  # every visitor here comes from 127.0.0.1
        "DEFAULT_MESSAGE_LIMIT": "10000000",
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_ROUNDS": "1",
        "OPENAI_API_KEY": "bench",
    }
    if db == "postgres":
        import psycopg

        name = f"chatapp_bench_{secrets.token_hex(4)}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{name}"
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    else:
        for name in ("DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
            os.environ.pop(name, None)
    os.environ.update(env)
    from chatapp.core import migrations
    from chatapp.core.config import reset_settings
    from chatapp.core.db import dispose_engines
    from chatapp.services.knowledge.index.vector_index import close_indexes
    from tests.utils.knowledge import make_shop

    reset_settings()
    migrations.upgrade()
    shop = make_shop("bench")
    close_indexes()
    dispose_engines()
    return env, shop.public_id, shop.key


def api_server(env: dict, llm_port: int):
    workers = int(env.get("BENCH_WORKERS", "1"))
    port = free_port()
    env = {**env, "OPENAI_BASE_URL": f"http://127.0.0.1:{llm_port}/v1", "PORT": str(port)}
    # Granian, one worker by default (what `reflex run --env prod` starts); `--workers N` is what
    # `python -m chatapp serve-api --workers N` starts: each process derives its own index.
    proc = process(
        [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--backlog",
            "8192",
            "--log-level",
            "warning",
            "chatapp.api.app:create_api",
        ],
        env,
    )
    return proc, f"http://127.0.0.1:{port}"


async def wait_healthy(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"{base}/api/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--token-ms", type=float, default=25.0)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    serve_stub(args.token_ms, args.tokens)
