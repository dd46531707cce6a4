"""What an answer is made from: the read-only `Turn` that begin() hands to the engine, and the
`Draft` that one answer strategy fills in as it speaks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.actions import in_chat
from chatapp.services.bots import routing
from chatapp.services.bots.providers import LLMConfig
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.request import ChatRequest
from chatapp.services.knowledge.retrieval import Retrieval, retrieve
from chatapp.services.live import handoff
from chatapp.services.models import ConversationStatus, Message


@dataclass(frozen=True)
class Turn:
    """A validated, counted request whose question is stored. Read-only: an answer's own
    progress lives in its `Draft`, so every strategy sees the same context."""

    request: ChatRequest
    message: str
    session_id: str
    workspace_id: int
    bot_id: int
    bot_name: str
    instructions: str
    fallback: str
    welcome: str
    conversation_id: int
    user_message_id: int
    history: tuple[tuple[str, str], ...]
    llm: LLMConfig | None
    started: float
    temperature: float | None = None
    replay: Message | None = None
    prefetched: Retrieval | None = None
    status: str = ConversationStatus.BOT  # the conversation's status when the question was stored
    handled_by: str = "bot"  # "human": pending or assigned, the bot stays silent
    handoff: handoff.HandoffOutcome | None = None  # a handoff phrase: answer with its message
    handoff_actions: tuple[dict[str, Any], ...] = ()  # `action` events of that handoff
    audiences: tuple[dict[str, Any], ...] = ()  # the bot's (seed 003)
    audience: str = ""  # the conversation's audience key ("" = not known)
    classify_audience: bool = False  # early in the conversation, no audience yet: classify
    is_router: bool = False
    route: routing.Decision | None = None  # a router bot's choice of bot(s) for this message
    bot_actions: in_chat.TurnActions | None = None  # the bot's actions (records what it offers)

    def elapsed_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)


@dataclass
class Draft:
    """One answer as it is being given: what the visitor was sent is what is stored."""

    model: str = "extractive"
    said: list[str] = field(default_factory=list)  # pieces sent to the visitor: what is stored
    sources: list[dict[str, Any]] = field(default_factory=list)
    fell_back: bool = False
    usage: llm.Usage = field(default_factory=llm.Usage)
    first_token_ms: int | None = None
    routed_bot_id: int | None = None
    done_extra: dict[str, Any] = field(default_factory=dict)  # more fields for `done`

    @property
    def text(self) -> str:
        return "".join(self.said)


def retrieve_passages(turn: Turn, query: str, query_vector=None, *, bot_id: int | None = None):
    """The bot's passages for `query` (in a worker thread: it embeds and searches)."""
    with session_scope() as session:
        return retrieve(
            session,
            workspace_id=turn.workspace_id,
            bot_id=bot_id or turn.bot_id,
            query=query,
            limit=get_settings().chat_passages,
            query_vector=query_vector,
        )
