"""Analytics aggregation on SQLite and PostgreSQL against seeded conversations whose figures are
computed here independently, by plain Python over the seed itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate, Conversation, Message, Role
from chatapp.services.reports import analytics
from chatapp.services.reports.analytics import DateRange, RangeInvalid, busiest_hours, parse_range
from tests.utils.factories import make_tenant
from tests.utils.handlers import run

START, END = date(2026, 3, 1), date(2026, 3, 10)
PERIOD = DateRange(START, END)


@dataclass(frozen=True)
class Turn:
    """A visitor question and the bot's answer one second later."""

    at: datetime
    fell_back: bool = False
    feedback: int = 0


@dataclass(frozen=True)
class Chat:
    bot: str  # "main", "other" (same workspace) or "foreign" (another workspace)
    started: datetime
    turns: tuple[Turn, ...]
    extra: tuple[tuple[str, datetime], ...] = ()  # (role, at) of agent or system messages


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


SEED = [
    Chat("main", at(1, 0, 0, 0), (Turn(at(1, 0, 0, 5)), Turn(at(1, 0, 1), True, -1))),
    Chat("main", at(1, 9), (Turn(at(1, 9, 1), feedback=1), Turn(at(1, 9, 2), feedback=1))),
    Chat(
        "main",
        at(3, 14),
        (Turn(at(3, 14, 1), True), Turn(at(3, 14, 5)), Turn(at(3, 15, 0), True, -1)),
        extra=(("agent", at(3, 15, 10)), ("system", at(3, 15, 11))),
    ),
    Chat("main", at(3, 14, 30), (Turn(at(3, 14, 31), feedback=1),)),
    Chat("main", at(10, 23, 59, 50), (Turn(at(10, 23, 59, 55)),)),  # answer at 23:59:56: inside
    # Started the day before the range; its messages on the first day count, it does not.
    Chat("main", at(28, 22, month=2), (Turn(at(28, 22, 1, month=2)), Turn(at(1, 9, 30), True))),
    # The day after the range: nothing of it counts.
    Chat("main", at(11, 0, 0, 0), (Turn(at(11, 0, 0, 1), True, -1),)),
    Chat("other", at(2, 9), (Turn(at(2, 9, 1), True), Turn(at(2, 9, 2), feedback=1))),
    Chat("foreign", at(2, 9), (Turn(at(2, 9, 1), True, -1),)),
]


def seed(session, tenants) -> None:
    """Store SEED as rows (a visitor question at `turn.at`, its answer one second later)."""
    for number, chat in enumerate(SEED):
        tenant, bot_id = tenants[chat.bot]
        conversation = Conversation(
            workspace_id=tenant.workspace.id,
            bot_id=bot_id,
            session_id=f"visitor-{number:04d}",
            started_at=chat.started,
            last_message_at=chat.started,
            message_count=len(chat.turns) * 2 + len(chat.extra),
        )
        session.add(conversation)
        session.flush()

        for turn in chat.turns:
            add_message(session, conversation, "user", turn.at)
            add_message(
                session,
                conversation,
                "assistant",
                turn.at + timedelta(seconds=1),
                fell_back=turn.fell_back,
                feedback=turn.feedback,
            )
        for role, when in chat.extra:
            add_message(session, conversation, role, when)
    session.flush()


def add_message(session, conversation, role, when, **values) -> None:
    session.add(
        Message(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            role=role,
            content=f"{role} at {when.isoformat()}",
            created_at=when,
            **values,
        )
    )


def expected(bots_in_scope: set[str], period: DateRange) -> dict:
    """The report's figures computed from SEED alone."""
    begin = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    stop = begin + timedelta(days=period.days)
    inside = lambda when: begin <= when < stop  # noqa: E731
    chats = [chat for chat in SEED if chat.bot in bots_in_scope]
    started = [chat for chat in chats if inside(chat.started)]
    questions = [t.at for c in chats for t in c.turns if inside(t.at)]
    answers = [t for c in chats for t in c.turns if inside(t.at + timedelta(seconds=1))]
    extra = [role for c in chats for role, when in c.extra if inside(when) and role != "system"]
    per_day = {day: 0 for day in period.each_day()}
    for chat in started:
        per_day[chat.started.date()] += 1
    per_hour = [0] * 24
    for when in questions:
        per_hour[when.hour] += 1
    sizes = [len(c.turns) * 2 + len(c.extra) for c in started]
    return {
        "conversations": len(started),
        "messages": len(questions) + len(answers) + len(extra),
        "questions": len(questions),
        "answers": len(answers),
        "unanswered": sum(t.fell_back for t in answers),
        "thumbs_up": sum(t.feedback > 0 for t in answers),
        "thumbs_down": sum(t.feedback < 0 for t in answers),
        "messages_per_conversation": round(sum(sizes) / len(sizes), 2) if sizes else 0.0,
        "per_day": list(per_day.items()),
        "per_hour": per_hour,
    }


