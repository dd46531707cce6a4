"""A contact's personal data: the JSON export holds everything linked to the person, and erasure
deletes exactly that (contact, conversations, messages, events, action runs) and nothing else.

Runs on SQLite and PostgreSQL; conversations are made through the chat's own services.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.actions import run_log, store
from chatapp.services.chat import conversations
from chatapp.services.contacts import personal_data
from chatapp.services.contacts.contacts import ContactInput, create_contact
from chatapp.services.live import bus
from chatapp.services.models import (
    ActionRun,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
    Role,
    UsageDaily,
)
from tests.utils.factories import make_tenant


def chat(session, tenant, session_id, *questions, contact=None):
    conversation = conversations.find_or_create(session, tenant.bot, session_id, "widget")
    for n, question in enumerate(questions):
        conversations.add_user_message(session, conversation, question, f"{session_id}-{n}")
    conversation.contact_id = contact.id if contact else None
    session.add(conversation)
    session.flush()
    bus.publish(session, conversation, "message", {"text": questions[0]})
    return conversation


def lead_run(session, tenant, action, conversation, email):
    return run_log.record(
        session,
        workspace_id=tenant.workspace.id,
        bot_id=tenant.bot.id,
        action_id=action.id,
        trigger="visitor",
        input={"email": email},
        outcome="ok",
        conversation_id=conversation.id,
    )


@pytest.fixture
def world(session):
    """Ada (two conversations, a lead run), Bob (one) in workspace a; Ada's twin in b."""
    a, b = make_tenant(session, "a"), make_tenant(session, "b")
    ada = create_contact(
        session, a.owner, ContactInput(name="Ada", email="ada@example.com"), bot_id=a.bot.id
    )
    ada.notes = "Wants a quote for 40 chairs"
    bob = create_contact(session, a.owner, ContactInput(name="Bob"), bot_id=a.bot.id)
    twin = create_contact(session, b.owner, ContactInput(email="ada@example.com"), bot_id=b.bot.id)
    action = store.create_action(session, a.owner, a.bot.id, kind="collect_lead")
    first = chat(session, a, "ada-1", "Do you sell chairs?", "How much for 40?", contact=ada)
    second = chat(session, a, "ada-2", "My phone is 555 0100", contact=ada)
    lead_run(session, a, action, first, "ada@example.com")
    chat(session, a, "bob-1", "Hello from Bob", contact=bob)
    chat(session, a, "anon-1", "Just looking")
    chat(session, b, "twin-1", "Ada in b", contact=twin)
    session.add(
        UsageDaily(workspace_id=a.workspace.id, bot_id=a.bot.id, day=first.started_at.date())
    )
    session.flush()
    return a, b, ada, bob, twin, (first.id, second.id)


def count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_export_holds_the_contact_its_conversations_messages_and_runs(session, world):
    a, _, ada, _, _, (first, second) = world
    export = personal_data.export_contact(session, a.viewer, ada.id)
    document = json.loads(export.content)
    assert document["contact"]["email"] == "ada@example.com"
    assert document["contact"]["notes"] == "Wants a quote for 40 chairs"
    assert [c["id"] for c in document["conversations"]] == [first, second]
    assert [m["content"] for m in document["conversations"][0]["messages"]] == [
        "Do you sell chairs?",
        "How much for 40?",
    ]
    assert document["action_runs"][0]["input"] == {"email": "ada@example.com"}
    assert (export.conversations, export.messages) == (2, 3)
    assert "Bob" not in export.content and "Ada in b" not in export.content
    assert "Just looking" not in export.content
    assert export.filename.startswith(f"contact-{ada.id}-") and export.filename.endswith(".json")


def test_erase_deletes_the_person_and_their_conversations_only(session, world):
    a, b, ada, bob, twin, ids = world
    erased = personal_data.erase_contact(session, a.admin, ada.id)
    assert (erased.conversations, erased.messages) == (2, 3)
    session.expire_all()
    assert session.get(Contact, ada.id) is None
    assert count(session, Conversation, Conversation.id.in_(ids)) == 0
    assert count(session, Message, Message.conversation_id.in_(ids)) == 0
    assert count(session, ConversationEvent, ConversationEvent.conversation_id.in_(ids)) == 0
    assert count(session, ActionRun, ActionRun.workspace_id == a.workspace.id) == 0
    # Everyone else stays: Bob, the anonymous visitor, the other workspace, the usage counters.
    assert session.get(Contact, bob.id) and session.get(Contact, twin.id)
    assert count(session, Conversation, Conversation.workspace_id == a.workspace.id) == 2
    assert count(session, Conversation, Conversation.workspace_id == b.workspace.id) == 1
    assert count(session, Message, Message.workspace_id == b.workspace.id) == 1
    assert count(session, UsageDaily, UsageDaily.workspace_id == a.workspace.id) == 1


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_only_owners_and_admins_erase(session, world, role):
    a, _, ada, *_ = world
    with pytest.raises(PermissionDenied, match="not allowed to erase"):
        personal_data.erase_contact(session, a.actor(role), ada.id)
    assert session.get(Contact, ada.id) is not None


@pytest.mark.parametrize("role", list(Role))
def test_another_workspace_cannot_export_or_erase(session, world, role):
    _, b, ada, *_ = world
    with pytest.raises(NotFound):
        personal_data.export_contact(session, b.actor(role), ada.id)
    if role in (Role.OWNER, Role.ADMIN):
        with pytest.raises(NotFound):
            personal_data.erase_contact(session, b.actor(role), ada.id)
    assert session.get(Contact, ada.id) is not None


def test_a_failure_half_way_erases_nothing(database_url, monkeypatch):
    """The erasure runs in the caller's transaction: an error after the conversations' deletes
    (when the contact itself is deleted) rolls all of it back."""
    with session_scope() as session:
        a = make_tenant(session, "a")
        ada = create_contact(session, a.owner, ContactInput(name="Ada"), bot_id=a.bot.id)
        chat(session, a, "ada-1", "Hello", contact=ada)
        ada_id, owner = ada.id, a.owner

    def broken(row):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), session_scope() as session:
        monkeypatch.setattr(session, "delete", broken)
        personal_data.erase_contact(session, owner, ada_id)
    with session_scope() as session:
        assert session.get(Contact, ada_id) is not None
        assert count(session, Message, Message.workspace_id == owner.workspace_id) == 1
        assert count(session, Conversation, Conversation.contact_id == ada_id) == 1
