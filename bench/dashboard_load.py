"""Dashboard load time with a busy bot: 100,000 messages in ~10,000 conversations over 90 days.

Seeds a fresh database (SQLite by default, `--db postgres` for a fresh PostgreSQL database) with
one workspace and one bot whose conversations carry realistic shares of fallen-back answers and
thumbs up/down (bulk inserts), starts the production build as tests/e2e/conftest.py does
(`reflex run --env prod --single-port` on a free port over that data), logs in with Chromium and
loads each page `--runs` times, each in a fresh browser context (a fresh Reflex state) holding the
login cookie. A page counts as loaded when its data is on screen: a MutationObserver installed
before navigation notes `performance.now()` (ms since navigation start) when the page's
"data loaded" selector appears. Also times the service calls alone in this process.

Usage: .venv/bin/python bench/dashboard_load.py [--db sqlite|postgres] [--runs 10]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PASSWORD = "bench password 1"
EMAIL = "owner@bench.example.com"
# What "the page's data is visible" means per page (see the pages' ids).
PAGES = {
    "/analytics": "#analytics-loaded",
    "/activity": ".conversation-row",  # the first conversation listed
}
MISSING_REPORT = "#missing-groups, #missing-none"
# Shown once the shared on_load handlers (login check, the workspace's bots) have run: the time
# before it is the framework's and the session's, the time after it the page's own.
BOTS_KNOWN = "#bot-switcher"
STARTUP_TIMEOUT_SECONDS = 1200  # a first build installs the frontend packages

ANSWERED = [
    "What are your opening hours?",
    "Where is the shop?",
    "How do I return an item?",
    "Do you ship to Canada?",
    "How long does delivery take?",
    "Can I change my order?",
    "What sizes do you have?",
    "Is the jacket waterproof?",
    "How do I track my parcel?",
    "Do you have a newsletter?",
]
# Unanswered themes, each asked in several wordings; plus a long tail of one-off questions.
THEMES = [
    "gift cards",
    "student discounts",
    "parking",
    "pets in the shop",
    "bitcoin payments",
    "a loyalty programme",
    "repairs",
    "gift wrapping",
    "jobs",
    "a second-hand section",
    "click and collect",
    "wholesale prices",
    "custom engraving",
    "same-day delivery",
    "a shop in Paris",
]
WORDINGS = [
    "Do you offer {t}?",
    "Is there {t}?",
    "Can I ask about {t}?",
    "do you do {t}",
    "What about {t}?",
    "Tell me about {t}",
]
ONE_OFF_SHARE = 0.2
FELL_BACK_SHARE = 0.15
THUMBS_UP_SHARE, THUMBS_DOWN_SHARE = 0.08, 0.03


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
    }


# --- data -------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, data_dir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{data_dir / 'chatapp.db'}"
        return
    from tests.utils.databases import postgres_database

    with postgres_database() as url:
        yield url


def turn_counts(conversations: int, turns: int, rng: random.Random) -> list[int]:
    """Turns per conversation (1 to 9, mean turns/conversations), summing exactly to `turns`."""
    counts = [rng.randint(1, 9) for _ in range(conversations)]
    while sum(counts) != turns:
        index = rng.randrange(conversations)
        if sum(counts) > turns and counts[index] > 1:
            counts[index] -= 1
        elif sum(counts) < turns and counts[index] < 9:
            counts[index] += 1
    return counts


def visitor_hour(rng: random.Random) -> int:
    """More questions in working hours and the evening (UTC), a few at night."""
    weights = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 10, 11, 11, 10, 9, 8, 8, 7, 5, 3, 2]
    return rng.choices(range(24), weights=weights)[0]


def unanswered_question(rng: random.Random) -> str:
    if rng.random() < ONE_OFF_SHARE:
        return f"Where is my order number {rng.randint(10000, 99999)}?"
    return rng.choice(WORDINGS).format(t=rng.choice(THEMES))


def seed(url: str, *, messages: int, conversations: int, days: int) -> dict:
    """One workspace, one bot, `messages` messages (a question and an answer per turn)."""
    from sqlalchemy import insert

    from chatapp.core.db import get_engine, session_scope
    from chatapp.services.accounts import auth, workspaces
    from chatapp.services.models import BotCreate, Conversation, Message

    rng = random.Random(6)
    with session_scope(get_engine(url)) as session:
        user = auth.create_user(session, email=EMAIL, password=PASSWORD)
        workspace = workspaces.create_workspace(session, user_id=user.id, name="Bench")
        from chatapp.services.accounts.tenancy import actor_for
        from chatapp.services.bots import crud as bots

        owner = actor_for(session, user_id=user.id, workspace_id=workspace.id)
        bot = bots.create_bot(session, owner, BotCreate(name="Busy bot"))
        workspace_id, bot_id = workspace.id, bot.id
    now = datetime.now(UTC)
    counts = turn_counts(conversations, messages // 2, rng)
    engine = get_engine(url)
    started_seed = time.perf_counter()
    conversation_rows = []
    for number, turns in enumerate(counts):
        day = now - timedelta(days=rng.randrange(days))
        start = day.replace(hour=visitor_hour(rng), minute=rng.randrange(60), second=0)
        start = min(start, now - timedelta(hours=1))
        conversation_rows.append(
            {
                "workspace_id": workspace_id,
                "bot_id": bot_id,
                "session_id": f"visitor-{number:06d}",
                "channel": "widget",
                "status": "bot",
                "message_count": 2 * turns,
                "started_at": start,
                "last_message_at": start + timedelta(minutes=2 * turns),
            }
        )
    with engine.begin() as connection:
        for chunk in range(0, len(conversation_rows), 2000):
            connection.execute(insert(Conversation), conversation_rows[chunk : chunk + 2000])
        ids = connection.execute(
            Conversation.__table__.select()
            .with_only_columns(Conversation.id, Conversation.started_at)
            .where(Conversation.bot_id == bot_id)
            .order_by(Conversation.id)
        ).all()
    rows, fell_back, up, down = [], 0, 0, 0
    for (conversation_id, started), turns in zip(ids, counts, strict=True):
        started = started if started.tzinfo else started.replace(tzinfo=UTC)
        for turn in range(turns):
            asked = started + timedelta(minutes=2 * turn)
            falls = rng.random() < FELL_BACK_SHARE
            rating = rng.random()
            feedback = (
                1 if rating < THUMBS_UP_SHARE else -1 if rating > 1 - THUMBS_DOWN_SHARE else 0
            )
            fell_back += falls
            up += feedback == 1
            down += feedback == -1
            question = unanswered_question(rng) if falls else rng.choice(ANSWERED)
            base = {"workspace_id": workspace_id, "conversation_id": conversation_id}
            rows.append(
                {
                    **base,
                    "role": "user",
                    "content": question,
                    "feedback": 0,
                    "fell_back": False,
                    "created_at": asked,
                }
            )
            rows.append(
                {
                    **base,
                    "role": "assistant",
                    "content": "I don't have that information." if falls else "Here you go.",
                    "feedback": feedback,
                    "fell_back": falls,
                    "model": "extractive",
                    "created_at": asked + timedelta(seconds=2),
                }
            )
    defaults = {"citations": [], "model": "", "prompt_tokens": 0, "completion_tokens": 0}
    with engine.begin() as connection:
        for chunk in range(0, len(rows), 5000):
            batch = [{**defaults, **row} for row in rows[chunk : chunk + 5000]]
            connection.execute(insert(Message), batch)
    if engine.dialect.name == "postgresql":
        # PostgreSQL's autovacuum analyzes a table soon after a bulk insert like this one; until
        # it has, the planner thinks the tables are empty (an 11 s nested loop instead of 30 ms).
        # Measure the steady state.
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    return {
        "workspace_id": workspace_id,
        "bot_id": bot_id,
        "conversations": len(counts),
        "messages": len(rows),
        "fell_back_answers": fell_back,
        "thumbs_up": up,
        "thumbs_down": down,
        "days": days,
        "seed_seconds": round(time.perf_counter() - started_seed, 1),
    }


def service_times(url: str, seeded: dict, runs: int) -> dict:
    """The analytics and missing-content services alone, in this process, on the seeded data."""
    from chatapp.core.db import get_engine, session_scope
    from chatapp.services.accounts.tenancy import actor_for
    from chatapp.services.reports import analytics, missing_content
    from chatapp.services.reports.analytics import DateRange

    engine = get_engine(url)
    with session_scope(engine) as session:
        from chatapp.services.models import User

        user = session.exec(User.__table__.select().where(User.email == EMAIL)).one()
        actor = actor_for(session, user_id=user.id, workspace_id=seeded["workspace_id"])

    def timed(call) -> float:
        started = time.perf_counter()
        with session_scope(engine) as session:
            call(session)
        return 1000 * (time.perf_counter() - started)

    result = {}
    for days in (30, 90):
        period = DateRange.last(days)
        result[f"report_{days}_days_ms"] = summary(
            [
                timed(
                    lambda s, p=period: analytics.report(
                        s, actor, bot_id=seeded["bot_id"], period=p
                    )
                )
                for _ in range(runs)
            ]
        )
    period = DateRange.last(90)
    result["unanswered_questions_2000_ms"] = summary(
        [
            timed(
                lambda s: missing_content.unanswered_questions(s, actor, seeded["bot_id"], period)
            )
            for _ in range(runs)
        ]
    )
    missing_content.forget_cached_vectors()
    groups: list = []

    def report(session):
        groups[:] = missing_content.missing_content(
            session, actor, bot_id=seeded["bot_id"], period=period
        )

    result["missing_content_cold_ms"] = round(timed(report), 1)
    result["missing_content_warm_ms"] = summary([timed(report) for _ in range(runs)])
    result["missing_content_groups"] = len(groups)
    result["missing_content_top"] = [[g.question, g.count] for g in groups[:5]]
    return result


# --- the app ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(
    data_dir: Path, url: str, *, root: Path = ROOT, extra_env: dict | None = None
) -> Iterator[str]:
    """The production build of the checkout at `root` over `url`, at the production password
    cost; yields its base URL."""
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": url,
        "CHATAPP_ENV": "development",
        "PATH": f"{root / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(root),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "INGEST_WORKER": "false",
        **(extra_env or {}),
    }
    for name in ("ARGON2_MEMORY_KIB", "ARGON2_ROUNDS", "ALLOW_PRIVATE_URLS"):
        env.pop(name, None)
    log_path = data_dir / "server.log"
    command = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port"]
    command += ["--frontend-port", str(port), "--backend-port", str(port)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        with httpx.Client(timeout=5, follow_redirects=True) as client:
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    health = client.get(f"{base}/api/health").status_code
                    if health == 200 and client.get(f"{base}/login").status_code == 200:
                        break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.5)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


WATCH = """(selectors) => {
  window.__seen = {};
  const check = () => {
    for (const [name, selector] of Object.entries(selectors)) {
      if (window.__seen[name] === undefined && document.querySelector(selector)) {
        window.__seen[name] = performance.now();
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
}"""


def page_times(base: str, runs: int) -> dict:
    """Per page: loads in a fresh browser context (cold HTTP cache, as a first visit) and in a new
    tab of one context (warm cache, as a returning user); each load has a fresh Reflex state."""
    from playwright.sync_api import sync_playwright

    result: dict = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.get_by_role("heading", name="Bots").wait_for(timeout=60_000)
        login_state = context.storage_state()
        context.close()

        def new_context():
            return browser.new_context(
                base_url=base, viewport={"width": 1280, "height": 800}, storage_state=login_state
            )

        for route, selector in PAGES.items():
            watched = {"bots_known": BOTS_KNOWN, "data": selector}
            if route == "/analytics":
                watched["missing_report"] = MISSING_REPORT
            result[route] = {"selector": watched}
            shared = new_context()
            shared.add_init_script(f"({WATCH})({json.dumps(watched)})")
            for cache, make in (("cold_cache", None), ("warm_cache", shared)):
                result[route][cache] = _loads(route, watched, runs, make or new_context)
            shared.close()
        browser.close()
    return result


def _loads(route: str, watched: dict, runs: int, context_or_factory) -> dict:
    """`runs` timed loads after one untimed warm-up load (reported as `first_load_ms`)."""
    seen: dict[str, list[float]] = {name: [] for name in watched}
    entry: dict = {}
    condition = " && ".join(f"window.__seen[{json.dumps(name)}] !== undefined" for name in watched)
    for run in range(runs + 1):
        fresh = callable(context_or_factory)
        context = context_or_factory() if fresh else context_or_factory
        if fresh:
            context.add_init_script(f"({WATCH})({json.dumps(watched)})")
        page = context.new_page()
        try:
            page.goto(route)
            page.wait_for_function(condition, timeout=60_000)
            values = page.evaluate("window.__seen")
        except Exception as error:  # report what the page did
            entry["error"] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            break
        finally:
            page.close()
            if fresh:
                context.close()
        for name, value in values.items():
            if run == 0:
                entry.setdefault("first_load_ms", {})[name] = round(value, 1)
            else:
                seen[name].append(value)
    entry.update({f"{name}_ms": summary(values) for name, values in seen.items() if values})
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--services-only", action="store_true", help="skip the browser part")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-dashboard-")) / "data"
    data_dir.mkdir(parents=True)
    os.environ["DATA_DIR"] = str(data_dir)
    with database(args.db, data_dir) as url:
        os.environ["DATABASE_URL"] = url
        from chatapp.core import migrations
        from chatapp.core.config import reset_settings

        reset_settings()
        migrations.upgrade(url)
        seeded = seed(url, messages=args.messages, conversations=args.conversations, days=args.days)
        services = service_times(url, seeded, args.runs)
        from chatapp.core.db import dispose_engines

        dispose_engines()
        pages: dict = {}
        if not args.services_only:
            with running_app(data_dir, url) as base:
                pages = page_times(base, args.runs)
        print(
            json.dumps(
                {
                    "database": args.db,
                    "seeded": seeded,
                    "pages": pages,
                    "services": services,
                    "machine": f"{os.cpu_count()} cores, shared with other work",
                    "run": secrets.token_hex(3),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
