"""Do visitors' streams wait for the dashboard? Widget streams measured while a person uses it.

The production app (`reflex run --env prod --single-port`, production argon2 cost) serves a bot
whose answers come from the stub LLM (tests/utils/fake_llm.py: `--tokens` words, `--token-ms`
apart). `--streams` visitors ask again and again through `POST /api/chat` (SSE), and every token's
arrival time is kept. The run has three phases: idle (streams only), busy (Chromium logs in,
opens Analytics, Activity and Sources, switches bots, in a loop), idle again. Reported per phase:
time to first token and the gap between tokens (p50, p95, p99, max), and for the busy phase the
longest silence of any stream that overlaps a dashboard action, next to the ratio busy / idle.

`--root DIR` runs the app of another checkout (for instance the commit before a change, built in
a worktree): the same bench on both, one after the other, compares them on one machine.
`--visitors-api` sends the visitors to `python -m chatapp serve-api` (one process, the same
database) instead of the app, as the reverse proxy of docs/DEPLOYMENT.md does.

Usage: .venv/bin/python bench/dashboard_stall.py [--streams 20] [--idle 20] [--busy 40]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dashboard_load import running_app  # noqa: E402
from bench.dashboard_seed import EMAIL, PASSWORD  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

QUESTION = "When are you open on Saturdays?"
KNOWLEDGE = (
    "Opening hours\n\nOur shop is open Monday to Friday from 9am to 6pm. "
    "On Saturdays we open from 10am to 4pm. We are closed on Sundays."
)


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(values),
        "p50": round(statistics.median(ordered), 1),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
    }


def prepare(data_dir: Path, url: str) -> dict:
    """An owner, a workspace with two bots (one with knowledge and a widget key)."""
    from chatapp.core import migrations
    from chatapp.core.db import session_scope
    from chatapp.services.accounts import auth, workspaces
    from chatapp.services.accounts.tenancy import actor_for
    from chatapp.services.bots import bots
    from chatapp.services.knowledge import sources
    from chatapp.services.models import BotCreate, BotUpdate
    from chatapp.workers import ingest as worker

    migrations.upgrade(url)
    with session_scope() as session:
        user = auth.create_user(session, email=EMAIL, password=PASSWORD)
        workspace = workspaces.create_workspace(session, user_id=user.id, name="Bench")
        owner = actor_for(session, user_id=user.id, workspace_id=workspace.id)
        bot = bots.create_bot(session, owner, BotCreate(name="Shop"))
        bots.create_bot(session, owner, BotCreate(name="Second bot"))
        bot = bots.update_bot(session, owner, bot.id, BotUpdate(message_limit=10_000_000))
        sources.add_text(session, owner, bot.id, title="Hours", text=KNOWLEDGE)
        _, key = bots.create_widget_key(session, owner, bot.id)
        public_id = bot.public_id
    worker.run_until_idle()
    from chatapp.core.db import dispose_engines
    from chatapp.services.knowledge.index.vector_index import close_indexes

    close_indexes()  # the embedded vector store is one process's: the app's, from here on
    dispose_engines()
    return {"bot_id": public_id, "key": key}


class Streams:
    """Visitors asking in a loop; every answer's request time and token arrival times."""

    def __init__(self, base: str, bot: dict, count: int) -> None:
        self.base, self.bot, self.count = base, bot, count
        self.answers: list[tuple[float, list[float]]] = []  # (asked at, token times)
        self.errors = 0
        self.first_error = ""  # what the first failure said, for the report
        self.stop = asyncio.Event()

    async def visitor(self, number: int) -> None:
        import httpx

        body = {
            "bot_id": self.bot["bot_id"],
            "api_key": self.bot["key"],
            "session_id": f"bench-visitor-{number:04d}",
            "message": QUESTION,
            "stream": True,
        }
        async with httpx.AsyncClient(timeout=60) as client:
            while not self.stop.is_set():
                asked, times = time.monotonic(), []
                try:
                    async with client.stream("POST", f"{self.base}/api/chat", json=body) as reply:
                        if reply.status_code != 200:
                            await reply.aread()
                            self.failed(f"{reply.status_code} {reply.text[:200]}")
                            continue
                        async for line in reply.aiter_lines():
                            if line.startswith("event: token"):
                                times.append(time.monotonic())
                            elif line.startswith("data:") and '"type":"error"' in line:
                                self.failed(line[:200])
                except httpx.HTTPError as error:
                    self.failed(repr(error))
                if times:
                    self.answers.append((asked, times))

    def failed(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what

    async def run(self, seconds: float) -> None:
        tasks = [asyncio.create_task(self.visitor(n)) for n in range(self.count)]
        await asyncio.sleep(seconds)  # the bench's own clock: how long the phases last
        self.stop.set()
        await asyncio.gather(*tasks)


PAGES = (("/analytics", "#analytics-loaded"), ("/activity", "#activity-summary"))


def use_dashboard(base: str, until: float, actions: list[tuple[str, float, float]]) -> None:
    """Chromium using the dashboard in a loop until `until`; each action's (name, start, end)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        while time.monotonic() < until:
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
            one_visit(context.new_page(), actions)
            context.close()
        browser.close()


def one_visit(page, actions: list[tuple[str, float, float]]) -> None:
    """Log in, open Analytics and Activity, then Sources under each bot."""

    def timed(name: str, *steps) -> None:
        start = time.monotonic()
        for step in steps:
            step()
        actions.append((name, start, time.monotonic()))

    page.goto("/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    timed(
        "login",
        lambda: page.click("#login-submit"),
        lambda: page.get_by_role("heading", name="Bots").wait_for(timeout=60_000),
    )
    for route, ready in PAGES:
        timed(
            route,
            lambda r=route: page.goto(r),
            lambda s=ready: page.wait_for_selector(s, state="attached", timeout=60_000),
        )
    page.goto("/sources")
    for name, shown in (("Shop", "#sources-table"), ("Second bot", "#no-sources")):
        timed(
            "switch bot (Sources)",
            lambda: page.click("#bot-switcher"),
            lambda n=name: page.get_by_role("option", name=n, exact=True).click(),
            lambda s=shown: page.wait_for_selector(s, state="attached", timeout=60_000),
        )


def phase_figures(answers, start: float, end: float, actions=None) -> dict:
    ttft, gaps, longest = [], [], 0.0
    for asked, times in answers:
        if not start <= asked < end:
            continue
        ttft.append((times[0] - asked) * 1000)
        for before, after in itertools.pairwise(times):
            gap = (after - before) * 1000
            gaps.append(gap)
            if actions and any(
                a_start <= after and before <= a_end for _, a_start, a_end in actions
            ):
                longest = max(longest, gap)
    figures = {"ttft_ms": percentiles(ttft), "token_gap_ms": percentiles(gaps)}
    if actions is not None:
        figures["longest_silence_during_an_action_ms"] = round(longest, 1)
    return figures


@contextlib.contextmanager
def visitors_api(data_dir: Path, url: str, root: Path, extra_env: dict):
    """`python -m chatapp serve-api` (one process) on the app's database; yields its base URL."""
    from tests.utils.live_server import api_server, serve_api

    env = {"DATA_DIR": str(data_dir), "DATABASE_URL": url, "PYTHONPATH": str(root), **extra_env}
    with api_server(env, data_dir / "visitors.log", serve_api(1)) as base:
        yield base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app runs")
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--busy", type=float, default=40.0)
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--token-ms", type=float, default=25.0)
    parser.add_argument(
        "--visitors-api", action="store_true", help="visitors on serve-api, not the app"
    )
    args = parser.parse_args()

    from tests.utils.fake_llm import FakeLLMServer

    data_dir = Path(tempfile.mkdtemp(prefix="bench-stall-")) / "data"
    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'chatapp.db'}"
    os.environ.update(DATA_DIR=str(data_dir), DATABASE_URL=url, INGEST_WORKER="false")
    bot = prepare(data_dir, url)
    llm = FakeLLMServer()
    llm.reply = " ".join(f"word{i}" for i in range(args.tokens)) + " [1]."
    llm.token_delay = args.token_ms / 1000
    llm.start()
    actions: list[tuple[str, float, float]] = []
    try:
        llm_env = {
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "bench",
            "CHAT_SESSION_PER_MINUTE": "0",
            "CHAT_IP_PER_MINUTE": "0",
        }
        with contextlib.ExitStack() as stack:
            base = stack.enter_context(
                running_app(data_dir, url, root=args.root, extra_env=llm_env)
            )
            visitors = base
            if args.visitors_api:
                visitors = stack.enter_context(visitors_api(data_dir, url, args.root, llm_env))
            streams = Streams(visitors, bot, args.streams)
            begin = time.monotonic()
            busy_from, busy_to = begin + args.idle, begin + args.idle + args.busy
            total = 2 * args.idle + args.busy

            def dashboard() -> None:
                while time.monotonic() < busy_from:
                    time.sleep(0.05)  # waits for its phase; not synchronisation of results
                use_dashboard(base, busy_to, actions)

            user = threading.Thread(target=dashboard, daemon=True)
            user.start()
            asyncio.run(streams.run(total))
            user.join(timeout=120)
    finally:
        llm.stop()
    idle = [
        phase_figures(streams.answers, begin, busy_from),
        phase_figures(streams.answers, busy_to, begin + total),
    ]
    busy = phase_figures(streams.answers, busy_from, busy_to, actions)
    idle_gap_p99 = max(p["token_gap_ms"].get("p99", 0) for p in idle)
    idle_ttft_p95 = max(p["ttft_ms"].get("p95", 0) for p in idle)
    counts: dict[str, int] = {}
    for name, _, _ in actions:
        counts[name] = counts.get(name, 0) + 1
    print(
        json.dumps(
            {
                "root": str(args.root),
                "visitors_on": "serve-api" if args.visitors_api else "the app",
                "streams": args.streams,
                "stub": {"tokens": args.tokens, "token_ms": args.token_ms},
                "idle_before": idle[0],
                "busy": busy,
                "idle_after": idle[1],
                "busy_over_idle": {
                    "token_gap_p99": round(busy["token_gap_ms"].get("p99", 0) / idle_gap_p99, 2)
                    if idle_gap_p99
                    else None,
                    "ttft_p95": round(busy["ttft_ms"].get("p95", 0) / idle_ttft_p95, 2)
                    if idle_ttft_p95
                    else None,
                },
                "dashboard_actions": counts,
                "action_ms": {
                    name: percentiles([(e - s) * 1000 for n, s, e in actions if n == name])
                    for name in counts
                },
                "errors": streams.errors,
                "first_error": streams.first_error,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
