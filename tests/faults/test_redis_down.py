"""Redis unavailable (REDIS_URL set, the server killed): visitors are still answered, quickly.

By design (services/ratelimit.py) the per-visitor limits fail open while Redis is down (logged),
and live events fall back to the stored table (re-read at every keep-alive)."""

from __future__ import annotations

import time

import httpx
import pytest

from chatapp.services.ops import health as health_service
from tests.faults.services import private_redis
from tests.faults.stack import FaultApi, Store, assert_readable, chat_body, parse_sse, prepare
from tests.utils.fake_llm import fake_llm_server
from tests.utils.knowledge import new_session_id

QUESTION = "When are you open on Saturdays?"


def ask(base: str, shop: dict, session_id: str) -> tuple[int, list, float]:
    started = time.monotonic()
    response = httpx.post(
        f"{base}/api/chat", json=chat_body(shop, QUESTION, session_id), timeout=30
    )
    assert_readable(response.text)
    events = parse_sse(response.text) if response.status_code == 200 else []
    return response.status_code, events, time.monotonic() - started


def redis_reported_down(base: str) -> dict:
    """The health report once it has noticed (its Redis check is cached for a few seconds)."""
    deadline = time.monotonic() + health_service.CACHE_SECONDS + 10
    while True:
        health = httpx.get(f"{base}/api/health", timeout=10).json()
        if health["checks"]["redis"]["status"] != "ok" or time.monotonic() > deadline:
            return health
        time.sleep(0.2)  # polling a condition, with a deadline


@pytest.mark.parametrize("how", ["killed", "never-there"])
def test_chat_answers_with_redis_down(tmp_path, how):
    with private_redis() as redis, fake_llm_server() as fake:
        shop = prepare(tmp_path / "data")["shop"]
        env = {"REDIS_URL": redis.url, "CHAT_SESSION_PER_MINUTE": "2"}
        if how == "never-there":
            redis.kill()
        store = Store.sqlite(tmp_path / "data")
        with FaultApi(tmp_path / "data", llm_base_url=fake.base_url, env=env) as api:
            if how == "killed":
                # Redis counts: the third message in a minute is refused. The limit's windows are
                # clock minutes: three messages that straddle a boundary are asked again.
                for _ in range(2):
                    limited, minute = new_session_id(), time.time() // 60
                    statuses = [ask(api.base, shop, limited)[0] for _ in range(3)]
                    if time.time() // 60 == minute:
                        break
                assert statuses == [200, 200, 429]
                redis.kill()
            health = redis_reported_down(api.base)
            session_id = new_session_id()
            results = [ask(api.base, shop, session_id) for _ in range(3)]  # over the limit of 2
            log = api.log()
        for status, events, _took in results:
            assert status == 200 and events[-1][0] == "done", events
        took = [round(result[2], 2) for result in results]
        assert max(took[1:]) < 2, took  # a refused connection, never a wait (the first one
        # may include loading the embedding model)
        assert [role for role, _ in store.messages(session_id)] == ["user", "assistant"] * 3
        assert "rate limit counter unavailable (Redis)" in log
        checks = health.get("checks", {})
        print(
            f"\nhealth with Redis {how}: {health}; answers took {[round(r[2], 2) for r in results]}"
        )
        assert checks["redis"]["status"] == "down" and health["status"] == "degraded"
        store.close()
