"""The agents' queue: conversations waiting for or handled by a person, per workspace.

Views: `pending` (longest waiting first), `mine` (assigned to me), `open` (pending and assigned),
`resolved` (latest first); each optionally for one bot. `counts()` is what the sidebar badge and
the filter tabs show; `stats()` gives analytics the time to first human reply and to resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, get_scoped, scoped_select
from chatapp.services.live import bus
from chatapp.services.live.agents import agent_name
from chatapp.services.live.handoff import aware
from chatapp.services.models import (
    Bot,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    User,
    utcnow,
)

VIEWS = ("pending", "mine", "open", "resolved")


@dataclass(frozen=True)
class QueueItem:
    conversation_id: int
    bot_id: int
    bot_name: str
    status: str
    visitor: str  # the linked contact's name or email, else "Visitor <session prefix>"
    preview: str  # the last visitor message
    handoff_reason: str
    handoff_at: datetime | None
    waiting_seconds: int  # pending: since the handoff; otherwise 0
    agent: str
    assigned_user_id: int | None
    last_message_at: datetime


@dataclass
class Thread:
    """One conversation's full history, and the event id a live reader continues after."""

    conversation_id: int
    bot_name: str
    status: str
    visitor: str
    agent: str
    assigned_user_id: int | None
    handoff_reason: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    last_event_id: int = 0


def _visitor(contact: Contact | None, session_id: str) -> str:
    if contact is not None and (contact.name or contact.email):
        return contact.name or contact.email
    return f"Visitor {session_id[-6:]}"


def queue(
    session: Session,
    actor: Actor,
    *,
    view: str = "open",
    bot_id: int | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> list[QueueItem]:
    actor.require(Permission.HANDLE_CONVERSATIONS)
    if view not in VIEWS:
        raise ValidationFailed(f"view must be one of {', '.join(VIEWS)}.")
    query = (
        scoped_select(actor, Conversation)
        .add_columns(Bot.name, Contact)
        .join(Bot, col(Bot.id) == Conversation.bot_id)
        .outerjoin(Contact, col(Contact.id) == Conversation.contact_id)
    )
    if bot_id is not None:
        query = query.where(col(Conversation.bot_id) == bot_id)
    if view == "pending":
        query = query.where(col(Conversation.status) == ConversationStatus.PENDING).order_by(
            col(Conversation.handoff_at).asc()
        )
    elif view == "mine":
        query = query.where(
            col(Conversation.status) == ConversationStatus.ASSIGNED,
            col(Conversation.assigned_user_id) == actor.user_id,
        ).order_by(col(Conversation.last_message_at).desc())
    elif view == "open":
        pending_first = case((col(Conversation.status) == ConversationStatus.PENDING, 0), else_=1)
        query = query.where(
            col(Conversation.status).in_((ConversationStatus.PENDING, ConversationStatus.ASSIGNED))
        ).order_by(pending_first, col(Conversation.handoff_at).asc())
    else:
        query = query.where(col(Conversation.status) == ConversationStatus.RESOLVED).order_by(
            col(Conversation.resolved_at).desc()
        )
    rows = session.execute(query.limit(max(1, min(limit, 500)))).all()
    previews = _previews(session, [row[0].id for row in rows])
    now = now or utcnow()
    names: dict[int, str] = {}
    items = []
    for conversation, bot_name, contact in rows:
        agent_id = conversation.assigned_user_id
        if agent_id and agent_id not in names:
            names[agent_id] = agent_name(session, agent_id)
        waiting = 0
        if (
            conversation.status == ConversationStatus.PENDING
            and conversation.handoff_at is not None
        ):
            waiting = max(0, int((now - aware(conversation.handoff_at)).total_seconds()))
        items.append(
            QueueItem(
                conversation_id=conversation.id,
                bot_id=conversation.bot_id,
                bot_name=bot_name,
                status=conversation.status,
                visitor=_visitor(contact, conversation.session_id),
                preview=previews.get(conversation.id, ""),
                handoff_reason=conversation.handoff_reason,
                handoff_at=conversation.handoff_at,
                waiting_seconds=waiting,
                agent=names.get(agent_id, "") if agent_id else "",
                assigned_user_id=agent_id,
                last_message_at=conversation.last_message_at,
            )
        )
    return items


def _previews(session: Session, conversation_ids: list[int]) -> dict[int, str]:
    """The last visitor message of each conversation, cut to one line."""
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(col(Message.conversation_id).in_(conversation_ids), Message.role == "user")
        .group_by(col(Message.conversation_id))
    )
    rows = session.exec(
        select(Message.conversation_id, Message.content).where(col(Message.id).in_(latest))
    ).all()
    return {cid: " ".join(content.split())[:120] for cid, content in rows}


