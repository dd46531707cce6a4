"""A tab's state tree never carries one user's data to the next (issue 18, item 15a): logout
resets every state and ends the session; a page load whose cookie names another user resets the
tree before loading. Plain states, real database."""

from __future__ import annotations

import json

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import auth
from chatapp.state.activity import ActivityState
from chatapp.state.inbox import InboxState
from tests.state.test_state_isolation import _state_of
from tests.utils.dashboard_login import sign_in
from tests.utils.handlers import run
from tests.utils.tenant_world import make_world


@pytest.fixture
def world(database_url):
    return make_world("b")


def _root(state):
    while state.parent_state is not None:
        state = state.parent_state
    return state


def _tree(state) -> str:
    """Everything the tab's state tree holds, as the browser would receive it."""
    return json.dumps(_root(state).dict(), default=str)


def _opened(world) -> InboxState:
    """B's owner with B's conversation open in the Inbox and in Activity's dialog."""
    inbox = _state_of(InboxState, world)
    run(inbox.select(world.conversation_id))
    activity = _root(inbox).get_substate(ActivityState.get_full_name().split(".")[1:])
    run(activity.open_conversation(world.conversation_id))
    assert world.marker in _tree(inbox)
    return inbox


def test_logout_resets_the_whole_tree_and_ends_the_session(world):
    inbox = _opened(world)
    events = run(inbox.logout())
    assert world.marker not in _tree(inbox)
    assert inbox.messages == [] and inbox.selected_id == 0 and inbox._user_id == 0
    script = repr(events)  # a new Reflex token for the tab, then the cookie's end on the server
    assert "sessionStorage.removeItem" in script and "/api/v1/auth/session/end" in script
    with session_scope() as session, pytest.raises(NotAuthenticated):
        auth.user_for_token(session, world.login_tokens["owner"])


def test_a_page_load_as_another_user_starts_from_a_fresh_tree(world):
    inbox = _opened(world)
    sign_in(inbox, world.login_tokens["viewer"])  # the cookie now names someone else
    run(inbox.require_login())
    assert world.marker not in _tree(inbox)
    assert inbox.role == "viewer" and inbox.messages == [] and inbox.selected_id == 0


def test_the_same_user_reloading_keeps_their_page(world):
    inbox = _opened(world)
    run(inbox.require_login())
    assert inbox.selected_id == world.conversation_id and inbox.messages
