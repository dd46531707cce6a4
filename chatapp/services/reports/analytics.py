"""Usage figures for the Analytics section, aggregated by the database (GROUP BY), never in Python.

Everything is counted from the conversation and message tables themselves, so the figures agree
with what Activity lists. One call makes three aggregate queries (messages are scanned once) over
a date range of whole UTC days, for one bot or every bot of the workspace:

* totals: conversations started, messages sent (visitor, bot and agent), thumbs up/down, answers
  that fell back to the bot's fallback message ("unanswered"), and the average messages per
  conversation started in the range;
* conversations started per day (every day of the range, zeros included);
* visitor messages per hour of the day (UTC), for the busiest hours.

Days and hours are computed in UTC on both databases: PostgreSQL's `timestamptz` is converted with
`timezone('UTC', ...)` first, SQLite stores UTC text already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, case, cast, extract, func
from sqlmodel import Session, col, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.models import Bot, Conversation, Message

MAX_RANGE_DAYS = 366
COUNTED_ROLES = ("user", "assistant", "agent")  # system notes are not messages people sent


class RangeInvalid(ValidationFailed):
    """A date range people typed is wrong; `field` says which input to point at."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DateRange:
    """Whole UTC days from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def last(cls, days: int, today: date | None = None) -> DateRange:
        """The last `days` days, today included."""
        today = today or datetime.now(UTC).date()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00 UTC, the day after end 00:00 UTC): the half-open interval to filter on."""
        begin = datetime.combine(self.start, time.min, tzinfo=UTC)
        return begin, begin + timedelta(days=self.days)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]


def parse_range(start: str, end: str, today: date | None = None) -> DateRange:
    """A range from two `YYYY-MM-DD` inputs, with a message for the input that is wrong."""
    today = today or datetime.now(UTC).date()
    parsed: dict[str, date] = {}
    for field, value in (("start", start), ("end", end)):
        try:
            parsed[field] = date.fromisoformat((value or "").strip())
        except ValueError:
            raise RangeInvalid("Pick a date (YYYY-MM-DD).", field) from None
    if parsed["start"] > today:
        raise RangeInvalid("The start date is in the future.", "start")
    if parsed["end"] < parsed["start"]:
        raise RangeInvalid("The end date is before the start date.", "end")
    period = DateRange(parsed["start"], parsed["end"])
    if period.days > MAX_RANGE_DAYS:
        raise RangeInvalid(f"Choose at most {MAX_RANGE_DAYS} days.", "end")
    return period


@dataclass(frozen=True)
class Totals:
    conversations: int
    messages: int
    questions: int  # visitor messages
    answers: int  # bot answers
    unanswered: int  # answers that fell back
    thumbs_up: int
    thumbs_down: int
    messages_per_conversation: float  # average over the conversations started in the range

    @property
    def unanswered_share(self) -> float | None:
        return self.unanswered / self.answers if self.answers else None

    @property
    def thumbs_up_share(self) -> float | None:
        rated = self.thumbs_up + self.thumbs_down
        return self.thumbs_up / rated if rated else None


@dataclass(frozen=True)
class Report:
    period: DateRange
    totals: Totals
    conversations_per_day: list[tuple[date, int]]  # every day of the period
    questions_per_hour: list[int]  # 24 counts, index = UTC hour


def report(
    session: Session,
    actor: Actor,
    *,
    bot_id: int | None,
    period: DateRange,
    audience: str = "",
) -> Report:
    """The figures of one bot (or, with `bot_id=None`, of every bot of the actor's workspace),
    of one audience's conversations when `audience` is a key."""
    actor.require(Permission.READ)
    if bot_id is not None:
        get_scoped(session, actor, Bot, bot_id, "Bot")
    scope = _Scope(session, actor, bot_id, period)
    scope.audience = audience
    totals, per_hour = scope.totals_and_hours()
    return Report(
        period=period,
        totals=totals,
        conversations_per_day=scope.per_day(),
        questions_per_hour=per_hour,
    )


