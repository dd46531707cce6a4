"""Whole conversations, one page at a time: Activity's listing with every message of each
conversation on the page, for APIs that hand out transcripts (Chatbase's get-conversations).

Two queries beside Activity's own: the page (activity.py) and all of its messages at once, never
one query per conversation. A page past the last one is empty, not the last page again as in
the dashboard: API clients read pages until one comes back empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col

from chatapp.services.accounts.tenancy import Actor, scoped_select
from chatapp.services.models import Message
from chatapp.services.reports import activity


@dataclass(frozen=True)
class TranscriptMessage:
    id: int
    role: str  # user, assistant, agent (a person's reply) or system
    content: str
    created_at: datetime


@dataclass(frozen=True)
class Transcript:
    row: activity.ConversationRow
    messages: list[TranscriptMessage]


def transcripts(
    session: Session, actor: Actor, filters: activity.ActivityFilter, *, page: int, page_size: int
) -> list[Transcript]:
    """Page `page` (from 1) of the matching conversations, newest activity first, each with
    its messages oldest first."""
    listed = activity.list_conversations(session, actor, filters, page=page, page_size=page_size)
    if listed.page != page or not listed.rows:
        return []
    ids = [row.id for row in listed.rows]
    by_conversation: dict[int, list[TranscriptMessage]] = {i: [] for i in ids}
    messages = session.exec(
        scoped_select(actor, Message)
        .where(col(Message.conversation_id).in_(ids))
        .order_by(col(Message.created_at), col(Message.id))
    )
    for message in messages:
        by_conversation[message.conversation_id].append(
            TranscriptMessage(
                id=message.id,
                role=message.role,
                content=message.content,
                created_at=activity.aware(message.created_at),
            )
        )
    return [Transcript(row, by_conversation[row.id]) for row in listed.rows]
