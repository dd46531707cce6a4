"""Retention: old conversations go with their messages, events and action runs; recent ones,
other workspaces and workspaces without retention are untouched; usage counters stay.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from chatapp.core.db import session_scope
from chatapp.core.errors import PermissionDenied, ValidationFailed
from chatapp.services.actions import run_log, store
from chatapp.services.chat import conversations
from chatapp.services.live import bus
from chatapp.services.models import (
    ActionRun,
    Conversation,
    ConversationEvent,
    Message,
    Role,
    UsageDaily,
    Workspace,
    utcnow,
)
from chatapp.services.ops import retention
from tests.utils.factories import make_tenant

NOW = utcnow()


def talk(session, tenant, session_id, age_days, action=None):
    """A conversation whose last message is `age_days` old, with an event and an action run."""
    conversation = conversations.find_or_create(session, tenant.bot, session_id, "widget")
    conversations.add_user_message(session, conversation, f"hello {session_id}", session_id)
    bus.publish(session, conversation, "message", {"n": 1})
    if action is not None:
        run_log.record(
            session,
            workspace_id=tenant.workspace.id,
            bot_id=tenant.bot.id,
            action_id=action.id,
            trigger="visitor",
            input={"email": f"{session_id}@example.com"},
            outcome="ok",
            conversation_id=conversation.id,
        )
    when = NOW - timedelta(days=age_days)
    session.refresh(conversation)
    conversation.last_message_at = when
    session.add(conversation)
    for message in session.exec(select(Message).where(Message.conversation_id == conversation.id)):
        message.created_at = when
        session.add(message)
    session.flush()
    return conversation.id


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def set_days(session, tenant, days):
    retention.set_retention(session, tenant.owner, days)


@pytest.fixture
def world(database_url):
    with session_scope() as session:
        a, b, c = (make_tenant(session, label) for label in "abc")
        action = store.create_action(session, a.owner, a.bot.id, kind="collect_lead")
        set_days(session, a, 30)
        set_days(session, b, 90)  # c: no retention
        ids = {
            "a_old": talk(session, a, "a-old", 31, action),
            "a_recent": talk(session, a, "a-recent", 29, action),
            "b_old": talk(session, b, "b-old", 91),
            "b_mid": talk(session, b, "b-mid", 60),
            "c_ancient": talk(session, c, "c-ancient", 3000),
        }
        session.add(UsageDaily(workspace_id=a.workspace.id, bot_id=a.bot.id, day=NOW.date()))
    return a, b, c, ids


def test_purge_deletes_old_conversations_only(world):
    a, b, _, ids = world
    report = retention.purge(now=NOW)
    assert (report.conversations, report.messages) == (2, 2)
    assert report.by_workspace == {a.workspace.id: 1, b.workspace.id: 1}
    gone = [ids["a_old"], ids["b_old"]]
    with session_scope() as session:
        left = set(session.exec(select(Conversation.id)))
        assert left == {ids["a_recent"], ids["b_mid"], ids["c_ancient"]}
        assert count(session, Message, Message.conversation_id.in_(gone)) == 0
        assert count(session, ConversationEvent, ConversationEvent.conversation_id.in_(gone)) == 0
        assert count(session, Message) == 3 and count(session, ConversationEvent) == 3
        assert [r.conversation_id for r in session.exec(select(ActionRun))] == [ids["a_recent"]]
        assert count(session, UsageDaily) == 1  # aggregates without personal data stay
    assert retention.purge(now=NOW).conversations == 0  # nothing left to do


def test_purge_works_in_batches(database_url, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    with session_scope() as session:
        a = make_tenant(session, "a")
        set_days(session, a, 1)
        for n in range(7):
            talk(session, a, f"old-{n}", 2)
        keep = talk(session, a, "new", 0)
    assert retention.purge(now=NOW).conversations == 7
    with session_scope() as session:
        assert list(session.exec(select(Conversation.id))) == [keep]


def test_no_retention_deletes_nothing(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        talk(session, a, "ancient", 3650)
    assert retention.purge(now=NOW).conversations == 0
    with session_scope() as session:
        assert count(session, Conversation) == 1


@pytest.mark.parametrize("typed", ["0", "3651", "-5", "ten", "1.5"])
def test_bad_retention_is_refused_and_changes_nothing(session, typed):
    a = make_tenant(session, "a")
    set_days(session, a, 30)
    with pytest.raises(ValidationFailed, match="days"):
        set_days(session, a, typed)
    assert session.get(Workspace, a.workspace.id).retention_days == 30


def test_empty_means_for_ever_and_only_managers_set_it(session):
    a = make_tenant(session, "a")
    retention.set_retention(session, a.admin, " 3650 ")
    assert session.get(Workspace, a.workspace.id).retention_days == 3650
    retention.set_retention(session, a.owner, "")
    assert session.get(Workspace, a.workspace.id).retention_days is None
    for role in (Role.AGENT, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            retention.set_retention(session, a.actor(role), 7)


def test_the_schedule_runs_once_an_hour(database_url):
    schedule = retention.Schedule()
    from chatapp.core.db import get_engine

    engine = get_engine()
    assert schedule.tick(engine, NOW) is not None
    assert schedule.tick(engine, NOW + timedelta(minutes=59)) is None
    assert schedule.tick(engine, NOW + timedelta(minutes=61)) is not None


def test_the_sweep_drops_expired_sessions_and_old_login_attempts(database_url):
    """The worker's hourly sweep also purges logins: expired sessions and attempts older than
    30 days go, a live session and a recent attempt stay."""
    from chatapp.core.db import get_engine
    from chatapp.services.models import AuthSession, LoginAttempt

    with session_scope() as session:
        a = make_tenant(session, "a")
        user_id = a.owner.user_id
        session.add(
            AuthSession(user_id=user_id, token_hash="e" * 64, expires_at=NOW - timedelta(minutes=1))
        )
        session.add(
            AuthSession(user_id=user_id, token_hash="l" * 64, expires_at=NOW + timedelta(hours=1))
        )
        session.add(LoginAttempt(email="old@example.com", created_at=NOW - timedelta(days=31)))
        session.add(LoginAttempt(email="new@example.com", created_at=NOW - timedelta(days=1)))
    report = retention.Schedule().tick(get_engine(), NOW)
    assert report is not None and report.sessions == 1
    with session_scope() as session:
        assert [s.token_hash for s in session.exec(select(AuthSession))] == ["l" * 64]
        assert [t.email for t in session.exec(select(LoginAttempt))] == ["new@example.com"]