@pytest.fixture
def world(database_url):
    """Workspace A with bots "main" and "other", workspace B with "foreign"; SEED stored."""
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        other = bots.create_bot(session, a.owner, BotCreate(name="Other bot"))
        tenants = {"main": (a, a.bot.id), "other": (a, other.id), "foreign": (b, b.bot.id)}
        seed(session, tenants)
    return tenants


def run_report(tenants, scope="main", period=PERIOD, role=Role.VIEWER, timezone=None):
    tenant, bot_id = tenants["main" if scope == "workspace" else scope]
    with session_scope() as session:
        if timezone and session.get_bind().dialect.name == "postgresql":
            # Days and hours must be UTC whatever the connection's time zone.
            session.execute(text(f"SET TIME ZONE '{timezone}'"))
        return analytics.report(
            session,
            tenant.actor(role),
            bot_id=None if scope == "workspace" else bot_id,
            period=period,
        )


def figures(report) -> dict:
    totals = report.totals
    return {
        "conversations": totals.conversations,
        "messages": totals.messages,
        "questions": totals.questions,
        "answers": totals.answers,
        "unanswered": totals.unanswered,
        "thumbs_up": totals.thumbs_up,
        "thumbs_down": totals.thumbs_down,
        "messages_per_conversation": totals.messages_per_conversation,
        "per_day": report.conversations_per_day,
        "per_hour": report.questions_per_hour,
    }


def test_one_bot_report_matches_the_seed(world):
    report = run_report(world, timezone="Pacific/Auckland")
    want = expected({"main"}, PERIOD)
    assert figures(report) == want
    # The seed's own figures, spelled out, so a wrong `expected` cannot hide a wrong report.
    assert want["conversations"] == 5
    assert want["questions"] == 10 and want["answers"] == 10 and want["messages"] == 21
    assert want["unanswered"] == 4 and want["thumbs_up"] == 3 and want["thumbs_down"] == 2
    assert report.totals.unanswered_share == pytest.approx(4 / 10)
    assert report.totals.thumbs_up_share == pytest.approx(3 / 5)
    assert report.conversations_per_day[0] == (date(2026, 3, 1), 2)
    assert report.conversations_per_day[-1] == (date(2026, 3, 10), 1)
    assert len(report.conversations_per_day) == 10
    assert report.questions_per_hour[14] == 3 and report.questions_per_hour[23] == 1


def test_whole_workspace_adds_its_other_bots_but_never_another_workspace(world):
    report = run_report(world, scope="workspace")
    assert figures(report) == expected({"main", "other"}, PERIOD)
    assert report.totals.conversations == 6


def test_another_workspace_sees_only_its_own(world):
    report = run_report(world, scope="foreign")
    assert figures(report) == expected({"foreign"}, PERIOD)
    assert report.totals.conversations == 1


def test_a_bot_of_another_workspace_is_not_found(world):
    a, _ = world["main"]
    _, foreign_bot = world["foreign"]
    with session_scope() as session, pytest.raises(NotFound):
        analytics.report(session, a.owner, bot_id=foreign_bot, period=PERIOD)


@pytest.mark.parametrize(
    "period",
    [DateRange(date(2026, 3, 3), date(2026, 3, 3)), DateRange(date(2026, 2, 20), date(2026, 3, 1))],
)
def test_the_range_bounds_are_whole_utc_days(world, period):
    assert figures(run_report(world, period=period)) == expected({"main"}, period)


def test_an_empty_range_gives_zeros_and_no_ratios(world):
    period = DateRange(date(2025, 1, 1), date(2025, 1, 7))
    report = run_report(world, period=period)
    assert report.totals.conversations == 0 and report.totals.messages == 0
    assert report.totals.unanswered_share is None and report.totals.thumbs_up_share is None
    assert report.conversations_per_day == [(day, 0) for day in period.each_day()]


