"""The Analytics page's state: the chosen range and scope, the figures, the missing-content report
and the dialog that turns an unanswered question into a Q&A source.

Figures come from `services.analytics` in one quick call (`load`). The missing-content report
embeds questions, which can take seconds the first time on a large bot, so it is computed in a
background event, in a worker thread, after the figures are on screen.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC

import reflex as rx

from chatapp.core.db import session_scope
from chatapp.core.errors import ServiceError
from chatapp.core.schemas import field_errors
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bots
from chatapp.services.knowledge import schemas, sources
from chatapp.services.live import inbox
from chatapp.services.reports import analytics, missing_content
from chatapp.services.reports.analytics import DateRange, RangeInvalid
from chatapp.state import calls
from chatapp.state.bot_scope import BotScopeState

PRESETS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "365": "Last 365 days"}
CUSTOM = "custom"
DEFAULT_PRESET = "30"
ACCENT = "#4f46e5"


@dataclasses.dataclass
class GroupRow:
    """One group of the missing-content report as the page shows it."""

    question: str
    count: int
    last_asked: str
    examples: str
    covered: bool


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{round(100 * share)}%"


def duration(seconds: float | None) -> str:
    """A median wait as people say it: 45 s, 3 min, 2.5 h."""
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


def bar_figure(x: list, y: list[int], *, x_axis: dict) -> dict:
    """A small plotly bar chart as plain JSON (no template: the component adds the theme)."""
    return {
        "data": [{"type": "bar", "x": x, "y": y, "marker": {"color": ACCENT}}],
        "layout": {
            "height": 240,
            "autosize": True,
            "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
            "xaxis": x_axis,
            "yaxis": {"rangemode": "tozero", "fixedrange": True},
            "bargap": 0.15,
        },
    }


DAYS_AXIS = {"type": "date", "fixedrange": True}
HOURS_AXIS = {
    "title": {"text": "hour of day (UTC)"},
    "tickmode": "linear",
    "tick0": 0,
    "dtick": 3,
    "ticksuffix": ":00",
    "range": [-0.5, 23.5],
    "fixedrange": True,
}


def _groups(actor: Actor, bot_id: int, period: DateRange) -> list[GroupRow]:
    """The report for the page (runs in a worker thread: embedding is CPU work)."""
    with session_scope() as session:
        found = missing_content.missing_content(session, actor, bot_id=bot_id, period=period)
    return [
        GroupRow(
            question=group.question,
            count=group.count,
            last_asked=group.last_asked.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            examples=" · ".join(group.examples),
            covered=group.covered,
        )
        for group in found
    ]


def _figures(session, actor, *, bot_id: int, scope: str, wanted: str, period: DateRange):
    """The bot's audiences, the audience shown (a gone one means all), the report and the
    hand-off figures: one session, in the worker thread."""
    defined = bots.get_bot(session, actor, bot_id).audiences or []
    audience = wanted if wanted in {a["key"] for a in defined} else ""
    scoped = None if scope == "workspace" else bot_id
    since, until = period.bounds()
    report = analytics.report(session, actor, bot_id=scoped, period=period, audience=audience)
    handoffs = inbox.stats(
        session, actor, bot_id=scoped, since=since, until=until, audience=audience
    )
    return defined, audience, report, handoffs


class AnalyticsState(BotScopeState):
    preset: str = DEFAULT_PRESET
    start: str = ""  # YYYY-MM-DD, the range shown (and typed in the custom inputs)
    end: str = ""
    start_error: str = ""
    end_error: str = ""
    scope: str = "bot"  # "bot" or "workspace" (every bot of the workspace)
    audience: str = "all"  # "all" or an audience key of the current bot (seed 003)
    audience_options: list[list[str]] = []  # [key, label]

    loaded: bool = False
    conversations: int = 0
    messages: int = 0
    per_conversation: str = "0"
    thumbs_up: int = 0
    thumbs_down: int = 0
    satisfaction: str = "n/a"
    answers: int = 0
    unanswered: int = 0
    unanswered_share: str = "n/a"
    busiest: str = ""
    handoffs: int = 0
    first_reply: str = "n/a"  # median time from asking for a person to the first human reply
    resolution: str = "n/a"  # ... to resolution
    handoff_note: str = ""
    daily_figure: dict = {}
    hours_figure: dict = {}

    groups: list[GroupRow] = []
    missing_status: str = "idle"  # idle, loading, ready, error
    _missing_ticket: int = 0

    qa_open: bool = False
    qa_question: str = ""
    qa_answer: str = ""
    qa_question_error: str = ""
    qa_answer_error: str = ""

    # --- loading ------------------------------------------------------------------------------

    def _period(self) -> DateRange:
        try:
            return analytics.parse_range(self.start, self.end)
        except RangeInvalid:
            period = DateRange.last(int(DEFAULT_PRESET))
            self.preset, self.start, self.end = (
                DEFAULT_PRESET,
                *map(str, (period.start, period.end)),
            )
            return period

    @rx.event
    async def load(self):
        """on_load (after the bot is known): the figures now, the missing-content report next.

        Figures shown before (another bot, another range) are hidden first, so what is on screen
        always matches the controls.
        """
        if self.preset != CUSTOM:
            period = DateRange.last(int(self.preset))
            self.start, self.end = str(period.start), str(period.end)
        if not self.has_bot:
            return
        if self.loaded:  # hide the figures of before until the new ones are in
            self.loaded = False
            yield
        period = self._period()  # on the loop: a wrong range resets the controls
        asked = {"bot_id": self.bot_id, "scope": self.scope, "wanted": self.audience}
        done = await calls.as_member(self, lambda s, a: _figures(s, a, period=period, **asked))
        if not done.ok:
            yield done.toast
            return
        defined, audience, report, handoffs = done.value
        self.audience_options = [[a["key"], a["label"]] for a in defined]
        self.audience = audience or "all"
        self._show(report)
        self._show_handoffs(handoffs)
        yield AnalyticsState.load_missing

    def _show_handoffs(self, figures: dict) -> None:
        self.handoffs = figures["handoffs"]
        self.first_reply = duration(figures["first_reply_seconds"])
        self.resolution = duration(figures["resolution_seconds"])
        self.handoff_note = (
            f"{figures['replied']} answered by a person, {figures['resolved']} resolved"
        )

    def _show(self, report: analytics.Report) -> None:
        totals = report.totals
        self.conversations, self.messages = totals.conversations, totals.messages
        self.per_conversation = f"{totals.messages_per_conversation:g}"
        self.thumbs_up, self.thumbs_down = totals.thumbs_up, totals.thumbs_down
        self.satisfaction = percent(totals.thumbs_up_share)
        self.answers, self.unanswered = totals.answers, totals.unanswered
        self.unanswered_share = percent(totals.unanswered_share)
        hours = analytics.busiest_hours(report.questions_per_hour)
        self.busiest = ", ".join(hour_label(hour) for hour in hours)
        days = report.conversations_per_day
        self.daily_figure = bar_figure(
            [str(day) for day, _ in days], [count for _, count in days], x_axis=DAYS_AXIS
        )
        self.hours_figure = bar_figure(
            list(range(24)), report.questions_per_hour, x_axis=HOURS_AXIS
        )
        self.loaded = True

    @rx.event(background=True)
    async def load_missing(self):
        """Compute the missing-content report off the event loop; the newest request wins."""
        async with self:
            self._missing_ticket += 1
            ticket = self._missing_ticket
            self.missing_status = "loading"
            bot_id, period, who = self.bot_id, self._period(), self._who()
        try:
            actor = await calls.off_loop(calls.member, who)
        except ServiceError as error:
            async with self:
                self.missing_status = "error"
            yield rx.toast.error(error.message)
            return
        rows: list[GroupRow] | None = None
        problem = ""
        try:
            rows = await asyncio.to_thread(_groups, actor, bot_id, period)
        except ServiceError as error:
            problem = error.message
        finally:  # whatever happened, the page stops saying "Grouping questions..."
            async with self:
                if ticket == self._missing_ticket:
                    self.groups = rows if rows is not None else []
                    self.missing_status = "ready" if rows is not None else "error"
        if problem:
            yield rx.toast.error(problem)

    # --- range and scope ----------------------------------------------------------------------

    @rx.event
    def choose_preset(self, value: str):
        self.preset = value if value in PRESETS or value == CUSTOM else DEFAULT_PRESET
        self.start_error = self.end_error = ""
        if self.preset == CUSTOM:
            return None  # wait for the dates
        return AnalyticsState.load

    @rx.event
    def apply_range(self, form: dict):
        """The custom range form: say which date is wrong next to it, or show that range."""
        self.start_error = self.end_error = ""
        start, end = str(form.get("start", "")), str(form.get("end", ""))
        try:
            period = analytics.parse_range(start, end)
        except RangeInvalid as error:
            if error.field == "start":
                self.start_error = error.message
            else:
                self.end_error = error.message
            return None
        self.preset = CUSTOM
        self.start, self.end = str(period.start), str(period.end)
        return AnalyticsState.load

    @rx.event
    def choose_scope(self, value: str):
        self.scope = "workspace" if value == "workspace" else "bot"
        return AnalyticsState.load

    @rx.event
    def choose_audience(self, value: str):
        self.audience = value or "all"
        return AnalyticsState.load

    # --- adding a Q&A from the report -----------------------------------------------------------

    @rx.event
    def open_qa(self, question: str):
        self.qa_question, self.qa_answer = question, ""
        self.qa_question_error = self.qa_answer_error = ""
        self.qa_open = True

    @rx.event
    def set_qa_open(self, value: bool):
        self.qa_open = value

    @rx.event
    def set_qa_question(self, value: str):
        self.qa_question = value
        self.qa_question_error = ""

    @rx.event
    def set_qa_answer(self, value: str):
        self.qa_answer = value
        self.qa_answer_error = ""

    @rx.event
    async def save_qa(self, form: dict | None = None):
        """Check both fields, then queue the Q&A source (it goes through the knowledge pipeline)."""
        question, answer = self.qa_question.strip(), self.qa_answer.strip()
        errors = field_errors(schemas.QaIn, question=question, answer=answer)
        self.qa_question_error = errors.get("question", "")
        self.qa_answer_error = errors.get("answer", "")
        if self.qa_question_error or self.qa_answer_error:
            return None
        bot_id = self.bot_id
        done = await calls.as_member(
            self, lambda s, a: sources.add_qa(s, a, bot_id, question=question, answer=answer)
        )
        if not done.ok:
            return done.toast
        self.qa_open = False
        return [
            rx.toast.success("Answer added: the bot learns it in a moment (see Sources)."),
            AnalyticsState.load_missing,
        ]
