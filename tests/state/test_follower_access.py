"""The Inbox's live followers re-check the member's access (issue 18, item 15b): an agent removed
from the workspace stops receiving the open conversation and the queue, on the next event and,
with nothing happening, at the next wake-up. Real database, real bus, plain states."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, URLData

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.accounts import workspaces
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.live import bus
from chatapp.services.models import Conversation
from chatapp.state.inbox import InboxBadgeState, InboxState
from tests.utils.dashboard_login import sign_in
from tests.utils.handlers import run
from tests.utils.tenant_world import World, make_world


@pytest.fixture
def world(database_url, monkeypatch):
    monkeypatch.setenv("LIVE_KEEPALIVE_SECONDS", "0.2")
    reset_settings()
    yield make_world("a")
    reset_settings()


def _agent_state(cls: type[rx.State], world: World):
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    sign_in(state, world.login_tokens["agent"])
    state.rx_router_url = URLData.from_url(ReflexURL("http://localhost/inbox"))
    run(state.require_login())
    assert state.role == "agent"
    return state


def _follower(state: rx.State, name: str):
    """The background handler's own coroutine, as Reflex would run it for this state."""
    return type(state).event_handlers[name].fn(state)


async def _until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _visitor_says(world: World, text: str) -> None:
    with session_scope() as session:
        conversation = session.get_one(Conversation, world.conversation_id)
        data = {"id": 10**6, "role": "user", "content": text, "author": "Visitor"}
        bus.publish(session, conversation, "message", data)
        bus.notify_workspace(session, world.workspace_id, {"message": True})


def _remove_agent(world: World, demote: bool = False) -> None:
    """The owner removes the agent (or, with `demote`, makes them a viewer)."""
    with session_scope() as session:
        owner = actor_for(session, user_id=world.user_ids["owner"], workspace_id=world.workspace_id)
        agent = world.user_ids["agent"]
        if demote:
            workspaces.change_member_role(session, owner, user_id=agent, role="viewer")
        else:
            workspaces.remove_member(session, owner, user_id=agent)


@pytest.mark.parametrize("demote", [False, True], ids=["removed", "demoted"])
def test_a_removed_agent_stops_receiving_the_open_conversation(world, demote):
    state = _agent_state(InboxState, world)
    run(state.select(world.conversation_id))
    assert state.messages and state.selected_id == world.conversation_id
    channel = bus.conversation_channel(world.conversation_id)

    async def scenario():
        follower = asyncio.create_task(_follower(state, "follow_thread"))
        await _until(lambda: bus.readers(channel) == 1, "the follower to listen")
        _visitor_says(world, "before the removal")
        await _until(lambda: "before the removal" in str(state.messages), "the live message")
        _remove_agent(world, demote)
        _visitor_says(world, "after the removal")
        await asyncio.wait_for(follower, 10)  # it ends by itself

    asyncio.run(scenario())
    assert "after the removal" not in str(state.dict())
    assert state.selected_id == 0 and state.messages == []
    assert state.notice == "You no longer have access to this conversation."
    assert bus.readers(channel) == 0


@pytest.mark.parametrize(
    ("cls", "name"), [(InboxState, "follow_queue"), (InboxBadgeState, "follow")]
)
def test_queue_followers_stop_at_their_next_wake_up_without_any_event(world, cls, name):
    state = _agent_state(cls, world)
    if cls is InboxState:
        run(state.set_view("pending"))
        assert [row.id for row in state.rows] == [world.conversation_id]
    channel = bus.workspace_channel(world.workspace_id)

    async def scenario():
        follower = asyncio.create_task(_follower(state, name))
        await _until(lambda: bus.readers(channel) == 1, "the follower to listen")
        _remove_agent(world)  # and nothing else happens in the workspace
        await asyncio.wait_for(follower, 10)

    asyncio.run(scenario())
    assert bus.readers(channel) == 0
    if cls is InboxState:
        assert state.rows == [] and state.counts == {}
    else:
        assert state.pending == 0
