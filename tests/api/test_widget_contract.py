"""What the widget needs from the public API beyond the chat itself: its JS API's context and
visitor fields are accepted (and validated), a browser on any site may call the routes, and the
config refuses (and counts) a website the bot does not allow."""

import random
import time
from datetime import UTC, datetime

from sqlmodel import col, select

from chatapp.core import ratelimit
from chatapp.core.db import session_scope
from chatapp.services.accounts import refused_origins, visitor_access
from chatapp.services.models import Bot, RateCounter
from tests.api.test_public_api import body, parse_sse
from tests.utils.knowledge import make_shop


def test_chat_accepts_the_widgets_context_and_visitor(client):
    shop = make_shop()
    extra = {"context": {"page": "/pricing", "plan": "pro"}, "visitor": {"name": "Ada"}}
    response = client.post("/api/chat", json=body(shop, **extra))
    assert response.status_code == 200
    assert [e["type"] for e in parse_sse(response.text)][-1] == "done"

    response = client.post("/api/chat", json=body(shop, context="not an object"))
    assert response.status_code == 422


def test_a_browser_on_another_site_may_call_the_widgets_routes(client):
    shop = make_shop()
    origin = {"Origin": "https://shop.example"}
    preflight = client.options(
        "/api/chat",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    config = client.get(f"/api/public/bots/{shop.public_id}/config", headers=origin)
    assert config.headers["access-control-allow-origin"] == "*"
    refused = client.post("/api/chat", json=body(shop, api_key="ck_wrong"), headers=origin)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"  # the widget can read why


def test_config_refuses_a_website_the_bot_does_not_allow_and_counts_it(client, monkeypatch):
    """The widget's first request tells it the site is refused (it does not show); the owner
    sees which site, how many times and when last; the rate limiter's sweep keeps the counts."""
    shop = make_shop()
    with session_scope() as session:
        bot = session.get(Bot, shop.bot_id)
        bot.allowed_domains = ["shop.example"]
        session.add(bot)
    url = f"/api/public/bots/{shop.public_id}/config"
    allowed = client.get(url, headers={"Origin": "https://www.shop.example"})
    assert allowed.status_code == 200 and allowed.json()["bot_id"] == shop.public_id
    assert "Origin" in allowed.headers["vary"]  # a cache must not serve it to another site

    for _ in range(2):
        refused = client.get(url, headers={"Origin": "https://copycat.example"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == visitor_access.WRONG_SITE
        assert refused.headers["access-control-allow-origin"] == "*"  # the widget can read why
    by_referer = client.get(url, headers={"Referer": "https://other.example/page?q=1"})
    assert by_referer.status_code == 403

    two_hours_ago = time.time() - 7200
    with session_scope() as session:
        refused_origins.record(
            session, session.get(Bot, shop.bot_id), "old.example", now=two_hours_ago
        )
        ratelimit._count_db(session, "chat:ip:old", int(two_hours_ago) // 60 * 60)
    monkeypatch.setattr(random, "random", lambda: 0.0)  # the limiter's occasional sweep: now
    with session_scope() as session:
        ratelimit.hit(session, [ratelimit.Limit("chat:ip:new", 100)])
        assert session.get(RateCounter, ("chat:ip:old", int(two_hours_ago) // 60 * 60)) is None
        seen = refused_origins.recent(session, shop.tenant.viewer, shop.bot_id)
    counts = {s.host: s.count for s in seen}
    assert counts == {"copycat.example": 2, "other.example": 1, "old.example": 1}
    assert seen[-1].host == "old.example"  # the most recent first
    last = {s.host: s.last_seen for s in seen}
    assert abs((last["copycat.example"] - datetime.now(UTC)).total_seconds()) < 120


def test_refusals_keep_a_bounded_number_of_websites_per_bot(database_url, monkeypatch):
    """Anyone may send any Origin to the config route: a bot keeps at most MAX_HOSTS websites
    (those it knows keep counting), and a website not refused for 30 days is forgotten."""
    shop = make_shop()
    monkeypatch.setattr(refused_origins, "MAX_HOSTS", 2)
    monkeypatch.setattr(random, "random", lambda: 0.5)  # no clean-up yet
    month_ago = time.time() - 31 * 86400
    with session_scope() as session:
        bot = session.get(Bot, shop.bot_id)
        refused_origins.record(session, bot, "gone.example", now=month_ago)
        for host in ("a.example", "b.example", "c.example", "a.example"):
            refused_origins.record(session, bot, host)
    with session_scope() as session:
        seen = refused_origins.recent(session, shop.tenant.owner, shop.bot_id)
    assert {s.host: s.count for s in seen} == {"a.example": 2}  # gone.example took a place

    monkeypatch.setattr(random, "random", lambda: 0.0)  # the occasional clean-up: now
    with session_scope() as session:
        refused_origins.record(session, session.get(Bot, shop.bot_id), "a.example")
        refused_origins.record(session, session.get(Bot, shop.bot_id), "c.example")
    with session_scope() as session:
        seen = refused_origins.recent(session, shop.tenant.owner, shop.bot_id)
        left = session.exec(select(RateCounter).where(col(RateCounter.key).contains("gone"))).all()
    assert {s.host: s.count for s in seen} == {"a.example": 3, "c.example": 1}
    assert left == []
