"""The bot's monthly message quota, counted atomically in the bot row.

One conditional UPDATE both starts a new calendar month (UTC) and counts the message:

    UPDATE bot SET message_count = CASE WHEN quota_period_start < :month THEN 1
                                        ELSE message_count + 1 END, ...
    WHERE id = :bot AND message_limit > 0
      AND (quota_period_start < :month OR message_count < message_limit)

The database serialises concurrent updates of the row (PostgreSQL re-checks the WHERE against the
committed row; SQLite has one writer), so with a limit of 100 exactly 100 of any number of
concurrent requests succeed. Callers run it as the last statement of their transaction so the row
lock is held for as short a time as possible.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import case, or_
from sqlmodel import Session, col, update

from chatapp.core.errors import TooManyRequests
from chatapp.services.models import Bot, utcnow

MONTHLY_LIMIT_REACHED = "Monthly limit reached. Please contact the website owner."


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def consume(session: Session, bot_id: int, *, now: datetime | None = None) -> None:
    """Count one message against the bot's quota or raise TooManyRequests (429)."""
    now = now or utcnow()
    month = month_start(now)
    new_period = col(Bot.quota_period_start) < month
    statement = (
        update(Bot)
        .where(col(Bot.id) == bot_id, col(Bot.message_limit) > 0)
        .where(or_(new_period, col(Bot.message_count) < Bot.message_limit))
        .values(
            message_count=case((new_period, 1), else_=Bot.message_count + 1),
            quota_period_start=case((new_period, month), else_=Bot.quota_period_start),
        )
        .execution_options(synchronize_session=False)
    )
    if session.exec(statement).rowcount != 1:
        retry_after = math.ceil((next_month_start(now) - now).total_seconds())
        raise TooManyRequests(MONTHLY_LIMIT_REACHED, retry_after)


def refund(session: Session, bot_id: int) -> None:
    """Give back one message (the answer failed before anything was delivered)."""
    session.exec(
        update(Bot)
        .where(col(Bot.id) == bot_id, col(Bot.message_count) > 0)
        .values(message_count=Bot.message_count - 1)
        .execution_options(synchronize_session=False)
    )
