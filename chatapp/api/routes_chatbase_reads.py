"""Chatbase API v1's reads: a chatbot's conversations (whole transcripts) and its leads (the
contacts the bot met), by page (`page` from 1, `size` up to 100, default 10) and by UTC day
(`startDate`, `endDate`: YYYY-MM-DD, both included). A page past the last one is empty.

A conversation's `id` is its session id, the `conversationId` a chat request names it by;
`source` is `website` for the widget's conversations and `api` for the others. A person's reply
from the inbox is an `assistant` message; system notes are left out (Chatbase has two roles).
"""

from __future__ import annotations

from datetime import date

from fastapi import Query
from sqlmodel import Session

from chatapp.api.chatbase_common import ACTOR, new_router
from chatapp.api.chatbase_shapes import (
    ChatMessageOut,
    ConversationOut,
    ConversationsOut,
    LeadOut,
    LeadsOut,
)
from chatapp.api.deps import REQUEST_SESSION
from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.bots import bot_text
from chatapp.services.contacts.created import contacts_created
from chatapp.services.reports.activity import ActivityFilter
from chatapp.services.reports.transcripts import Transcript, transcripts

router = new_router()
MAX_SIZE = 100
# Chatbase's conversation sources -> our channels; theirs without a channel here match nothing.
SOURCES = {
    "api": ("api", "chatbase", "openai"),
    "playground": ("playground",),
    "widget or iframe": ("widget",),
    "whatsapp": (),
    "messenger": (),
    "instagram": (),
    "slack": (),
    "action preview": (),
}
ROLES = {"user": "user", "assistant": "assistant", "agent": "assistant"}


def _whole_number(name: str, value: str | None, default: int, most: int) -> int:
    if value is None or value == "":
        return default
    if not value.strip().isdigit() or not 1 <= int(value) <= most:
        raise ValidationFailed(f"{name}: give a whole number from 1 to {most:,}.")
    return int(value)


def _channels(filtered: str | None) -> tuple[str, ...] | None:
    """Our channels for Chatbase's comma-separated sources (None: every channel)."""
    if not filtered or not filtered.strip():
        return None
    channels: list[str] = []
    for name in (part.strip() for part in filtered.split(",")):
        if name.lower() not in SOURCES:
            known = "API, Playground, Widget or Iframe, WhatsApp, Messenger, Instagram, Slack"
            raise ValidationFailed(f"filteredSources: unknown source {name!r}; use {known}.")
        channels += SOURCES[name.lower()]
    return tuple(channels)


def _conversation(found: Transcript, chatbot_id: str) -> ConversationOut:
    row = found.row
    return ConversationOut(
        id=row.session_id,
        chatbot_id=chatbot_id,
        created_at=row.started_at,
        updated_at=row.last_message_at,
        source="website" if row.channel == "widget" else "api",
        messages=[
            ChatMessageOut(id=str(m.id), role=ROLES[m.role], content=m.content)
            for m in found.messages
            if m.role in ROLES
        ],
    )


@router.get("/get-conversations", response_model=ConversationsOut)
def get_conversations(
    chatbotId: str = Query(max_length=64),
    filteredSources: str | None = Query(default=None, max_length=500),
    startDate: date | None = None,
    endDate: date | None = None,
    page: str | None = Query(default=None, max_length=12),
    size: str | None = Query(default=None, max_length=12),
    actor: Actor = ACTOR,
    session: Session = REQUEST_SESSION,
):
    bot = bot_text.bot_by_public_id(session, actor, chatbotId)
    number = _whole_number("page", page, 1, 2**31 - 1)
    per_page = _whole_number("size", size, 10, MAX_SIZE)
    channels = _channels(filteredSources)
    if channels == ():  # only sources Chatapp has no conversations from
        if startDate and endDate and startDate > endDate:
            raise ValidationFailed("The start date is after the end date.")
        return ConversationsOut(data=[])
    filters = ActivityFilter(
        bot_id=bot.id, date_from=startDate, date_to=endDate, channels=channels or ()
    )
    found = transcripts(session, actor, filters, page=number, page_size=per_page)
    return ConversationsOut(data=[_conversation(t, bot.public_id) for t in found])


@router.get("/get-leads", response_model=LeadsOut, response_model_exclude_none=True)
def get_leads(
    chatbotId: str = Query(max_length=64),
    startDate: date | None = None,
    endDate: date | None = None,
    page: str | None = Query(default=None, max_length=12),
    size: str | None = Query(default=None, max_length=12),
    actor: Actor = ACTOR,
    session: Session = REQUEST_SESSION,
):
    bot = bot_text.bot_by_public_id(session, actor, chatbotId)
    found = contacts_created(
        session,
        actor,
        bot_id=bot.id,
        since=startDate,
        until=endDate,
        page=_whole_number("page", page, 1, 2**31 - 1),
        per_page=_whole_number("size", size, 10, MAX_SIZE),
    )
    return LeadsOut(
        collectedCustomers=[
            LeadOut(
                id=str(row.id),
                name=row.name,
                email=row.email or None,
                phone=row.phone,
                created_at=row.first_seen,
                chatbot_id=bot.public_id,
                account_id=str(actor.workspace_id),
            )
            for row in found.rows
        ]
    )
