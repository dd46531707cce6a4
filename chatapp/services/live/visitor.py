"""The public side of live handoff: a visitor's own conversation, found by bot, key and session.

The same checks as the chat (`access.py`: the bot's widget key, its allowed websites, active),
then the visitor's conversation by session id. Asking for a person may start a conversation;
typing and reading events need one that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from chatapp.core import ratelimit as rl
from chatapp.core.errors import NotFound, ValidationFailed
from chatapp.services.accounts import visitor_access
from chatapp.services.chat import conversations
from chatapp.services.chat.request import SESSION_ID
from chatapp.services.live import handoff
from chatapp.services.models import Conversation

HANDOFF_PER_MINUTE = 10
TYPING_PER_MINUTE = 120


@dataclass(frozen=True)
class Visitor:
    bot_id: str
    session_id: str
    api_key: str | None
    origin: str | None = None
    referer: str | None = None


def conversation(session: Session, visitor: Visitor, *, create: bool = False) -> Conversation:
    """The visitor's conversation with the bot, after the key and website checks."""
    if not isinstance(visitor.session_id, str) or not SESSION_ID.fullmatch(visitor.session_id):
        raise ValidationFailed("session_id must be 8 to 64 letters, digits, '-' or '_'.")
    bot = visitor_access.public_bot(session, visitor.bot_id)
    visitor_access.check_key(session, bot, visitor.api_key)
    visitor_access.check_origin(bot, visitor.origin, visitor.referer)
    visitor_access.check_active(bot)
    if create:
        return conversations.find_or_create(session, bot, visitor.session_id, "widget")
    row = session.exec(
        select(Conversation).where(
            Conversation.bot_id == bot.id, Conversation.session_id == visitor.session_id
        )
    ).first()
    if row is None:
        raise NotFound("No conversation yet: send a message or ask for a person first.")
    return row


def ask_for_person(
    session: Session, visitor: Visitor
) -> tuple[Conversation, handoff.HandoffOutcome]:
    """The widget's "Talk to a person" button."""
    row = conversation(session, visitor, create=True)
    rl.hit(session, [rl.Limit(f"handoff:{row.bot_id}:{visitor.session_id}", HANDOFF_PER_MINUTE)])
    return row, handoff.request(session, row, reason="button")


def typing(session: Session, visitor: Visitor, is_typing: bool) -> None:
    """The visitor is typing: the agent handling the conversation sees it (nothing stored)."""
    row = conversation(session, visitor)
    rl.hit(session, [rl.Limit(f"typing:{row.bot_id}:{visitor.session_id}", TYPING_PER_MINUTE)])
    handoff.visitor_typing(row, is_typing)
