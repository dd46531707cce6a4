"""Visitors rate an answer (thumbs up or down) from the widget."""

from __future__ import annotations

from sqlmodel import Session

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts import visitor_access
from chatapp.services.chat import conversations

RATINGS = {"up": 1, "down": -1, "none": 0}


def rate_answer(
    session: Session,
    *,
    bot_id: str,
    api_key: str | None,
    origin: str | None,
    referer: str | None,
    session_id: str,
    message_id: int,
    rating: str,
) -> int:
    """Store the visitor's rating of one of the answers in their conversation; returns it."""
    if rating not in RATINGS:
        raise ValidationFailed("rating must be 'up', 'down' or 'none'.")
    bot = visitor_access.public_bot(session, bot_id)
    visitor_access.check_key(session, bot, api_key)
    visitor_access.check_origin(bot, origin, referer)
    value = RATINGS[rating]
    conversations.set_feedback(
        session, bot=bot, session_id=session_id, message_id=message_id, rating=value
    )
    return value
