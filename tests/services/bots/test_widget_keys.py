"""Widget keys as Connect uses them: regenerating revokes the old key for the public chat API,
revoking switches the widget off, and another workspace's bot is out of reach."""

import secrets

import pytest
from fastapi.testclient import TestClient

from chatapp.api.app import create_api
from chatapp.core import security
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.bots import bots
from chatapp.services.models import BotKey
from tests.utils.factories import make_tenant
from tests.utils.knowledge import make_shop, new_session_id


@pytest.fixture
def client(sqlite_url):
    with TestClient(create_api()) as client:
        yield client


def ask(client, bot_id, key):
    return client.post(
        "/api/chat",
        json={
            "bot_id": bot_id,
            "api_key": key,
            "session_id": new_session_id(),
            "message": "When are you open?",
            "stream": False,
        },
    )


def test_regenerating_the_key_refuses_the_old_one_with_401(client):
    shop = make_shop("keys")
    assert ask(client, shop.public_id, shop.key).status_code == 200
    with session_scope() as session:
        new, plain = bots.create_widget_key(session, shop.tenant.owner, shop.bot_id)
        current = bots.current_widget_key(session, shop.tenant.owner, shop.bot_id)
        assert current is not None and current.id == new.id and current.prefix == plain[:10]
    refused = ask(client, shop.public_id, shop.key)
    assert refused.status_code == 401
    assert "widget key" in refused.json()["detail"]
    answered = ask(client, shop.public_id, plain)
    assert answered.status_code == 200 and answered.json()["answer"]


def test_revoking_switches_the_widget_off(client):
    shop = make_shop("revoke")
    with session_scope() as session:
        assert bots.revoke_widget_keys(session, shop.tenant.owner, shop.bot_id) == 1
        assert bots.current_widget_key(session, shop.tenant.owner, shop.bot_id) is None
        assert bots.revoke_widget_keys(session, shop.tenant.owner, shop.bot_id) == 0
    assert ask(client, shop.public_id, shop.key).status_code == 401


def test_keys_respect_roles_and_tenants(sqlite_url):
    with session_scope() as session:
        mine, theirs = make_tenant(session, "mine"), make_tenant(session, "theirs")
        bots.create_widget_key(session, theirs.owner, theirs.bot.id)
        for actor in (mine.agent, mine.viewer):
            with pytest.raises(PermissionDenied):
                bots.create_widget_key(session, actor, mine.bot.id)
            with pytest.raises(PermissionDenied):
                bots.revoke_widget_keys(session, actor, mine.bot.id)
        assert bots.current_widget_key(session, mine.viewer, mine.bot.id) is None
        with pytest.raises(NotFound):
            bots.current_widget_key(session, mine.owner, theirs.bot.id)
        with pytest.raises(NotFound):
            bots.revoke_widget_keys(session, mine.owner, theirs.bot.id)
        with pytest.raises(NotFound):
            bots.create_widget_key(session, mine.owner, theirs.bot.id)
        assert bots.current_widget_key(session, theirs.owner, theirs.bot.id) is not None


@pytest.fixture
def any_db_client(database_url):
    with TestClient(create_api()) as client:
        yield client


def test_the_key_in_use_is_shown_again_and_works(any_db_client):
    shop = make_shop("shown")
    with session_scope() as session:
        key, plain = bots.shown_widget_key(session, shop.tenant.viewer, shop.bot_id)
        assert key is not None and plain == shop.key  # a later visit gets the very same key
        stored = [
            k.key_hash for k in bots.list_widget_keys(session, shop.tenant.owner, shop.bot_id)
        ]
    assert shop.key not in stored and all(len(h) == 64 for h in stored)  # stored hashed only
    assert ask(any_db_client, shop.public_id, plain).status_code == 200


def test_a_key_that_cannot_be_shown_gets_a_readable_one_beside_it(any_db_client):
    """A key from before (random) keeps working while a readable key is added next to it."""
    shop = make_shop("legacy")
    legacy = "ck_" + secrets.token_urlsafe(32)
    with session_scope() as session:
        bots.revoke_widget_keys(session, shop.tenant.owner, shop.bot_id)
        session.add(
            BotKey(
                workspace_id=shop.tenant.workspace.id,
                bot_id=shop.bot_id,
                key_hash=security.hash_token(legacy),
                prefix=legacy[:10],
            )
        )
    with session_scope() as session:
        key, plain = bots.shown_widget_key(session, shop.tenant.owner, shop.bot_id)
        assert key is not None and key.prefix == legacy[:10] and plain is None
        _, added = bots.create_widget_key(session, shop.tenant.owner, shop.bot_id, keep_older=True)
    assert ask(any_db_client, shop.public_id, legacy).status_code == 200
    assert ask(any_db_client, shop.public_id, added).status_code == 200
    with session_scope() as session:
        assert bots.shown_widget_key(session, shop.tenant.owner, shop.bot_id)[1] == added


def test_a_key_made_under_another_secret_key_is_not_shown(database_url, monkeypatch):
    shop = make_shop("rotated")
    monkeypatch.setattr(get_settings(), "secret_key", "another-secret-" + "x" * 40)
    with session_scope() as session:
        key, plain = bots.shown_widget_key(session, shop.tenant.owner, shop.bot_id)
    assert key is not None and plain is None  # never a wrong key in the embed code
