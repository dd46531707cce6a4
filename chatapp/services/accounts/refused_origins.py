"""Websites where a bot's widget was refused (not in its allowed domains), for the owner to see.

The widget asks for its config first; on a website the bot does not allow, that request is
refused, the widget does not show, and the refusal is counted here so that Connect can say which
websites tried, how many times and when last. The counts live in the `ratecounter` table (no
migration needed), under the `TALLY_PREFIX` key space that the rate limiter's sweep leaves alone:
two rows per bot and host, `n:` (how many times) and `t:` (the minute of the last one, in
minutes since 1970). The config route needs no key, so a stranger could send any Origin: at most
`MAX_HOSTS` hosts are kept per bot (the known ones keep counting), and a host not refused for
`KEEP_DAYS` days is dropped now and then.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, delete, func, select, update

from chatapp.core.errors import PermissionDenied
from chatapp.core.ratelimit import TALLY_PREFIX
from chatapp.core.upsert import dialect_insert
from chatapp.services.accounts import visitor_access
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import Bot, RateCounter

KEEP_DAYS = 30
MAX_HOSTS = 100  # per bot
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


def _rows(bot_id: int):
    return col(RateCounter.key).startswith(_prefix(bot_id), autoescape=True)


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
    minute = int((time.time() if now is None else now) // 60)
    host = (host or NO_HOST)[:160]
    times, last = _prefix(bot.id) + "n:" + host, _prefix(bot.id) + "t:" + host
    counted = session.execute(
        update(RateCounter)
        .where(col(RateCounter.key) == times, col(RateCounter.window_start) == 0)
        .values(count=RateCounter.count + 1)
    )
    if not counted.rowcount:  # type: ignore[attr-defined]
        known = session.exec(select(func.count()).where(_rows(bot.id))).one()
        if known >= 2 * MAX_HOSTS:
            return
        _upsert(session, times, 1, RateCounter.count + 1)
    _upsert(session, last, minute, minute)
    if random.random() < 0.01:
        _forget_old(session, bot.id, minute)


def _upsert(session: Session, key: str, value: int, on_conflict) -> None:
    insert = dialect_insert(session, RateCounter).values(key=key, window_start=0, count=value)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": on_conflict}
        )
    )


def _forget_old(session: Session, bot_id: int, minute: int) -> None:
    """Drop the hosts of this bot not refused for KEEP_DAYS days (both their rows)."""
    prefix = _prefix(bot_id) + "t:"
    stale = session.exec(
        select(RateCounter.key).where(
            col(RateCounter.key).startswith(prefix, autoescape=True),
            col(RateCounter.count) < minute - KEEP_DAYS * 1440,
        )
    ).all()
    hosts = [key[len(prefix) :] for key in stale]
    keys = [_prefix(bot_id) + kind + host for host in hosts for kind in ("n:", "t:")]
    if keys:
        session.execute(delete(RateCounter).where(col(RateCounter.key).in_(keys)))


def recent(session: Session, actor: Actor, bot_id: int) -> list[RefusedOrigin]:
    """The websites refused in the last KEEP_DAYS days, the most recent first."""
    actor.require(Permission.READ)
    bot = get_scoped(session, actor, Bot, bot_id, "Bot")
    prefix = _prefix(bot.id)
    rows = session.exec(select(RateCounter.key, RateCounter.count).where(_rows(bot.id))).all()
    counts = {key[len(prefix) + 2 :]: n for key, n in rows if key.startswith(prefix + "n:")}
    lasts = {key[len(prefix) + 2 :]: n for key, n in rows if key.startswith(prefix + "t:")}
    since = int(time.time() // 60) - KEEP_DAYS * 1440
    seen = [
        RefusedOrigin(host, counts[host], datetime.fromtimestamp(lasts[host] * 60, UTC))
        for host in counts
        if lasts.get(host, 0) >= since
    ]
    seen.sort(key=lambda r: (-r.last_seen.timestamp(), r.host))
    return seen[:MAX_SHOWN]