def test_parse_range_points_at_the_wrong_input():
    today = date(2026, 3, 10)
    assert parse_range("2026-03-01", "2026-03-10", today) == PERIOD
    cases = {
        ("", "2026-03-10"): ("start", "Pick a date"),
        ("2026-03-01", "tomorrow"): ("end", "Pick a date"),
        ("2026-03-11", "2026-03-12"): ("start", "future"),
        ("2026-03-05", "2026-03-01"): ("end", "before the start"),
        ("2024-01-01", "2026-03-01"): ("end", "at most 366 days"),
    }
    for (start, end), (field, words) in cases.items():
        with pytest.raises(RangeInvalid) as error:
            parse_range(start, end, today)
        assert error.value.field == field and words in error.value.message


def test_busiest_hours_rank_by_count_then_hour():
    per_hour = [0] * 24
    per_hour[14], per_hour[9], per_hour[20], per_hour[3] = 5, 7, 5, 1
    assert busiest_hours(per_hour) == [9, 14, 20]
    assert busiest_hours([0] * 24) == []


# --- the page state over the same seed ---------------------------------------------------------


def page_state(tenants, role: Role):
    """The Analytics page state of a member logged in as in a browser (a real session token)."""
    import reflex as rx

    from chatapp.services.accounts import auth
    from chatapp.state.analytics import AnalyticsState
    from tests.utils.dashboard_login import sign_in
    from tests.utils.factories import PASSWORD

    tenant, bot_id = tenants["main"]
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(AnalyticsState.get_full_name().split(".")[1:])
    with session_scope() as session:
        email = tenant.actor(role).email
        sign_in(state, auth.login(session, email=email, password=PASSWORD).token)
    state.workspace_id, state.chosen_bot = str(tenant.workspace.id), str(bot_id)
    state.role = role.value
    run(state.load_bots())
    assert state.bot_id == bot_id
    return state


def test_the_page_state_shows_the_report_of_the_chosen_range(world):
    state = page_state(world, Role.VIEWER)
    run(state.apply_range({"start": "2026-03-01", "end": "2026-03-10"}))
    run(state.load())
    want = expected({"main"}, PERIOD)
    assert state.loaded and state.preset == "custom"
    assert (state.conversations, state.messages) == (want["conversations"], want["messages"])
    assert state.per_conversation == f"{want['messages_per_conversation']:g}"
    assert state.unanswered_share == "40%" and state.satisfaction == "60%"
    assert state.daily_figure["data"][0]["y"] == [count for _, count in want["per_day"]]
    assert state.daily_figure["data"][0]["x"][0] == "2026-03-01"
    assert state.hours_figure["data"][0]["y"] == want["per_hour"]
    assert state.busiest == "09:00, 14:00, 00:00"  # 3, 3 and 2 questions

    run(state.choose_scope("workspace"))
    run(state.load())
    assert state.conversations == expected({"main", "other"}, PERIOD)["conversations"]


def test_the_page_state_says_which_date_is_wrong(world):
    state = page_state(world, Role.VIEWER)
    run(state.apply_range({"start": "2026-03-10", "end": "2026-03-01"}))
    assert state.end_error == "The end date is before the start date." and state.start_error == ""
    run(state.apply_range({"start": "", "end": "2026-03-01"}))
    assert state.start_error.startswith("Pick a date") and state.end_error == ""
    assert state.preset == "30"  # the range shown did not change


def test_the_qa_dialog_checks_its_fields_and_respects_roles(world):
    from sqlmodel import select

    from chatapp.services.models import Source

    def qa_sources():
        with session_scope() as session:
            return session.exec(select(Source).where(Source.kind == "qa")).all()

    viewer = page_state(world, Role.VIEWER)
    viewer.open_qa("Do you sell gift cards?")
    assert viewer.qa_open and viewer.qa_question == "Do you sell gift cards?"
    run(viewer.save_qa())
    assert "question and its answer" in viewer.qa_answer_error and viewer.qa_question_error == ""
    viewer.set_qa_answer("Yes, from 10 euros.")
    events = run(viewer.save_qa())
    assert "not allowed" in str(events) and viewer.qa_open  # a toast; the dialog stays open
    assert qa_sources() == []

    admin = page_state(world, Role.ADMIN)
    admin.open_qa("Do you sell gift cards?")
    admin.set_qa_answer("Yes, from 10 euros.")
    run(admin.save_qa())
    assert not admin.qa_open
    [source] = qa_sources()
    assert source.meta == {"question": "Do you sell gift cards?", "answer": "Yes, from 10 euros."}
    assert source.bot_id == world["main"][1]
