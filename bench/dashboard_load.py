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
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402
from bench.dashboard_seed import EMAIL, PASSWORD, database, seed  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

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


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
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
