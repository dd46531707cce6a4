"""Live handoff: when a person takes over a conversation, and what each step changes.

    bot --request()--> pending --take()--> assigned --resolve()--> resolved
                          \\__ release() (any open state) --> bot       (take() also from bot)

Settings come from the bot's enabled action of kind `handoff` (its `config`, see
docs/LIVE_AND_ACTIONS.md); without one, the bot offers no handoff, though an agent can still take
any conversation from the inbox. Every change is one conditional UPDATE (two agents taking the
same conversation: exactly one wins), stored as a conversation event and announced on the
workspace's queue channel, all in the caller's transaction. The visitor's and the bot's steps
are here; an agent's (take, reply, release, resolve) are in `agents.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlmodel import Session, col, select

from chatapp.core import metrics
from chatapp.core.errors import ValidationFailed
from chatapp.services.live import bus
from chatapp.services.models import (
    Action,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Message,
    utcnow,
)

OPEN = (ConversationStatus.PENDING, ConversationStatus.ASSIGNED)
REASONS = ("button", "phrase", "fallbacks", "model", "rule", "agent")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONNECTING = "I'm connecting you with a person. Someone will reply here shortly."
UNAVAILABLE = "No one is available to chat right now. Leave your details and we'll get back to you."


@dataclass(frozen=True)
class HandoffOutcome:
    status: str  # pending, assigned, unavailable
    message: str  # what the visitor is told
    offer_lead_form: bool


@dataclass(frozen=True)
class HandoffSettings:
    button_label: str = "Talk to a person"
    phrases: tuple[str, ...] = ()
    fallback_threshold: int = 0  # 0 = never
    hours: dict[str, Any] | None = None  # None = always
    wait_minutes: int = 0  # 0 = wait for ever
    connecting_message: str = CONNECTING
    unavailable_message: str = UNAVAILABLE


def settings_for(session: Session, bot_id: int) -> HandoffSettings | None:
    """The bot's handoff settings (its first enabled handoff action), or None: no handoff."""
    action = session.exec(
        select(Action)
        .where(Action.bot_id == bot_id, Action.kind == "handoff", col(Action.enabled).is_(True))
        .order_by(col(Action.id))
    ).first()
    return None if action is None else settings_from(action.config)


def settings_from(config: dict[str, Any] | None) -> HandoffSettings:
    """Handoff settings from a handoff action's config (the chat pipeline has it already)."""
    config = config or {}
    defaults = HandoffSettings()
    return HandoffSettings(
        button_label=str(config.get("button_label") or defaults.button_label),
        phrases=tuple(
            str(p).strip().lower() for p in config.get("phrases") or () if str(p).strip()
        ),
        fallback_threshold=max(0, int(config.get("fallback_threshold") or 0)),
        hours=config.get("hours") or None,
        wait_minutes=max(0, int(config.get("wait_minutes") or 0)),
        connecting_message=str(config.get("connecting_message") or CONNECTING),
        unavailable_message=str(config.get("unavailable_message") or UNAVAILABLE),
    )


def matches_phrase(settings: HandoffSettings | None, message: str) -> bool:
    """The visitor's message contains one of the handoff phrases (case-insensitive)."""
    if settings is None or not settings.phrases:
        return False
    text = re.sub(r"\s+", " ", message.lower())
    return any(phrase in text for phrase in settings.phrases)