def counts(session: Session, actor: Actor, *, bot_id: int | None = None) -> dict[str, int]:
    """Conversations per view: the badge shows `pending`."""
    actor.require(Permission.HANDLE_CONVERSATIONS)
    query = select(
        func.sum(case((col(Conversation.status) == ConversationStatus.PENDING, 1), else_=0)),
        func.sum(case((col(Conversation.status) == ConversationStatus.ASSIGNED, 1), else_=0)),
        func.sum(
            case(
                (
                    (col(Conversation.status) == ConversationStatus.ASSIGNED)
                    & (Conversation.assigned_user_id == actor.user_id),
                    1,
                ),
                else_=0,
            )
        ),
        func.sum(case((col(Conversation.status) == ConversationStatus.RESOLVED, 1), else_=0)),
    ).where(Conversation.workspace_id == actor.workspace_id)
    if bot_id is not None:
        query = query.where(Conversation.bot_id == bot_id)
    pending, assigned, mine, resolved = session.exec(query).one()
    pending, assigned = int(pending or 0), int(assigned or 0)
    return {
        "pending": pending,
        "assigned": assigned,
        "open": pending + assigned,
        "mine": int(mine or 0),
        "resolved": int(resolved or 0),
    }


def check_follow(session: Session, actor: Actor, conversation_id: int | None = None) -> None:
    """Refuse unless the actor may still watch the queue (and this conversation).

    The dashboard's live followers ask on every event and wake-up with an actor re-read from the
    database, so a member removed or demoted stops receiving at once, not at the next page load.
    """
    actor.require(Permission.HANDLE_CONVERSATIONS)
    if conversation_id:
        get_scoped(session, actor, Conversation, conversation_id, "Conversation")


def thread(session: Session, actor: Actor, conversation_id: int) -> Thread:
    """The conversation's whole history for an agent, oldest first."""
    actor.require(Permission.HANDLE_CONVERSATIONS)
    conversation = get_scoped(session, actor, Conversation, conversation_id, "Conversation")
    last = bus.last_event_id(session, conversation.id)  # first: history then covers it
    bot = session.get(Bot, conversation.bot_id)
    contact = session.get(Contact, conversation.contact_id) if conversation.contact_id else None
    rows = session.exec(
        select(Message, User)
        .outerjoin(User, col(User.id) == Message.user_id)
        .where(
            Message.workspace_id == actor.workspace_id,
            Message.conversation_id == conversation.id,
        )
        .order_by(col(Message.id))
    ).all()
    visitor = _visitor(contact, conversation.session_id)
    messages = [
        {
            "id": message.id,
            "role": message.role,
            "content": message.content,
            "author": _author(message, user, visitor, bot.name if bot else "Bot"),
            "created_at": aware(message.created_at).isoformat(),
        }
        for message, user in rows
    ]
    return Thread(
        conversation_id=conversation.id,
        bot_name=bot.name if bot else "",
        status=conversation.status,
        visitor=visitor,
        agent=agent_name(session, conversation.assigned_user_id),
        assigned_user_id=conversation.assigned_user_id,
        handoff_reason=conversation.handoff_reason,
        messages=messages,
        last_event_id=last,
    )


def _author(message: Message, user: User | None, visitor: str, bot_name: str) -> str:
    if message.role == "user":
        return visitor
    if message.role == "agent":
        return (user.name or user.email.split("@")[0]) if user else "Agent"
    return bot_name


def stats(
    session: Session,
    actor: Actor,
    *,
    bot_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    audience: str = "",
) -> dict[str, Any]:
    """Handoffs asked for in [since, until), and the median time (seconds) from the ask to the
    first human reply and to resolution (what Analytics shows)."""
    actor.require(Permission.READ)
    query = scoped_select(actor, Conversation).where(col(Conversation.handoff_at).is_not(None))
    if bot_id is not None:
        query = query.where(Conversation.bot_id == bot_id)
    if since is not None:
        query = query.where(col(Conversation.handoff_at) >= since)
    if until is not None:
        query = query.where(col(Conversation.handoff_at) < until)
    if audience:
        query = query.where(Conversation.audience == audience)
    first: list[float] = []
    resolution: list[float] = []
    total = 0
    for conversation in session.exec(query):
        total += 1
        start = aware(conversation.handoff_at)
        if conversation.first_human_reply_at is not None:
            first.append((aware(conversation.first_human_reply_at) - start).total_seconds())
        if conversation.resolved_at is not None:
            resolution.append((aware(conversation.resolved_at) - start).total_seconds())
    return {
        "handoffs": total,
        "replied": len(first),
        "resolved": len(resolution),
        "first_reply_seconds": _median(first),
        "resolution_seconds": _median(resolution),
    }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return round(ordered[middle], 1)
    return round((ordered[middle - 1] + ordered[middle]) / 2, 1)
