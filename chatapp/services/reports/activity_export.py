"""Exports of Activity's selection: the matching conversations with their messages, CSV or JSON.

Why its own module: an export reads whole conversations rather than a page of them, and it is
bounded: the file travels to the browser through the dashboard's websocket (`rx.download`), so
at most `EXPORT_MAX_MESSAGES` messages (whole conversations, newest first) go into one file and
`Export.truncated` says when older ones were left out. Visitors write the cells, so CSV cells
that a spreadsheet would run as a formula are defused.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from chatapp.core.errors import ValidationFailed
from chatapp.services.accounts.tenancy import Actor, Permission, scoped_select
from chatapp.services.models import Bot, Conversation, Message, utcnow
from chatapp.services.reports.activity import ActivityFilter, aware, check_filter, conditions

EXPORT_MAX_MESSAGES = 10_000


@dataclass(frozen=True)
class Export:
    filename: str
    mime_type: str
    content: str
    conversations: int
    messages: int
    truncated: bool  # the cap stopped it: older matching conversations were left out


def _conversations_to_export(
    session: Session, actor: Actor, filters: ActivityFilter, max_messages: int
) -> tuple[list[tuple[Conversation, str]], bool]:
    """Newest matching conversations while their messages fit the cap; (rows, truncated)."""
    statement = (
        select(Conversation, Bot.name)
        .join(Bot, col(Bot.id) == Conversation.bot_id)
        .where(*conditions(actor, filters))
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
    )
    chosen: list[tuple[Conversation, str]] = []
    budget = max_messages
    for conversation, bot_name in session.exec(statement.execution_options(yield_per=500)):
        if conversation.message_count > budget:
            return chosen, True
        budget -= conversation.message_count
        chosen.append((conversation, bot_name))
    return chosen, False


def _messages_by_conversation(
    session: Session, actor: Actor, ids: list[int]
) -> dict[int, list[Message]]:
    found: dict[int, list[Message]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # bounded IN lists
        batch = ids[start : start + 500]
        for message in session.exec(
            scoped_select(actor, Message)
            .where(col(Message.conversation_id).in_(batch))
            .order_by(col(Message.conversation_id), col(Message.created_at), col(Message.id))
        ):
            found[message.conversation_id].append(message)
    return found


def _spreadsheet_safe(value: str) -> str:
    """Visitors write these cells: keep spreadsheets from running them as formulas."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _citation_titles(citations: list[dict[str, Any]]) -> str:
    return "; ".join(f"[{c.get('n', '')}] {c.get('title', '')}".strip() for c in citations)


def _iso(moment: datetime) -> str:
    return aware(moment).isoformat(timespec="seconds")


FEEDBACK_WORDS = {1: "up", -1: "down", 0: ""}
CSV_HEADER = [
    "conversation_id",
    "bot",
    "channel",
    "session_id",
    "started_at",
    "message_id",
    "time",
    "role",
    "content",
    "feedback",
    "fell_back",
    "model",
    "citations",
]


def _csv(chosen, messages) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for conversation, bot_name in chosen:
        for message in messages[conversation.id]:
            writer.writerow(
                [
                    conversation.id,
                    _spreadsheet_safe(bot_name),
                    conversation.channel,
                    conversation.session_id,
                    _iso(conversation.started_at),
                    message.id,
                    _iso(message.created_at),
                    message.role,
                    _spreadsheet_safe(message.content),
                    FEEDBACK_WORDS.get(message.feedback, ""),
                    "yes" if message.fell_back else "",
                    message.model,
                    _spreadsheet_safe(_citation_titles(message.citations or [])),
                ]
            )
    return out.getvalue()


def _json(chosen, messages, truncated: bool) -> str:
    document = {
        "exported_at": _iso(utcnow()),
        "truncated": truncated,
        "conversations": [
            {
                "id": conversation.id,
                "bot": bot_name,
                "channel": conversation.channel,
                "session_id": conversation.session_id,
                "started_at": _iso(conversation.started_at),
                "last_message_at": _iso(conversation.last_message_at),
                "messages": [
                    {
                        "id": message.id,
                        "time": _iso(message.created_at),
                        "role": message.role,
                        "content": message.content,
                        "feedback": FEEDBACK_WORDS.get(message.feedback, "") or None,
                        "fell_back": message.fell_back,
                        "model": message.model,
                        "citations": message.citations or [],
                    }
                    for message in messages[conversation.id]
                ],
            }
            for conversation, bot_name in chosen
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def export_conversations(
    session: Session,
    actor: Actor,
    filters: ActivityFilter,
    fmt: str,
    *,
    max_messages: int = EXPORT_MAX_MESSAGES,
) -> Export:
    """The matching conversations with their messages as CSV (one row per message) or JSON.

    Newest first, at most `max_messages` messages (whole conversations only): `truncated` says
    when older ones were left out, so the person can narrow the filters.
    """
    actor.require(Permission.READ)
    if fmt not in ("csv", "json"):
        raise ValidationFailed("Export as csv or json.")
    check_filter(session, actor, filters)
    chosen, truncated = _conversations_to_export(session, actor, filters, max_messages)
    messages = _messages_by_conversation(session, actor, [c.id for c, _ in chosen])
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    count = sum(len(found) for found in messages.values())
    if fmt == "csv":
        content, mime = _csv(chosen, messages), "text/csv"
    else:
        content, mime = _json(chosen, messages, truncated), "application/json"
    return Export(
        filename=f"conversations-{stamp}.{fmt}",
        mime_type=mime,
        content=content,
        conversations=len(chosen),
        messages=count,
        truncated=truncated,
    )
