"""Live handoff on SQLite and PostgreSQL: every trigger, the take race with real threads, the bot
silent while a person handles the conversation, times, hours, the wait limit, tenant isolation."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from chatapp.core.db import session_scope
from chatapp.core.errors import Conflict, NotFound, PermissionDenied
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.bots import bots
from chatapp.services.live import agents, handoff, inbox
from chatapp.services.models import Bot, Conversation, Message, Role
from tests.utils.factories import PASSWORD, Tenant, make_tenant
from tests.utils.handoff import add_action, conversation, stored_events
from tests.utils.knowledge import collect, new_session_id


@dataclass
class Desk:
    tenant: Tenant
    key: str

    @property
    def public_id(self) -> str:
        return self.tenant.bot.public_id

    def ask(self, message: str, session_id: str):
        return collect(self, message, session_id)


def make_desk(label: str, **config) -> Desk:
    """A bot with no knowledge (every question falls back) and a handoff action."""
    with session_scope() as session:
        tenant = make_tenant(session, label)
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", **config)
    return Desk(tenant, key)


@pytest.fixture
def desk(database_url):
    return make_desk("a")


def done(events):
    return [e for e in events if e.type == "done"][-1].data


def conversation_for(desk: Desk, session_id: str) -> Conversation:
    with session_scope() as session:
        return session.exec(select(Conversation).where(Conversation.session_id == session_id)).one()


def button(desk: Desk, session_id: str) -> tuple[handoff.HandoffOutcome, int]:
    desk.ask("hello there", session_id)
    with session_scope() as session:
        row = conversation_for(desk, session_id)
        return handoff.request(session, row, reason="button"), row.id


def quota_used(desk: Desk) -> int:
    with session_scope() as session:
        return session.get(Bot, desk.tenant.bot.id).message_count


def test_button_makes_the_conversation_pending_and_announces_it(desk):
    outcome, cid = button(desk, new_session_id())
    assert outcome == handoff.HandoffOutcome("pending", "Connecting you with our team.", False)
    row = conversation(cid)
    assert row.status == "pending" and row.handoff_reason == "button"
    assert row.handoff_at is not None and row.assigned_at is None
    events = stored_events(cid, desk.tenant.workspace.id)
    assert [(e.type, e.data["status"]) for e in events] == [("status", "pending")]
    with session_scope() as session:  # asking again changes nothing and announces nothing
        again = handoff.request(session, conversation(cid), reason="button")
    assert again.status == "pending"
    assert len(stored_events(cid, desk.tenant.workspace.id)) == 1


def test_phrase_asks_for_a_person_without_a_bot_answer_or_quota(desk):
    session_id = new_session_id()
    events = desk.ask("Can I talk to a HUMAN please?", session_id)
    assert [e.type for e in events] == ["token"] * (len(events) - 3) + [
        "sources",
        "action",
        "done",
    ]
    answer = "".join(e.data["content"] for e in events if e.type == "token")
    assert answer == "Connecting you with our team."
    action = next(e for e in events if e.type == "action").data
    assert action["kind"] == "handoff" and action["status"] == "pending"
    assert done(events)["conversation_status"] == "pending"
    assert done(events)["handled_by"] == "bot"
    row = conversation_for(desk, session_id)
    assert row.status == "pending" and row.handoff_reason == "phrase"
    assert quota_used(desk) == 0
    with session_scope() as session:
        stored = session.exec(select(Message).where(Message.role == "assistant")).one()
        assert stored.actions[0]["kind"] == "handoff"


def test_fallbacks_in_a_row_ask_for_a_person(desk):
    session_id = new_session_id()
    first = desk.ask("What is the airspeed of a swallow?", session_id)
    assert not done(first)["answered"] and not [e for e in first if e.type == "action"]
    assert conversation_for(desk, session_id).fallback_streak == 1
    second = desk.ask("And the capital of Mongolia?", session_id)
    action = [e.data for e in second if e.type == "action"]
    assert action and action[0]["status"] == "pending"
    assert done(second)["conversation_status"] == "pending"
    row = conversation_for(desk, session_id)
    assert row.status == "pending" and row.handoff_reason == "fallbacks"


def test_an_answer_resets_the_fallback_streak(database_url):
    from tests.utils.knowledge import make_shop

    shop = make_shop("s")
    add_action(shop.bot_id, shop.tenant.workspace.id, "handoff", fallback_threshold=2)
    session_id = new_session_id()
    collect(shop, "What is the airspeed of a swallow?", session_id)
    assert conversation_for(shop, session_id).fallback_streak == 1
    collect(shop, "What are your opening hours?", session_id)
    assert conversation_for(shop, session_id).fallback_streak == 0
    events = collect(shop, "Who won the 1998 world cup?", session_id)
    assert not [e for e in events if e.type == "action"]
    assert conversation_for(shop, session_id).status == "bot"


def test_the_model_or_a_rule_can_request_a_handoff(desk):
    desk.ask("hello", session_id := new_session_id())
    with session_scope() as session:
        outcome = handoff.request(session, conversation_for(desk, session_id), reason="model")
    assert outcome.status == "pending"
    assert conversation_for(desk, session_id).handoff_reason == "model"


def test_without_a_handoff_action_or_outside_hours_the_lead_form_is_offered(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "n")
        row = Conversation(workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, session_id="s1")
        session.add(row)
        session.flush()
        outcome = handoff.request(session, row, reason="button")
        assert outcome.status == "unavailable" and not outcome.offer_lead_form
        assert row.status == "bot"
    # Open Monday 09:00-17:00 in Paris only; a lead form exists.
    hours = {"timezone": "Europe/Paris", "days": {"mon": ["09:00", "17:00"]}}
    add_action(tenant.bot.id, tenant.workspace.id, "handoff", hours=hours)
    add_action(tenant.bot.id, tenant.workspace.id, "collect_lead", title="Leave your details")
    monday_night = datetime(2025, 3, 3, 20, 0, tzinfo=UTC)  # 21:00 in Paris
    monday_morning = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)  # 10:30 in Paris
    sunday = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
    with session_scope() as session:
        row = session.get(Conversation, row.id)
        for closed in (monday_night, sunday):
            outcome = handoff.request(session, row, reason="button", now=closed)
            assert outcome == handoff.HandoffOutcome(
                "unavailable", "We are closed now; leave your details.", True
            )
        assert session.get(Conversation, row.id).status == "bot"
        assert handoff.request(session, row, reason="button", now=monday_morning).status == (
            "pending"
        )


def test_take_race_has_exactly_one_winner(desk, database_url):
    _, cid = button(desk, new_session_id())
    actors = [desk.tenant.owner, desk.tenant.admin, desk.tenant.agent]
    with session_scope() as session:
        for n in range(5):
            view = workspaces.add_member(
                session,
                desk.tenant.owner,
                email=f"agent{n}@example.com",
                role=Role.AGENT,
                password=PASSWORD,
            )
            actors.append(
                actor_for(session, user_id=view.user_id, workspace_id=desk.tenant.workspace.id)
            )
    barrier = threading.Barrier(len(actors))
    results: list[object] = [None] * len(actors)

    def take(n):
        barrier.wait()
        try:
            with session_scope() as session:
                results[n] = agents.take(session, actors[n], cid).assigned_user_id
        except Exception as exc:  # collected and checked below
            results[n] = exc

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(actors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in losers), results
    assert all("is already handling this conversation" in r.message for r in losers)
    row = conversation(cid)
    assert row.status == "assigned" and row.assigned_user_id == winners[0]
    statuses = [e.data["status"] for e in stored_events(cid, desk.tenant.workspace.id)]
    assert statuses == ["pending", "assigned"]


def test_bot_is_silent_while_assigned_and_times_are_kept(desk):
    session_id = new_session_id()
    _, cid = button(desk, session_id)
    before = quota_used(desk)
    with session_scope() as session:
        agents.take(session, desk.tenant.agent, cid)
    events = desk.ask("Are you there?", session_id)
    assert [e.type for e in events] == ["done"]
    assert done(events)["handled_by"] == "human"
    assert done(events)["conversation_status"] == "assigned"
    assert quota_used(desk) == before
    with session_scope() as session:
        roles = session.exec(
            select(Message.role).where(Message.conversation_id == cid).order_by(Message.id)
        ).all()
        assert roles[-1] == "user"  # stored, not answered
        first = agents.reply(session, desk.tenant.agent, cid, "  Hi, I'm Ana.  ")
        second = agents.reply(session, desk.tenant.agent, cid, "How can I help?")
        assert first.role == "agent" and first.user_id == desk.tenant.agent.user_id
    row = conversation(cid)
    assert row.first_human_reply_at == first.created_at  # set once, by the first reply
    assert second.created_at >= row.first_human_reply_at
    messages = [e.data for e in stored_events(cid, desk.tenant.workspace.id) if e.type == "message"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Are you there?"),
        ("agent", "Hi, I'm Ana."),
        ("agent", "How can I help?"),
    ]
    with session_scope() as session:
        agents.resolve(session, desk.tenant.agent, cid)
    row = conversation(cid)
    assert row.status == "resolved" and row.resolved_at >= row.first_human_reply_at
    with session_scope() as session:
        stats = inbox.stats(session, desk.tenant.owner)
    assert stats["handoffs"] == 1 and stats["replied"] == 1 and stats["resolved"] == 1
    assert stats["first_reply_seconds"] >= 0 and stats["resolution_seconds"] >= 0
    # Analytics asks for a period (and an audience): the handoff counts where it was asked for.
    asked = row.handoff_at if row.handoff_at.tzinfo else row.handoff_at.replace(tzinfo=UTC)
    with session_scope() as session:
        inside = inbox.stats(
            session, desk.tenant.owner, since=asked, until=asked + timedelta(seconds=1)
        )
        before_it = inbox.stats(session, desk.tenant.owner, until=asked)
        other_audience = inbox.stats(session, desk.tenant.owner, audience="recruiter")
    assert inside["handoffs"] == 1 and inside["resolved"] == 1
    assert before_it["handoffs"] == 0 and other_audience["handoffs"] == 0
    # Resolved: the bot answers again (and counts it).
    after = desk.ask("One more question?", session_id)
    assert done(after)["handled_by"] == "bot" and quota_used(desk) == before + 1


def test_release_gives_the_conversation_back_to_the_bot(desk):
    session_id = new_session_id()
    _, cid = button(desk, session_id)
    with session_scope() as session:
        agents.take(session, desk.tenant.agent, cid)
        with pytest.raises(Conflict, match="is handling this conversation"):
            agents.reply(session, desk.tenant.admin, cid, "me too")
        agents.release(session, desk.tenant.agent, cid)
    row = conversation(cid)
    assert row.status == "bot" and row.assigned_user_id is None
    assert done(desk.ask("hello again", session_id))["handled_by"] == "bot"
    with session_scope() as session, pytest.raises(Conflict):
        agents.release(session, desk.tenant.agent, cid)


def test_pending_past_the_wait_offers_the_lead_form_once(desk):
    add_action(desk.tenant.bot.id, desk.tenant.workspace.id, "collect_lead", title="Details")
    _, cid = button(desk, new_session_id())
    row = conversation(cid)
    early = row.handoff_at + timedelta(minutes=4)
    late = row.handoff_at + timedelta(minutes=6)
    with session_scope() as session:
        assert not handoff.offer_after_wait(session, conversation(cid), now=early)
        assert handoff.offer_after_wait(session, conversation(cid), now=late)
        assert not handoff.offer_after_wait(session, conversation(cid), now=late)
    offers = [e.data for e in stored_events(cid, desk.tenant.workspace.id) if e.type == "action"]
    assert len(offers) == 1
    offer = offers[0]
    assert {k: v for k, v in offer.items() if k != "fields"} == {
        "kind": "lead_form",
        "reason": "no_agent",
        "message": "We are closed now; leave your details.",
        "title": "Details",
    }
    assert [f["name"] for f in offer["fields"]] == ["name", "email", "phone", "message"]


def test_agents_only_and_tenants_never_see_each_other(desk):
    other = make_desk("b")
    _, cid = button(desk, new_session_id())
    with session_scope() as session:
        with pytest.raises(PermissionDenied):
            agents.take(session, desk.tenant.viewer, cid)
        with pytest.raises(PermissionDenied):
            inbox.queue(session, desk.tenant.viewer)
        for call in (agents.take, inbox.thread):
            with pytest.raises(NotFound):
                call(session, other.tenant.agent, cid)
        with pytest.raises(NotFound):
            agents.resolve(session, other.tenant.owner, cid)
        assert inbox.queue(session, other.tenant.owner, view="pending") == []
        assert inbox.counts(session, other.tenant.owner)["pending"] == 0
        assert inbox.counts(session, desk.tenant.agent)["pending"] == 1
    assert conversation(cid).status == "pending"


def test_queue_views_counts_and_thread(desk):
    first = new_session_id()
    second = new_session_id()
    _, c1 = button(desk, first)
    _, c2 = button(desk, second)
    with session_scope() as session:
        pending = inbox.queue(session, desk.tenant.agent, view="pending")
        assert [i.conversation_id for i in pending] == [c1, c2]  # longest waiting first
        assert pending[0].preview == "hello there" and pending[0].waiting_seconds >= 0
        agents.take(session, desk.tenant.agent, c2)
    with session_scope() as session:
        assert [i.conversation_id for i in inbox.queue(session, desk.tenant.agent)] == [c1, c2]
        mine = inbox.queue(session, desk.tenant.agent, view="mine")
        assert [(i.conversation_id, i.status) for i in mine] == [(c2, "assigned")]
        assert inbox.queue(session, desk.tenant.admin, view="mine") == []
        assert inbox.counts(session, desk.tenant.agent) == {
            "pending": 1,
            "assigned": 1,
            "open": 2,
            "mine": 1,
            "resolved": 0,
        }
        agents.reply(session, desk.tenant.agent, c2, "Hello from Ana")
    with session_scope() as session:
        thread = inbox.thread(session, desk.tenant.agent, c2)
        assert [m["role"] for m in thread.messages] == ["user", "assistant", "agent"]
        assert thread.messages[-1]["content"] == "Hello from Ana"
        assert thread.last_event_id == max(
            e.id for e in stored_events(c2, desk.tenant.workspace.id)
        )
        count = session.exec(select(func.count()).select_from(Conversation)).one()
        assert count == 2
