"""Contacts and conversations made through the services, for the contacts tests."""

from __future__ import annotations

from chatapp.services.chat import conversations
from chatapp.services.contacts import contacts
from chatapp.services.contacts.contacts import ContactInput


def add(session, tenant, bot=None, **values):
    bot_id = (bot or tenant.bot).id
    return contacts.create_contact(session, tenant.owner, ContactInput(**values), bot_id=bot_id)


def chat(session, bot, session_id, *questions, channel="widget"):
    """A conversation with the given visitor messages, stored as the chat stores them."""
    conversation = conversations.find_or_create(session, bot, session_id, channel)
    for n, question in enumerate(questions):
        conversations.add_user_message(session, conversation, question, f"{session_id}-{n}")
    session.refresh(conversation)
    return conversation
