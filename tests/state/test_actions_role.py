"""The Actions page's Test button asks the service, which reads the member's role again: an
admin demoted after the page loaded cannot run an action from it (issue 18, item 15c)."""

from __future__ import annotations

from chatapp.core.db import session_scope
from chatapp.services.accounts import auth
from chatapp.state.actions import ActionsState
from tests.services.actions.test_current_role import _runs, _set_admin_role, tenant
from tests.utils.dashboard_login import sign_in
from tests.utils.factories import PASSWORD
from tests.utils.handlers import run

__all__ = ["tenant"]  # the fixture


def test_the_actions_page_of_a_demoted_admin_cannot_test(tenant):
    tenant, action_id = tenant
    root = ActionsState.get_root_state()(_reflex_internal_init=True)
    state = root.get_substate(ActionsState.get_full_name().split(".")[1:])
    with session_scope() as session:
        token = auth.login(session, email=tenant.admin.email, password=PASSWORD).token
    sign_in(state, token)
    run(state.require_login())
    state.chosen_bot = str(tenant.bot.id)
    run(state.load_bots())
    run(state.open_edit(action_id))
    assert state.can_edit_actions and state.editor_open  # the page as loaded: an admin's

    _set_admin_role(tenant, "viewer")
    events = run(state.test())
    assert "not allowed" in repr(events)
    assert state.test_outcome == "" and _runs() == 0
