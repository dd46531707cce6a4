"""The Inbox on a plain state logged in as a workspace owner (real database): the bot filter and
the waiting times."""

import dataclasses
import time

import pytest

from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from chatapp.state.inbox import InboxState
from tests.state.test_state_isolation import _state_of, run
from tests.utils.tenant_world import make_world


@pytest.fixture
def world(database_url):
    return make_world("a")


def test_the_queue_and_its_counts_follow_the_chosen_bot(world):
    with session_scope() as session:
        owner = actor_for(session, user_id=world.user_ids["owner"], workspace_id=world.workspace_id)
        second = bots.create_bot(session, owner, BotCreate(name="Second bot")).id
    state = _state_of(InboxState, world)
    assert state.bot_choices[0].label == "All bots"
    assert {c.value for c in state.bot_choices} == {"all", str(world.bot_id), str(second)}
    assert [row.id for row in state.rows] == [world.conversation_id]  # all bots: the pending one

    run(state.set_bot_choice(str(second)))
    assert state.rows == [] and state.counts["pending"] == 0
    run(state.set_bot_choice(str(world.bot_id)))
    assert [row.id for row in state.rows] == [world.conversation_id]
    assert state.counts["pending"] == 1

    run(state.set_bot_choice("987654"))  # not a bot of this workspace: ignored
    assert state.bot_choice == str(world.bot_id)


def test_a_chosen_bot_that_is_gone_falls_back_to_all_bots(world):
    with session_scope() as session:
        owner = actor_for(session, user_id=world.user_ids["owner"], workspace_id=world.workspace_id)
        second = bots.create_bot(session, owner, BotCreate(name="Second bot")).id
    state = _state_of(InboxState, world)
    run(state.set_bot_choice(str(second)))
    with session_scope() as session:
        owner = actor_for(session, user_id=world.user_ids["owner"], workspace_id=world.workspace_id)
        bots.delete_bot(session, owner, second)
    run(state.open_page())
    assert state.bot_choice == "all"
    assert [row.id for row in state.rows] == [world.conversation_id]


def test_waiting_times_move_on_between_queue_changes(world):
    state = _state_of(InboxState, world)
    assert state.rows[0].waiting == "just now"
    state.dirty_vars.clear()
    state._tick_waiting()
    assert "rows" not in state.dirty_vars  # no label changed: nothing is sent again
    state.rows = [dataclasses.replace(state.rows[0], asked_at=time.time() - 185)]
    state.dirty_vars.clear()
    state._tick_waiting()
    assert state.rows[0].waiting == "3 min" and "rows" in state.dirty_vars
