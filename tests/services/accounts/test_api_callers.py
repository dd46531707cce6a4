"""Who a server-side client is from its key alone (the OpenAI-compatible API's callers): a
workspace API token names every bot of its workspace, a widget key its own bot, and anything
else is "not found" or "not authenticated", on a real SQLite file."""

from __future__ import annotations

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import NotAuthenticated, NotFound
from chatapp.services.accounts import api_callers, api_tokens, workspaces
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from tests.utils.factories import make_tenant


@pytest.fixture
def world(sqlite_url):
    """Workspaces a (two bots, a widget key on the first, a token by its admin) and b."""
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        second = bots.create_bot(session, a.owner, BotCreate(name="Second"))
        _, key = bots.create_widget_key(session, a.owner, a.bot.id)
        _, token = api_tokens.create_token(session, a.admin, name="sync")
        ids = {"a": a.bot.public_id, "second": second.public_id, "b": b.bot.public_id}
    return a, key, token, ids


def caller(credential: str) -> api_callers.Caller:
    with session_scope() as session:
        return api_callers.caller_for(session, credential)


def usable(who: api_callers.Caller, public_id: str) -> str:
    with session_scope() as session:
        return api_callers.usable_bot(session, who, public_id).public_id


def listed(who: api_callers.Caller) -> set[str]:
    with session_scope() as session:
        return {bot.public_id for bot in api_callers.usable_bots(session, who)}


def test_a_token_may_use_every_bot_of_its_workspace_and_no_other(world):
    a, _key, token, ids = world
    who = caller(token)
    assert who.actor is not None and who.workspace_id == a.workspace.id
    assert token not in who.credential and who.credential.startswith("token:")
    assert listed(who) == {ids["a"], ids["second"]}
    assert usable(who, ids["second"]) == ids["second"]
    with pytest.raises(NotFound, match="does not exist or you do not have access"):
        usable(who, ids["b"])


def test_a_widget_key_may_use_its_own_bot_only(world):
    a, key, _token, ids = world
    who = caller(key)
    assert who.workspace_id == a.workspace.id and who.bot_id == a.bot.id
    assert who.actor is None and who.widget_key == key and key not in who.credential
    assert listed(who) == {ids["a"]} and usable(who, ids["a"]) == ids["a"]
    for other in (ids["second"], ids["b"], "bot_doesnotexist"):
        with pytest.raises(NotFound):
            usable(who, other)


def test_revoked_keys_tokens_of_a_member_who_left_and_other_credentials_are_refused(world):
    a, key, token, _ids = world
    with session_scope() as session:
        bots.revoke_widget_keys(session, a.owner, a.bot.id)
    with pytest.raises(NotAuthenticated, match="unknown or revoked"):
        caller(key)
    with session_scope() as session:
        workspaces.remove_member(session, a.owner, user_id=a.admin.user_id)
    with pytest.raises(NotAuthenticated, match="left the workspace"):
        caller(token)
    for wrong in ("", "   ", "cat_unknown", "ck_unknown", "sk-openai", "x" * 201):
        with pytest.raises(NotAuthenticated):
            caller(wrong)
