"""The chat pipeline's inputs and outputs: a request as the widget, the playground or a script
sends it, how it is validated, and the events (and JSON reply) an answer is made of."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from chatapp.core.config import get_settings
from chatapp.core.errors import TooLarge, ValidationFailed
from chatapp.services.accounts.tenancy import Actor

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CHANNELS = ("widget", "playground", "api", "openai", "chatbase")
HISTORY_ROLES = ("user", "assistant")
ANSWER_CHARS_PER_MESSAGE_CHAR = 10  # an LLM answer may run past a message's limit


@dataclass
class ChatRequest:
    bot_id: str  # the bot's public id (bot_...)
    message: str
    session_id: str | None = None  # the visitor's; a new one is made when missing
    api_key: str | None = None  # the widget key (not needed with an actor)
    origin: str | None = None
    referer: str | None = None
    ip: str = ""
    client_id: str | None = None  # idempotency key: a retry with it is never stored twice
    channel: str = "widget"
    actor: Actor | None = None  # a workspace member (playground): no widget key needed
    visitor: dict[str, Any] | None = None  # the widget's identify(): becomes a linked Contact
    audience: str | None = None  # the visitor's pick among the bot's audiences (a key)
    # The playground's unsaved tweaks; honoured only for a member (actor), ignored for visitors.
    instructions: str | None = None
    model: str | None = None
    temperature: float | None = None
    # The earlier turns as the client sent them (OpenAI's and Chatbase's `messages`): used
    # instead of the conversation's stored history, for clients that keep their own.
    history: tuple[tuple[str, str], ...] | None = None
    # False for a server-side client with a widget key (the OpenAI-compatible API): a bot's
    # allowed domains protect browser embeds, and a server may send any Origin it likes.
    check_site: bool = True


@dataclass(frozen=True)
class Event:
    type: str  # token, sources, done, error
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, **self.data}

    def sse(self) -> str:
        body = json.dumps(self.payload(), ensure_ascii=False, separators=(",", ":"))
        return f"event: {self.type}\ndata: {body}\n\n"


@dataclass
class ChatReply:
    """The JSON form: everything the events carried."""

    answer: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    message_id: int | None = None
    conversation_id: int | None = None
    session_id: str = ""
    answered: bool = False
    usage: dict[str, int] = field(default_factory=dict)
    latency_ms: int | None = None
    error: dict[str, str] | None = None
    # The `action` events' data (link, lead_form, handoff), in their order.
    actions: list[dict[str, Any]] = field(default_factory=list)


def validate(request: ChatRequest) -> tuple[str, str, str | None]:
    """The message, session id (made when missing) and client id, or a refusal in words."""
    settings = get_settings()
    message = (request.message or "").strip()
    if not message:
        raise ValidationFailed("Type a message first.")
    if len(message) > settings.max_message_chars:
        raise TooLarge(
            f"Your message is too long: at most {settings.max_message_chars} characters."
        )
    session_id = request.session_id
    if session_id is None or session_id == "":
        session_id = secrets.token_urlsafe(16)
    elif not SESSION_ID.fullmatch(session_id):
        raise ValidationFailed("session_id must be 8 to 64 letters, digits, '-' or '_'.")
    client_id = request.client_id or None
    if client_id is not None and not CLIENT_ID.fullmatch(client_id):
        raise ValidationFailed("client_id must be 1 to 64 letters, digits or '-_.:'.")
    if request.channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}.")
    if request.history is not None:
        _check_history(request.history, settings.max_message_chars)
    return message, session_id, client_id


def _check_history(history: tuple[tuple[str, str], ...], max_chars: int) -> None:
    """A visitor's earlier message has the limit of a message; an earlier answer (the bot's own,
    sent back by the client) may be longer, up to ANSWER_CHARS_PER_MESSAGE_CHAR times that."""
    for role, content in history:
        if role not in HISTORY_ROLES:
            raise ValidationFailed("Earlier messages must come from 'user' or 'assistant'.")
        if role == "user" and len(content) > max_chars:
            raise TooLarge(f"An earlier message is too long: at most {max_chars} characters.")
        answer_chars = max_chars * ANSWER_CHARS_PER_MESSAGE_CHAR
        if role == "assistant" and len(content) > answer_chars:
            raise TooLarge(f"An earlier answer is too long: at most {answer_chars} characters.")
