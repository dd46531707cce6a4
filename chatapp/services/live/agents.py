"""What an agent does with a conversation from the inbox: take it, reply, type, hand it back to
the bot, resolve it (the states are described in `handoff.py`). Each change is one conditional
UPDATE, stored and announced in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from chatapp.core import metrics
from chatapp.core.errors import Conflict, ValidationFailed
from chatapp.core.schemas import parse
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped
from chatapp.services.chat import conversations
from chatapp.services.live import bus, handoff
from chatapp.services.live.schemas import ReplyIn
from chatapp.services.models import Conversation, ConversationStatus, Message, User, utcnow


def _conversation(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    actor.require(Permission.HANDLE_CONVERSATIONS)
    return get_scoped(session, actor, Conversation, conversation_id, "Conversation")


def agent_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return ""
    return user.name or user.email.split("@")[0]


def take(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    """Assign the conversation to this agent; another agent having it is a Conflict (409)."""
    conversation = _conversation(session, actor, conversation_id)
    now = utcnow()
    where = (
        col(Conversation.id) == conversation.id,
        col(Conversation.workspace_id) == actor.workspace_id,
    )
    taken = session.exec(
        update(Conversation)
        .where(*where, col(Conversation.status) == ConversationStatus.PENDING)
        .values(status=ConversationStatus.ASSIGNED, assigned_user_id=actor.user_id, assigned_at=now)
    ).rowcount
    if not taken:  # not asked for: an agent steps in on their own
        taken = session.exec(
            update(Conversation)
            .where(
                *where,
                col(Conversation.status).in_((ConversationStatus.BOT, ConversationStatus.RESOLVED)),
            )
            .values(
                status=ConversationStatus.ASSIGNED,
                assigned_user_id=actor.user_id,
                assigned_at=now,
                handoff_at=now,
                handoff_reason="agent",
                first_human_reply_at=None,
                resolved_at=None,
            )
        ).rowcount
    session.refresh(conversation)
    if not taken:
        if conversation.assigned_user_id == actor.user_id:
            return conversation  # already mine: taking twice is harmless
        who = agent_name(session, conversation.assigned_user_id) or "Another agent"
        raise Conflict(f"{who} is already handling this conversation.")
    handoff.announce_status(session, conversation, agent=agent_name(session, actor.user_id))
    metrics.handoff("taken")
    return conversation


def _mine(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    conversation = _conversation(session, actor, conversation_id)
    if (
        conversation.status == ConversationStatus.ASSIGNED
        and conversation.assigned_user_id == actor.user_id
    ):
        return conversation
    if conversation.status == ConversationStatus.ASSIGNED:
        who = agent_name(session, conversation.assigned_user_id) or "Another agent"
        raise Conflict(f"{who} is handling this conversation.")
    raise Conflict("Take the conversation before replying.")


def reply(session: Session, actor: Actor, conversation_id: int, content: str) -> Message:
    """An agent's message: stored, counted as the first human reply once, sent live."""
    text = parse(ReplyIn, content=content).content
    if not text:
        raise ValidationFailed("Type a reply first.")
    conversation = _mine(session, actor, conversation_id)

    now = utcnow()
    message_id = conversations.add_agent_message(
        session, conversation, text, user_id=actor.user_id, now=now
    )
    session.exec(
        update(Conversation)
        .where(
            col(Conversation.id) == conversation.id,
            col(Conversation.first_human_reply_at).is_(None),
        )
        .values(first_human_reply_at=now)
    )
    message = session.get_one(Message, message_id)
    name = agent_name(session, actor.user_id)
    bus.publish(session, conversation, "message", handoff.message_data(message, author=name))
    return message


def typing(session: Session, actor: Actor, conversation_id: int, is_typing: bool) -> None:
    """The agent is (or stopped) typing: the widget shows it; nothing is stored."""
    conversation = _mine(session, actor, conversation_id)
    bus.publish_ephemeral(
        conversation.id,
        "typing",
        {"who": "agent", "typing": bool(is_typing), "name": agent_name(session, actor.user_id)},
    )


def release(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    """Hand the conversation back to the bot."""
    conversation = _conversation(session, actor, conversation_id)
    changed = session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id, col(Conversation.status).in_(handoff.OPEN))
        .values(status=ConversationStatus.BOT, assigned_user_id=None, fallback_streak=0)
    ).rowcount
    if not changed:
        session.refresh(conversation)
        raise Conflict("This conversation is not waiting for or handled by a person.")
    handoff.announce_status(session, conversation)
    return conversation


def resolve(session: Session, actor: Actor, conversation_id: int) -> Conversation:
    """Close the handoff: resolved, with its time (the bot answers again if the visitor writes)."""
    conversation = _conversation(session, actor, conversation_id)
    changed = session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id, col(Conversation.status).in_(handoff.OPEN))
        .values(status=ConversationStatus.RESOLVED, resolved_at=utcnow(), fallback_streak=0)
    ).rowcount
    if not changed:
        session.refresh(conversation)
        raise Conflict("This conversation is already resolved or back with the bot.")
    handoff.announce_status(
        session, conversation, agent=agent_name(session, conversation.assigned_user_id)
    )
    metrics.handoff("resolved")
    return conversation
