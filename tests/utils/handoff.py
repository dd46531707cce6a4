"""Handoff test helpers: a bot's handoff (and lead form) action, a visitor, an agent's stream."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.services.accounts.tenancy import actor_for
from chatapp.services.actions import store as actions_store
from chatapp.services.live import bus
from chatapp.services.models import Conversation, Membership, Role

HANDOFF = {
    "button_label": "Talk to a person",
    "phrases": ["talk to a human", "real person"],
    "fallback_threshold": 2,
    "hours": None,
    "wait_minutes": 5,
    "connecting_message": "Connecting you with our team.",
    "unavailable_message": "We are closed now; leave your details.",
}


def add_action(bot_id: int, workspace_id: int, kind: str, engine=None, **config: Any) -> int:
    """An enabled action made through the actions service (its config validated), as the
    Actions page makes it; the handoff defaults above, overridden by `config`."""
    values = {**HANDOFF, **config} if kind == "handoff" else config
    with session_scope(engine) as session:
        owner = session.exec(
            select(Membership).where(
                Membership.workspace_id == workspace_id, Membership.role == Role.OWNER
            )
        ).first()
        actor = actor_for(session, user_id=owner.user_id, workspace_id=workspace_id)
        return actions_store.create_action(session, actor, bot_id, kind=kind, config=values).id


def conversation(conversation_id: int) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, conversation_id)


def stored_events(conversation_id: int, workspace_id: int, after: int = 0) -> list[bus.LiveEvent]:
    return bus._stored_after(workspace_id, conversation_id, after)
