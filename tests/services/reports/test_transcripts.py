"""Whole conversations by page (transcripts.py): Activity's page with every message, in three
statements whatever the page's size; several channels at once; empty past the last page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from chatapp.core.errors import ValidationFailed
from chatapp.services.reports import activity
from chatapp.services.reports.activity import ActivityFilter
from chatapp.services.reports.transcripts import transcripts
from tests.services.reports.test_activity import talk
from tests.utils.factories import make_tenant


@pytest.fixture
def tenants(session):
    return make_tenant(session, "a"), make_tenant(session, "b")


def test_a_page_of_conversations_comes_with_every_message(session, tenants, engine):
    a, b = tenants
    start = datetime(2026, 2, 1, tzinfo=UTC)
    made = {
        channel: talk(session, a.bot, f"from {channel}", channel=channel, when=start + delta)
        for channel, delta in (
            ("widget", timedelta(minutes=1)),
            ("chatbase", timedelta(minutes=2)),
            ("openai", timedelta(minutes=3)),
        )
    }
    talk(session, b.bot, "b's question", channel="chatbase")
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    apis = ActivityFilter(bot_id=a.bot.id, channels=("chatbase", "openai"))
    session.flush()
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = transcripts(session, a.viewer, apis, page=1, page_size=10)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 4, statements  # bot check, count, page, messages: none per row
    assert [t.row.id for t in page] == [made["openai"].id, made["chatbase"].id]
    assert [(m.role, m.content) for m in page[1].messages] == [
        ("user", "from chatbase"),
        ("assistant", "Here is the answer [1]."),
    ]
    assert all(m.created_at.tzinfo is not None for t in page for m in t.messages)
    everything = transcripts(session, a.owner, ActivityFilter(), page=1, page_size=10)
    assert {t.row.id for t in everything} == {c.id for c in made.values()}  # never b's


def test_pages_run_out_instead_of_repeating_the_last(session, tenants):
    a, _ = tenants
    start = datetime(2026, 2, 1, tzinfo=UTC)
    made = [talk(session, a.bot, f"q{i}", when=start + timedelta(minutes=i)).id for i in range(3)]
    pages = [
        [t.row.id for t in transcripts(session, a.owner, ActivityFilter(), page=n, page_size=2)]
        for n in (1, 2, 3)
    ]
    assert pages == [made[:0:-1], made[:1], []]


def test_channels_that_mean_nothing_are_refused(session, tenants):
    a, _ = tenants
    with pytest.raises(ValidationFailed, match="Channel must be"):
        activity.list_conversations(session, a.owner, ActivityFilter(channels=("sms",)))
