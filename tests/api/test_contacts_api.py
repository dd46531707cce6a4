"""A contact's data over HTTP: the JSON download, the erasure, roles and other workspaces."""

from __future__ import annotations

import json

import pytest

from chatapp.core.db import session_scope
from chatapp.services.chat import conversations
from chatapp.services.contacts.contacts import ContactInput, create_contact
from chatapp.services.models import Contact, Conversation
from tests.api.test_admin_api import login
from tests.utils.factories import make_tenant


@pytest.fixture
def ada(client):
    """Workspace a's contact Ada with one conversation; workspace b exists beside it."""
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        contact = create_contact(
            session, a.owner, ContactInput(name="Ada", email="ada@example.com"), bot_id=a.bot.id
        )
        chat = conversations.find_or_create(session, a.bot, "ada-1", "widget")
        conversations.add_user_message(session, chat, "Call me on 555 0100", "ada-1-0")
        chat.contact_id = contact.id
        session.add(chat)
        return a, b, contact.id, chat.id


def test_any_member_downloads_the_json(client, ada):
    a, _, contact_id, chat_id = ada
    response = client.get(
        f"/api/v1/workspaces/{a.workspace.id}/contacts/{contact_id}/export",
        headers=login(client, "viewer-a@example.com"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert f"contact-{contact_id}-" in response.headers["content-disposition"]
    document = json.loads(response.text)
    assert document["contact"]["email"] == "ada@example.com"
    assert document["conversations"][0]["id"] == chat_id
    assert document["conversations"][0]["messages"][0]["content"] == "Call me on 555 0100"


def test_admin_erases_and_the_data_is_gone(client, ada):
    a, _, contact_id, chat_id = ada
    url = f"/api/v1/workspaces/{a.workspace.id}/contacts/{contact_id}"
    headers = login(client, "admin-a@example.com")
    response = client.post(f"{url}/erase", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"contact_id": contact_id, "conversations": 1, "messages": 1}
    with session_scope() as session:
        assert session.get(Contact, contact_id) is None
        assert session.get(Conversation, chat_id) is None
    assert client.get(f"{url}/export", headers=headers).status_code == 404
    assert client.post(f"{url}/erase", headers=headers).status_code == 404


@pytest.mark.parametrize("who", ["agent-a", "viewer-a"])
def test_agents_and_viewers_cannot_erase(client, ada, who):
    a, _, contact_id, _ = ada
    response = client.post(
        f"/api/v1/workspaces/{a.workspace.id}/contacts/{contact_id}/erase",
        headers=login(client, f"{who}@example.com"),
    )
    assert response.status_code == 403
    assert "owner or admin" in response.json()["detail"]
    with session_scope() as session:
        assert session.get(Contact, contact_id) is not None


def test_another_workspace_sees_nothing(client, ada):
    _, b, contact_id, _ = ada
    headers = login(client, "owner-b@example.com")
    base = f"/api/v1/workspaces/{b.workspace.id}/contacts/{contact_id}"
    assert client.get(f"{base}/export", headers=headers).status_code == 404
    assert client.post(f"{base}/erase", headers=headers).status_code == 404
    with session_scope() as session:
        assert session.get(Contact, contact_id) is not None
