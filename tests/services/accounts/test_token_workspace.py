"""A workspace API token used where no workspace is named (the Chatbase-compatible API): it acts
in the workspace it was made in, and is refused there as anywhere once revoked or unknown."""

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated
from chatapp.services.accounts import api_tokens
from chatapp.services.models import Role
from tests.utils.factories import make_tenant


def test_a_token_acts_in_its_own_workspace_until_revoked(database_url):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        token, plain = api_tokens.create_token(session, a.admin, name="moved from chatbase")
        _, plain_b = api_tokens.create_token(session, b.owner, name="b's script")
    with session_scope() as session:
        actor = api_tokens.actor_in_own_workspace(session, plain)
        other = api_tokens.actor_in_own_workspace(session, plain_b)
    assert (actor.workspace_id, actor.user_id, actor.role) == (
        a.workspace.id,
        a.admin.user_id,
        Role.ADMIN,
    )
    assert actor.via == "moved from chatbase" and other.workspace_id == b.workspace.id
    with session_scope() as session:
        api_tokens.revoke_token(session, a.owner, token.id)
    for refused in (plain, "cat_" + "x" * 40):
        with session_scope() as session, pytest.raises(NotAuthenticated):
            api_tokens.actor_in_own_workspace(session, refused)
