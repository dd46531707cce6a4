"""The Inbox's rows as the page shows them (queue entries, bot choices, messages), and the
agent's reply turned into one."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from chatapp.services.live import agents


def waited(seconds: int) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def clock(value: str | datetime | None) -> str:
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.strftime("%H:%M")


@dataclasses.dataclass
class QueueRow:
    id: int = 0
    visitor: str = ""
    bot_name: str = ""
    status: str = ""
    preview: str = ""
    waiting: str = ""
    agent: str = ""
    reason: str = ""
    asked_at: float = 0.0  # epoch seconds: `waiting` is counted from it between refreshes


@dataclasses.dataclass
class BotChoice:
    value: str = ""  # "all" or a bot's id
    label: str = ""


ALL_BOTS = BotChoice("all", "All bots")


@dataclasses.dataclass
class MessageRow:
    id: int = 0
    role: str = ""
    content: str = ""
    author: str = ""
    time: str = ""


def message_row(data: dict) -> MessageRow:
    return MessageRow(
        id=int(data.get("id") or 0),
        role=str(data.get("role", "")),
        content=str(data.get("content", "")),
        author=str(data.get("author", "")),
        time=clock(data.get("created_at")),
    )


def send_reply(session, actor, conversation_id: int, text: str) -> MessageRow:
    """Send the agent's reply; the row to show, with the author's name."""
    message = agents.reply(session, actor, conversation_id, text)
    return message_row(
        {
            "id": message.id,
            "role": "agent",
            "content": message.content,
            "author": agents.agent_name(session, message.user_id),
            "created_at": message.created_at,
        }
    )
