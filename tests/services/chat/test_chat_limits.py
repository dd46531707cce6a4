"""Monthly quota and visitor rate limits, on SQLite and PostgreSQL, in the database and in Redis."""

import asyncio
import secrets
from datetime import UTC, datetime

import pytest
import redis
from sqlmodel import func, select

from chatapp.core import ratelimit as rl
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import TooManyRequests
from chatapp.services.bots import bots, quota
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat.request import ChatRequest
from chatapp.services.chat.turn import Turn
from chatapp.services.models import Bot, BotUpdate, Message, RateCounter
from tests.utils.databases import require_or_skip
from tests.utils.knowledge import new_session_id

pytestmark = pytest.mark.shared_redis  # the machine's Redis: pub/sub channels are global

REDIS_URL = "redis://127.0.0.1:6379/0"


def set_limit(shop, limit):
    with session_scope() as session:
        bots.update_bot(session, shop.tenant.owner, shop.bot_id, BotUpdate(message_limit=limit))


def begin(shop, session_id=None, ip=""):
    return chat_begin.begin(
        ChatRequest(
            bot_id=shop.public_id,
            message="What are your opening hours?",
            session_id=session_id or new_session_id(),
            api_key=shop.key,
            ip=ip,
        )
    )


def test_quota_is_exact_under_concurrency(shop_bot):
    """Limit 100, 200 visitors at once: exactly 100 are answered, 100 get the readable 429."""
    set_limit(shop_bot, 100)

    async def crowd():
        return await asyncio.gather(*(begin(shop_bot) for _ in range(200)), return_exceptions=True)

    results = asyncio.run(crowd())
    accepted = [r for r in results if isinstance(r, Turn)]
    refused = [r for r in results if not isinstance(r, Turn)]
    assert len(accepted) == 100 and len(refused) == 100
    assert all(isinstance(r, TooManyRequests) for r in refused)
    assert {r.message for r in refused} == {
        "Monthly limit reached. Please contact the website owner."
    }
    with session_scope() as session:
        assert session.get(Bot, shop_bot.bot_id).message_count == 100
        # A refused request stores nothing: no question without an answer slot.
        assert session.exec(select(func.count()).select_from(Message)).one() == 100


def test_quota_update_alone_is_atomic_across_threads(shop_bot):
    from concurrent.futures import ThreadPoolExecutor

    set_limit(shop_bot, 100)

    def one(_):
        try:
            with session_scope() as session:
                quota.consume(session, shop_bot.bot_id)
            return True
        except TooManyRequests:
            return False

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(one, range(200)))
    assert outcomes.count(True) == 100
    with session_scope() as session:
        assert session.get(Bot, shop_bot.bot_id).message_count == 100


def test_quota_resets_each_month_and_says_when(shop_bot):
    set_limit(shop_bot, 2)
    now = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
    with session_scope() as session:
        bot = session.get(Bot, shop_bot.bot_id)
        bot.quota_period_start = datetime(2026, 3, 1, tzinfo=UTC)
        session.add(bot)
    for _ in range(2):
        with session_scope() as session:
            quota.consume(session, shop_bot.bot_id, now=now)
    with pytest.raises(TooManyRequests) as refused, session_scope() as session:
        quota.consume(session, shop_bot.bot_id, now=now)
    assert refused.value.retry_after_seconds == 3600  # until 1 April 00:00 UTC
    april = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    with session_scope() as session:
        quota.consume(session, shop_bot.bot_id, now=april)
    with session_scope() as session:
        bot = session.get(Bot, shop_bot.bot_id)
        assert bot.message_count == 1
        assert bot.quota_period_start == datetime(2026, 4, 1, tzinfo=UTC)


def test_a_zero_limit_refuses_everything(shop_bot):
    set_limit(shop_bot, 0)
    with pytest.raises(TooManyRequests, match="Monthly limit reached"):
        asyncio.run(begin(shop_bot))


def _hits(session, key, per_window, now, times):
    outcomes = []
    for _ in range(times):
        try:
            rl.hit(session, [rl.Limit(key, per_window)], now=now)
            outcomes.append(None)
        except TooManyRequests as exc:
            outcomes.append(exc.retry_after_seconds)
    return outcomes


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_fixed_window_counts_exactly(shop_bot, backend, monkeypatch):
    if backend == "redis":
        try:
            redis.Redis.from_url(REDIS_URL).ping()
        except redis.RedisError as exc:
            require_or_skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        reset_settings()
    key = f"test:{secrets.token_hex(6)}"
    window = 1_800_000_000  # a minute boundary (divisible by 60)
    results = []
    for offset in (5.0, 20.0):
        with session_scope() as session:
            results += _hits(session, key, 10, window + offset, 1)
    with session_scope() as session:
        results += _hits(session, key, 10, window + 50.5, 8)
    assert results == [None] * 10
    with session_scope() as session:
        refused = _hits(session, key, 10, window + 50.5, 1)
    assert refused == [10]  # Retry-After: the seconds left in the window
    with session_scope() as session:
        assert _hits(session, key, 10, window + 61, 1) == [None]  # a new window
        if backend == "redis":
            assert session.exec(select(func.count()).select_from(RateCounter)).one() == 0
    rl.reset_clients()


def test_session_limit_through_the_pipeline(shop_bot, monkeypatch):
    """10 messages a minute per visitor session: the 11th in a window is refused with a wait."""
    set_limit(shop_bot, 1000)
    session_id = new_session_id()

    async def burst():
        outcomes = []
        for _ in range(21):  # even if a minute boundary passes, a refusal must come
            try:
                await begin(shop_bot, session_id=session_id)
                outcomes.append("ok")
            except TooManyRequests as exc:
                outcomes.append(exc)
                break
        return outcomes

    outcomes = asyncio.run(burst())
    refusal = outcomes[-1]
    assert isinstance(refusal, TooManyRequests)
    assert 10 <= outcomes.count("ok") <= 20
    assert "too quickly" in refusal.message and 1 <= refusal.retry_after_seconds <= 60
    # Another visitor is not affected.
    asyncio.run(begin(shop_bot))


def test_ip_limit_covers_every_session_of_an_address(shop_bot, monkeypatch):
    monkeypatch.setenv("CHAT_IP_PER_MINUTE", "3")
    reset_settings()

    async def burst():
        for n in range(7):
            try:
                await begin(shop_bot, ip="203.0.113.9")
            except TooManyRequests as exc:
                return n, exc
        return 7, None

    accepted, refusal = asyncio.run(burst())
    assert refusal is not None and 3 <= accepted <= 6
    asyncio.run(begin(shop_bot, ip="203.0.113.10"))  # another address is fine
