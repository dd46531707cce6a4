"""The dashboard benchmarks' data: one workspace with one busy bot, its conversations spread over
`days` days with realistic shares of fallen-back answers and thumbs up/down (bulk inserts)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

PASSWORD = "bench password 1"
EMAIL = "owner@bench.example.com"

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
        from chatapp.services.bots import bots

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
