"""Websites where a bot's widget was refused (not in its allowed domains), for the owner to see.

The widget asks for its config first; on a website the bot does not allow, that request is
refused, the widget does not show, and the refusal is counted here so that Connect can say which
websites tried, how many times and when last. The counts live in the `ratecounter` table (one
row per bot, host and minute, under the `TALLY_PREFIX` key space that the rate limiter's sweep
leaves alone) so no migration is needed; rows older than `KEEP_DAYS` are dropped now and then.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from chatapp.core.errors import PermissionDenied
from chatapp.core.ratelimit import TALLY_PREFIX
from chatapp.core.upsert import dialect_insert
from chatapp.services.accounts import visitor_access
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import Bot, RateCounter

KEEP_DAYS = 30
MAX_SHOWN = 20
NO_HOST = "(no Origin or Referer)"
KEY_SPACE = TALLY_PREFIX + "origin-refused:"


@dataclass(frozen=True)
class RefusedOrigin:
    host: str
    count: int
    last_seen: datetime  # UTC, to the minute


def _prefix(bot_id: int) -> str:
    return f"{KEY_SPACE}{bot_id}:"


def site_refusal(
    session: Session, bot: Bot, origin: str | None, referer: str | None = None
) -> str | None:
    """None when the website may use the bot's widget; else the refusal's words, counted."""
    try:
        visitor_access.check_origin(bot, origin, referer)
    except PermissionDenied as refused:
        record(session, bot, visitor_access.request_host(origin, referer))
        return refused.message
    return None


def record(session: Session, bot: Bot, host: str, *, now: float | None = None) -> None:
    """Count one refusal of `host` ("" when the browser did not say) for the bot."""
    now = time.time() if now is None else now
    minute = int(now // 60) * 60
    key = (_prefix(bot.id) + (host or NO_HOST))[:200]
    insert = dialect_insert(session, RateCounter).values(key=key, window_start=minute, count=1)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": RateCounter.count + 1}
        )
    )
    if random.random() < 0.01:  # now and then, forget refusals older than KEEP_DAYS
        session.execute(
            delete(RateCounter).where(
                col(RateCounter.key).startswith(KEY_SPACE, autoescape=True),
                col(RateCounter.window_start) < minute - KEEP_DAYS * 86400,
            )
        )


def recent(session: Session, actor: Actor, bot_id: int) -> list[RefusedOrigin]:
    """The websites refused in the last KEEP_DAYS days, the most recent first."""
    actor.require(Permission.READ)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    prefix = _prefix(bot.id)
    since = int(time.time()) - KEEP_DAYS * 86400
    rows = session.exec(
        select(RateCounter.key, func.sum(RateCounter.count), func.max(RateCounter.window_start))
        .where(
            col(RateCounter.key).startswith(prefix, autoescape=True),
            RateCounter.window_start >= since,
        )
        .group_by(RateCounter.key)
        .order_by(func.max(RateCounter.window_start).desc(), RateCounter.key)
        .limit(MAX_SHOWN)
    ).all()
    return [
        RefusedOrigin(key[len(prefix) :], int(count), datetime.fromtimestamp(last, UTC))
        for key, count, last in rows
    ]
