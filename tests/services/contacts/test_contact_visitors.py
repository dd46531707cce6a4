"""Widget visitors who identify themselves become contacts linked to their conversation: merged
by email or external id, bad values dropped. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from chatapp.services.bots import bots
from chatapp.services.contacts import contacts
from chatapp.services.contacts.search import linked_conversations
from chatapp.services.models import BotCreate, Contact, Conversation
from tests.utils.contact_helpers import add, chat
from tests.utils.factories import make_tenant


@pytest.fixture
def tenant(session):
    return make_tenant(session, "a")


def test_an_identified_visitor_becomes_a_contact_linked_to_the_conversation(session, tenant):
    conversation = chat(session, tenant.bot, "visitor-0001", "Hi")
    contact = contacts.link_visitor(
        session, tenant.bot, conversation, {"name": "Ada", "email": "Ada@Example.com"}
    )
    assert (contact.name, contact.email, contact.bot_id) == (
        "Ada",
        "ada@example.com",
        tenant.bot.id,
    )
    assert session.get(Conversation, conversation.id).contact_id == contact.id
    assert [c.id for c in linked_conversations(session, tenant.owner, contact.id)] == [
        conversation.id
    ]


def test_a_returning_visitor_is_merged_into_the_same_contact(session, tenant):
    known = add(session, tenant, name="Ada (by hand)", email="ada@example.com")
    second_bot = bots.create_bot(session, tenant.owner, BotCreate(name="Second"))
    conversation = chat(session, second_bot, "visitor-0002", "Hi again")
    merged = contacts.link_visitor(
        session,
        second_bot,
        conversation,
        {"name": "Ada", "email": "ADA@example.com", "phone": "+1 555 123 4567"},
    )
    assert merged.id == known.id
    assert merged.name == "Ada (by hand)"  # a known value is kept
    assert merged.phone == "+1 555 123 4567"  # a blank one is filled in
    assert merged.bot_id == tenant.bot.id  # the source bot stays the first one
    assert merged.last_seen_at >= merged.created_at
    assert len(session.exec(select(Contact)).all()) == 1


def test_an_external_id_wins_over_an_email(session, tenant):
    by_id = add(session, tenant, name="Ada", external_id="u-1")
    add(session, tenant, name="Bob", email="bob@example.com")
    conversation = chat(session, tenant.bot, "visitor-0003", "Hi")
    found = contacts.link_visitor(
        session, tenant.bot, conversation, {"id": "u-1", "email": "bob@example.com"}
    )
    assert found.id == by_id.id
    assert found.email == ""  # Bob has that email: two contacts never share one


def test_unusable_visitor_details_change_nothing(session, tenant):
    conversation = chat(session, tenant.bot, "visitor-0004", "Hi")
    for visitor in (None, {}, {"email": "not-an-email"}, {"name": 42.5}, "ada", {"name": True}):
        assert contacts.link_visitor(session, tenant.bot, conversation, visitor) is None
    assert session.exec(select(Contact)).all() == []
    assert session.get(Conversation, conversation.id).contact_id is None


def test_bad_values_are_dropped_and_the_rest_kept(session, tenant):
    conversation = chat(session, tenant.bot, "visitor-0005", "Hi")
    contact = contacts.link_visitor(
        session, tenant.bot, conversation, {"name": "Ada", "email": "nope", "phone": "abc"}
    )
    assert (contact.name, contact.email, contact.phone) == ("Ada", "", "")


def test_the_same_conversation_keeps_its_contact_and_a_new_identity_gets_its_own(session, tenant):
    conversation = chat(session, tenant.bot, "visitor-0006", "Hi")
    first = contacts.link_visitor(session, tenant.bot, conversation, {"name": "Ada"})
    again = contacts.link_visitor(
        session, tenant.bot, conversation, {"name": "Ada", "email": "ada@example.com"}
    )
    assert again.id == first.id and again.email == "ada@example.com"
    other = contacts.link_visitor(
        session, tenant.bot, conversation, {"name": "Bob", "email": "bob@example.com"}
    )
    assert other.id != first.id
    assert session.get(Conversation, conversation.id).contact_id == other.id