class _Scope:
    """The filters every query of one report shares: workspace, bot, time range."""

    def __init__(self, session: Session, actor: Actor, bot_id: int | None, period: DateRange):
        self.session = session
        self.actor = actor
        self.bot_id = bot_id
        self.period = period
        self.begin, self.stop = period.bounds()
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.audience = ""

    def _conversations(self, statement):
        statement = statement.where(Conversation.workspace_id == self.actor.workspace_id)
        if self.bot_id is not None:
            statement = statement.where(Conversation.bot_id == self.bot_id)
        if self.audience:
            statement = statement.where(Conversation.audience == self.audience)
        return statement

    def _messages(self, statement):
        statement = self._conversations(
            statement.join(Conversation, Conversation.id == Message.conversation_id)
        )
        return statement.where(
            Message.workspace_id == self.actor.workspace_id,
            Message.created_at >= self.begin,
            Message.created_at < self.stop,
            col(Message.role).in_(COUNTED_ROLES),
        )

    def _hour(self, column):
        """The UTC hour (0-23). SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS...' text: slicing it is
        twice as fast as strftime() over 100,000 rows."""
        if self.postgres:
            return extract("hour", func.timezone("UTC", column))
        return func.substr(column, 12, 2)

    def _day(self, column):
        """The UTC day: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
        if self.postgres:
            return cast(func.timezone("UTC", column), Date)
        return func.substr(column, 1, 10)

    def totals_and_hours(self) -> tuple[Totals, list[int]]:
        """Two queries: conversations, then messages grouped by UTC hour (one scan gives both the
        totals, summed from the 24 rows, and the visitor questions per hour)."""
        conversations, average = self.session.exec(
            self._conversations(
                select(func.count(), func.coalesce(func.avg(Conversation.message_count), 0.0))
            ).where(Conversation.started_at >= self.begin, Conversation.started_at < self.stop)
        ).one()
        hour = self._hour(Message.created_at)
        is_answer = Message.role == "assistant"
        rows = self.session.exec(
            self._messages(
                select(
                    hour.label("hour"),
                    func.count(),
                    _count_if(Message.role == "user"),
                    _count_if(is_answer),
                    _count_if(is_answer & (col(Message.fell_back).is_(True))),
                    _count_if(is_answer & (Message.feedback > 0)),
                    _count_if(is_answer & (Message.feedback < 0)),
                )
            ).group_by(hour)
        ).all()
        sums = [0] * 6
        questions_per_hour = [0] * 24
        for value, *counts in rows:
            counts = [int(count or 0) for count in counts]
            sums = [total + count for total, count in zip(sums, counts, strict=True)]
            questions_per_hour[int(value)] = counts[1]
        messages, questions, answers, unanswered, up, down = sums
        totals = Totals(
            conversations=int(conversations),
            messages=messages,
            questions=questions,
            answers=answers,
            unanswered=unanswered,
            thumbs_up=up,
            thumbs_down=down,
            messages_per_conversation=round(float(average or 0.0), 2),
        )
        return totals, questions_per_hour

    def per_day(self) -> list[tuple[date, int]]:
        day = self._day(Conversation.started_at)
        rows = self.session.exec(
            self._conversations(select(day.label("day"), func.count()))
            .where(Conversation.started_at >= self.begin, Conversation.started_at < self.stop)
            .group_by(day)
        ).all()
        counts = {_as_date(value): int(count) for value, count in rows}
        return [(day, counts.get(day, 0)) for day in self.period.each_day()]


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


def _as_date(value) -> date:
    """SQLite gives 'YYYY-MM-DD' text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def busiest_hours(per_hour: list[int], top: int = 3) -> list[int]:
    """The `top` hours with the most questions (earlier hour first on ties), none if all zero."""
    ranked = sorted(range(24), key=lambda hour: (-per_hour[hour], hour))
    return [hour for hour in ranked[:top] if per_hour[hour] > 0]