def within_hours(hours: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """Is `now` inside the configured hours? `None` means always; a day not listed is closed."""
    if not hours:
        return True
    try:
        zone = ZoneInfo(str(hours.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or utcnow()).astimezone(zone)
    span = (hours.get("days") or {}).get(DAYS[local.weekday()])
    if not span or len(span) != 2:
        return False
    clock = local.strftime("%H:%M")
    return str(span[0]) <= clock < str(span[1])


# ------------------------------------------------------------------------------- triggers


def _has_lead_form(session: Session, bot_id: int) -> bool:
    return (
        session.exec(
            select(Action.id).where(
                Action.bot_id == bot_id,
                Action.kind == "collect_lead",
                col(Action.enabled).is_(True),
            )
        ).first()
        is not None
    )


def _attached(session: Session, conversation: Conversation) -> Conversation:
    """The same row in this session (callers may hold one from another session)."""
    return session.get(Conversation, conversation.id) or conversation


def announce_status(session: Session, conversation: Conversation, agent: str | None = None) -> None:
    """Store and announce the conversation's new status (conversation + workspace channels)."""
    session.refresh(conversation)
    bus.publish(session, conversation, "status", {"status": conversation.status, "agent": agent})
    bus.notify_workspace(
        session,
        conversation.workspace_id,
        {"conversation_id": conversation.id, "status": conversation.status},
    )


def request(
    session: Session, conversation: Conversation, *, reason: str, now: datetime | None = None
) -> HandoffOutcome:
    """The visitor (or the bot for them) asks for a person: pending, or unavailable."""
    if reason not in REASONS:
        raise ValidationFailed(f"Unknown handoff reason: {reason}.")
    conversation = _attached(session, conversation)
    settings = settings_for(session, conversation.bot_id)
    if settings is None or not within_hours(settings.hours, now):
        message = settings.unavailable_message if settings else UNAVAILABLE
        offer = _has_lead_form(session, conversation.bot_id)
        return HandoffOutcome("unavailable", message, offer)
    now = now or utcnow()
    result = session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id, col(Conversation.status).not_in(OPEN))
        .values(
            status=ConversationStatus.PENDING,
            handoff_reason=reason,
            handoff_at=now,
            assigned_user_id=None,
            assigned_at=None,
            first_human_reply_at=None,
            resolved_at=None,
            fallback_streak=0,
        )
    )
    if result.rowcount:
        announce_status(session, conversation)
        metrics.handoff("requested")
    else:
        session.refresh(conversation)
    return HandoffOutcome(conversation.status, settings.connecting_message, False)


def human_handles(conversation: Conversation) -> bool:
    """While pending or assigned, the bot does not answer."""
    return conversation.status in OPEN


def visitor_message(
    session: Session, conversation: Conversation, message_id: int, content: str
) -> None:
    """A visitor's message to a person: shown live in the inbox."""
    conversation = _attached(session, conversation)
    row = session.get(Message, message_id)
    bus.publish(session, conversation, "message", message_data(row, author="Visitor"))
    bus.notify_workspace(
        session,
        conversation.workspace_id,
        {"conversation_id": conversation.id, "status": conversation.status, "message": True},
    )


def after_answer(
    session: Session, conversation: Conversation, *, fell_back: bool
) -> HandoffOutcome | None:
    """Count fallbacks in a row; reaching the bot's threshold asks for a person."""
    conversation = _attached(session, conversation)
    if not fell_back:
        if conversation.fallback_streak:
            session.exec(
                update(Conversation)
                .where(col(Conversation.id) == conversation.id)
                .values(fallback_streak=0)
            )
        return None
    session.exec(
        update(Conversation)
        .where(col(Conversation.id) == conversation.id)
        .values(fallback_streak=Conversation.fallback_streak + 1)
    )
    session.refresh(conversation)
    settings = settings_for(session, conversation.bot_id)
    if settings is None or not settings.fallback_threshold or human_handles(conversation):
        return None
    if conversation.fallback_streak < settings.fallback_threshold:
        return None
    return request(session, conversation, reason="fallbacks")


def offer_after_wait(
    session: Session, conversation: Conversation, now: datetime | None = None
) -> bool:
    """Pending past `wait_minutes`: tell the widget (once) to offer the lead form instead."""
    conversation = _attached(session, conversation)
    if conversation.status != ConversationStatus.PENDING or conversation.handoff_at is None:
        return False
    settings = settings_for(session, conversation.bot_id)
    if settings is None or not settings.wait_minutes:
        return False
    now = now or utcnow()
    if now - aware(conversation.handoff_at) < timedelta(minutes=settings.wait_minutes):
        return False
    already = session.exec(
        select(ConversationEvent.id).where(
            ConversationEvent.conversation_id == conversation.id,
            ConversationEvent.type == "action",
            ConversationEvent.created_at >= conversation.handoff_at,
        )
    ).first()
    if already is not None:
        return False
    data = {
        "kind": "lead_form",
        "reason": "no_agent",
        "message": settings.unavailable_message,
        **_lead_form(session, conversation.bot_id),
    }
    bus.publish(session, conversation, "action", data)
    return True


def _lead_form(session: Session, bot_id: int) -> dict[str, Any]:
    action = session.exec(
        select(Action).where(
            Action.bot_id == bot_id, Action.kind == "collect_lead", col(Action.enabled).is_(True)
        )
    ).first()
    if action is None:
        return {}
    config = action.config or {}
    return {"title": config.get("title", ""), "fields": list(config.get("fields") or [])}


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def visitor_typing(conversation: Conversation, is_typing: bool) -> None:
    if human_handles(conversation):
        bus.publish_ephemeral(
            conversation.id, "typing", {"who": "visitor", "typing": bool(is_typing), "name": ""}
        )


def message_data(message: Message, *, author: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "author": author,
        "created_at": aware(message.created_at).isoformat(),
    }
