"""Routing accuracy of a router bot on a labelled set (bench/data/routing_messages.jsonl).

A fresh workspace (SQLite in a temporary data directory) gets three specialised bots, billing,
shipping and technical support, each with a description and a few short knowledge texts
ingested through the real sources service and worker (local embedder, Qdrant local mode), a
bot without a description (never a candidate) and a router bot. Every labelled message is
routed by `routing.decide()`; the label is the bot(s) that should answer (two for a message
with two intents) or none (the router should ask a clarifying question).

Offline by default. `--base-url/--model/--api-key` routes through any OpenAI-compatible server
(the JSON classification prompt); `--stub` starts our loopback stub LLM (tests/utils/fake_llm.py)
that answers valid JSON naming a bot by a keyword: it proves the plumbing, not a model's quality.

Usage: .venv/bin/python bench/routing.py [--limit N] [--stub | --base-url URL --model M
       --api-key K]
Prints one JSON object: accuracy overall, per bot (single intent), two-intent accuracy, clarify
precision and recall, latency p50/p95 per message (ms).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "data" / "routing_messages.jsonl"

BOTS = {
    "billing": (
        "Billing",
        "Payments, invoices, receipts, refunds, charges, subscription plans and prices, "
        "cancelling or changing a plan, payment methods, VAT and discounts.",
        {
            "Refunds": "Refunds go back to the card or account you paid with within 5 to 10 "
            "business days. A duplicate charge is refunded in full once we confirm it.",
            "Invoices": "Invoices and receipts can be downloaded from Account > Billing. You can "
            "add your company name, VAT number and purchase order number to every invoice.",
            "Plans and prices": "The Basic plan costs 9 euros a month and the Pro plan 29 euros. "
            "The annual plan saves two months. You can upgrade, downgrade or cancel your "
            "subscription at any time; renewal is automatic until you cancel.",
            "Payment methods": "We accept Visa, Mastercard, American Express, PayPal and bank "
            "transfer. A declined payment is usually a card limit or an expired card.",
        },
    ),
    "shipping": (
        "Shipping",
        "Delivery of orders and parcels: shipping times and costs, tracking, couriers, delivery "
        "addresses, customs, lost or damaged packages and returns by post.",
        {
            "Delivery times": "Orders are dispatched within 24 hours. Delivery takes 2 to 4 days "
            "in Europe and 5 to 8 days to Canada and the United States. Express next-day "
            "delivery is available when you order before 2pm.",
            "Tracking": "You receive a tracking number by email when the parcel leaves our "
            "warehouse. Couriers: DHL, UPS and the national post.",
            "Damaged or lost parcels": "If your package arrived damaged or never arrived, tell us "
            "within 14 days and we send a replacement.",
            "Returns by post": "Print the prepaid return label and drop the parcel at any post "
            "office. Customs duties outside the EU are paid by the recipient.",
        },
    ),
    "technical": (
        "Technical support",
        "Problems using the app, website or API: login and passwords, errors and crashes, "
        "installation, settings, integrations, sync, notifications and data export.",
        {
            "Login problems": "To reset your password, click 'Forgot password' on the login "
            "page. After five failed attempts the account is locked for 15 minutes. Enable "
            "two-factor authentication in Settings > Security.",
            "Errors and crashes": "If the app crashes or shows an error, update to the latest "
            "version and clear the cache. Supported browsers: Chrome, Firefox, Safari, Edge.",
            "API and integrations": "Create an API key in Settings > Developers. Webhooks and "
            "the Slack integration are configured in Settings > Integrations.",
            "Data export": "Export your data as CSV or JSON from Settings > Data. Imports accept "
            "CSV and Excel files up to 20 MB.",
        },
    ),
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * (len(ordered) - 1) + 0.5))]


def load(limit: int | None, data: Path = DATA) -> list[dict]:
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    if limit:  # a small, still balanced sample: every n-th row
        step = max(1, len(rows) // limit)
        rows = rows[::step][:limit]
    return rows


def build() -> tuple[object, dict[int, str]]:
    """The workspace, its bots and their knowledge; (router bot, {bot id: label})."""
    from chatapp.core.db import session_scope
    from chatapp.services.accounts import auth, workspaces
    from chatapp.services.accounts.tenancy import actor_for
    from chatapp.services.bots import bots
    from chatapp.services.knowledge import sources
    from chatapp.services.models import BotCreate, BotUpdate
    from chatapp.workers import ingest as worker

    labels: dict[int, str] = {}
    with session_scope() as session:
        user = auth.create_user(session, email="bench@example.com", password="bench password 1")
        ws = workspaces.create_workspace(session, user_id=user.id, name="Bench")
        actor = actor_for(session, user_id=user.id, workspace_id=ws.id)
        for label, (name, description, texts) in BOTS.items():
            bot = bots.create_bot(session, actor, BotCreate(name=name))
            bots.update_bot(session, actor, bot.id, BotUpdate(description=description))
            for title, text in texts.items():
                sources.add_text(session, actor, bot.id, title=title, text=f"{title}\n\n{text}")
            labels[bot.id] = label
        bots.create_bot(session, actor, BotCreate(name="Internal notes"))  # no description
        router = bots.create_bot(session, actor, BotCreate(name="Front desk"))
        router = bots.update_bot(session, actor, router.id, BotUpdate(is_router=True))
        session.expunge(router)
    worker.run_until_idle()
    return router, labels


def stub_reply(body: dict) -> str:
    """The stub model: names a bot by a keyword (plumbing only, not a model's judgement)."""
    text = body["messages"][-1]["content"].lower()
    for word, name in (("refund", "Billing"), ("parcel", "Shipping"), ("app", "Technical support")):
        if word in text:
            return json.dumps({"routes": [{"bot": name, "text": body["messages"][-1]["content"]}]})
    return json.dumps({"clarify": True})


def score(rows: list[dict], decisions: list, labels: dict[int, str]) -> dict:
    per_bot: dict[str, list[bool]] = {label: [] for label in BOTS}
    two: list[bool] = []
    correct: list[bool] = []
    said_clarify = labelled_clarify = both_clarify = 0
    for row, decision in zip(rows, decisions, strict=True):
        expected = sorted(row["bots"])
        got = sorted(labels.get(t.bot_id, "?") for t in decision.targets)
        is_clarify = decision.kind == "clarify"
        said_clarify += is_clarify
        labelled_clarify += not expected
        both_clarify += is_clarify and not expected
        ok = is_clarify if not expected else (decision.kind == "route" and got == expected)
        correct.append(ok)
        if len(expected) == 1:
            per_bot[expected[0]].append(ok)
        elif len(expected) == 2:
            two.append(ok)
    single = [ok for oks in per_bot.values() for ok in oks]

    def share(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    return {
        "messages": len(rows),
        "accuracy": share(correct),
        "single_intent_accuracy": share(single),
        "per_bot": {label: share(oks) for label, oks in per_bot.items()},
        "two_intent_accuracy": share(two),
        "clarify_precision": round(both_clarify / said_clarify, 3) if said_clarify else None,
        "clarify_recall": round(both_clarify / labelled_clarify, 3) if labelled_clarify else None,
    }


def run(
    limit: int | None = None, llm_config=None, *, stub: bool = False, data: Path = DATA
) -> dict:
    """Build the bots in a temporary data directory, route every message, score."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="routing-bench-")))
        os.environ["DATA_DIR"] = str(tmp / "data")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
        os.environ["INGEST_WORKER"] = "false"
        from chatapp.core import migrations
        from chatapp.core.config import reset_settings
        from chatapp.core.db import dispose_engines
        from chatapp.services.bots import routing
        from chatapp.services.bots.providers import LLMConfig
        from chatapp.services.knowledge.index.vector_index import close_indexes

        reset_settings()
        dispose_engines()
        stack.callback(dispose_engines)
        stack.callback(close_indexes)
        migrations.upgrade(os.environ["DATABASE_URL"])
        if stub:
            from tests.utils.fake_llm import fake_llm_server

            server = stack.enter_context(fake_llm_server())
            server.reply = stub_reply
            llm_config = LLMConfig(server.base_url, "sk-stub", "stub-model", 10.0)
        router, labels = build()
        rows = load(limit, data)
        routing.decide_sync(router, "warm up the embedder and the indexes")
        decisions, times = [], []
        for row in rows:
            started = time.perf_counter()
            if llm_config is None:
                decision = routing.decide_sync(router, row["text"])
            else:
                decision = asyncio.run(routing.decide(router, row["text"], llm_config))
            times.append((time.perf_counter() - started) * 1000)
            decisions.append(decision)
        result = score(rows, decisions, labels)
        result["path"] = "offline" if llm_config is None else ("stub-llm" if stub else "llm")
        result["llm_answers_used"] = sum(d.method == "llm" for d in decisions)
        result["latency_ms"] = {
            "p50": round(statistics.median(times), 1),
            "p95": round(percentile(times, 0.95), 1),
        }
        result["mistakes"] = [
            {
                "text": row["text"],
                "expected": row["bots"] or "clarify",
                "got": d.kind
                if d.kind != "route"
                else [labels.get(t.bot_id, "?") for t in d.targets],
            }
            for row, d, ok in zip(rows, decisions, _oks(rows, decisions, labels), strict=True)
            if not ok
        ]
        return result


def _oks(rows, decisions, labels) -> list[bool]:
    out = []
    for row, d in zip(rows, decisions, strict=True):
        expected = sorted(row["bots"])
        got = sorted(labels.get(t.bot_id, "?") for t in d.targets)
        out.append(d.kind == "clarify" if not expected else d.kind == "route" and got == expected)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="route only N messages")
    parser.add_argument("--stub", action="store_true", help="the loopback stub LLM (plumbing)")
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible /v1 base URL")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", ""))
    parser.add_argument("--show-mistakes", action="store_true")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="the labelled set (bench/data/routing_holdout.jsonl: 45 messages written after "
        "the thresholds were tuned on routing_messages.jsonl)",
    )
    args = parser.parse_args()
    config = None
    if args.base_url:
        from chatapp.services.bots.providers import LLMConfig

        config = LLMConfig(args.base_url, args.api_key or "none", args.model, 30.0)
    result = run(args.limit, config, stub=args.stub, data=args.data)
    result["data"] = args.data.name
    if not args.show_mistakes:
        result["mistakes"] = len(result["mistakes"])
    print(json.dumps(result, indent=None))


if __name__ == "__main__":
    main()
