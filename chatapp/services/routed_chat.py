"""A router bot's answer: the chosen bot(s) answer with their own knowledge, instructions and
fallback; a message with two intents gets two answers in one reply, each introduced by the
answering bot's name, with the sources of both; an unclear message gets the clarifying question.

The conversation (its history, usage and quota) stays on the router bot; the stored answer
records the (first) answering bot in `message.routed_bot_id`. Called by `chat.events()` when the
turn carries a routing decision; it reuses chat.py's storing and accounting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from chatapp.services import audiences, citations, conversations, extractive, followup, llm, prompts
from chatapp.services.chat_request import Event
from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.models import Bot
from chatapp.services.retrieval import Retrieval, retrieve
from chatapp.services.routing import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Answerer:
    bot_id: int
    name: str
    instructions: str
    fallback: str


@dataclass
class _Part:
    text: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    fell_back: bool = False
    streamed: bool = False  # its tokens were already sent (an LLM answer)


def _answerer(workspace_id: int, target: Target) -> _Answerer:
    with session_scope() as session:
        bot = session.get(Bot, target.bot_id)
        if bot is None or bot.workspace_id != workspace_id:  # never another workspace's bot
            raise LookupError(f"routed bot {target.bot_id} is not in workspace {workspace_id}")
        return _Answerer(bot.id, bot.name, bot.instructions, bot.fallback_message)


def _retrieve(workspace_id: int, bot_id: int, query: str) -> Retrieval:
    with session_scope() as session:
        return retrieve(
            session,
            workspace_id=workspace_id,
            bot_id=bot_id,
            query=query,
            limit=get_settings().chat_passages,
        )


def renumber(text: str, sources: list[dict[str, Any]], offset: int) -> tuple[str, list[dict]]:
    """Shift citation numbers by `offset` so two answers' sources do not collide."""
    if not offset:
        return text, sources
    shifted = re.sub(r"\[(\d{1,2})\]", lambda m: f"[{int(m.group(1)) + offset}]", text)
    return shifted, [{**s, "n": s["n"] + offset} for s in sources]


async def _answer_part(turn: Any, who: _Answerer, question: str, usage: llm.Usage):
    """Yield the part's tokens; the last item is the finished `_Part`."""
    from chatapp.services import chat

    part = _Part()
    found = await anyio.to_thread.run_sync(_retrieve, turn.workspace_id, who.bot_id, question)
    if not found.confident:
        part.text, part.fell_back = who.fallback, True
    elif turn.llm is None:
        query = followup.heuristic_query(question, turn.history)
        extract = await anyio.to_thread.run_sync(chat._extract, question, query, found)
        if extract is None:
            part.text, part.fell_back = who.fallback, True
        else:
            part.text = extract.text
            part.sources = [citations.source(n, p) for n, p in enumerate(extract.passages, 1)]
    if part.text:
        yield part
        return
    settings = get_settings()
    messages = prompts.chat_messages(
        bot_name=who.name,
        instructions=who.instructions,
        fallback=who.fallback,
        passages=found.passages,
        history=turn.history,
        question=question,
        audience=audiences.prompt_part(turn.audiences, turn.audience),
    )
    pieces: list[str] = []
    async for piece in llm.stream_chat(
        turn.llm,
        messages,
        usage=usage,
        max_tokens=settings.llm_max_tokens,
        temperature=turn.temperature,
        attempts=settings.llm_attempts,
        retry_base=settings.llm_retry_base_seconds,
    ):
        pieces.append(piece)
        yield piece
    part.text, part.streamed = "".join(pieces), True
    if not usage.reported:
        usage.prompt_tokens += sum(llm.estimate_tokens(m["content"]) for m in messages)
        usage.completion_tokens += llm.estimate_tokens(part.text)
    part.fell_back = citations.is_fallback(part.text, who.fallback)
    if not part.fell_back:
        part.sources = citations.cited(part.text, found.passages)
    yield part


async def events(turn: Any) -> AsyncIterator[Event]:
    """Tokens, sources and done for a routed (or clarified) message; an error event on failure."""
    from chatapp.services import chat

    decision = turn.route
    said: list[str] = []  # what the visitor was sent
    stored: list[str] = []  # what is stored: the same, with the second part's numbers shifted
    first_token_ms: int | None = None

    def emit(text: str) -> list[Event]:
        nonlocal first_token_ms
        out = []
        for piece in extractive.word_chunks(text):
            if first_token_ms is None:
                first_token_ms = chat._ms(turn)
            said.append(piece)
            out.append(Event("token", {"content": piece}))
        return out

    try:
        usage = llm.Usage()
        shown: list[dict[str, Any]] = []
        fell_back = False
        routed_to: list[str] = []
        routed_bot_id = None
        if decision.kind == "clarify":
            stored.append(decision.question)
            for event in emit(decision.question):
                yield event
        else:
            results: list[_Part] = []
            two = len(decision.targets) > 1
            for number, target in enumerate(decision.targets):
                who = await anyio.to_thread.run_sync(_answerer, turn.workspace_id, target)
                routed_to.append(who.name)
                routed_bot_id = routed_bot_id or who.bot_id
                if two:
                    header = ("\n\n" if number else "") + f"**{who.name}:** "
                    stored.append(header)
                    for event in emit(header):
                        yield event
                async for item in _answer_part(turn, who, target.text, usage):
                    if isinstance(item, _Part):
                        text, sources = renumber(item.text, item.sources, len(shown))
                        stored.append(text)
                        if not item.streamed:
                            for event in emit(text):
                                yield event
                        shown += sources
                        results.append(item)
                    else:  # an LLM token (already numbered from 1: renumbered when stored)
                        if first_token_ms is None:
                            first_token_ms = chat._ms(turn)
                        said.append(item)
                        yield Event("token", {"content": item})
            fell_back = all(r.fell_back for r in results)
        yield Event("sources", {"sources": shown})
        answer = conversations.Answer(
            content="".join(stored),
            citations=shown,
            fell_back=fell_back,
            model=turn.llm.model if turn.llm else "extractive",
            latency_ms=chat._ms(turn),
            first_token_ms=first_token_ms,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            routed_bot_id=routed_bot_id,
        )
        message_id = await anyio.to_thread.run_sync(chat._store, turn, answer)
        for action in turn.handoff_actions:  # e.g. a handoff after too many fallbacks in a row
            yield Event("action", action)
        done = chat._done(
            turn, message_id, not fell_back, usage.prompt_tokens, usage.completion_tokens
        )
        done.data["routed_to"] = routed_to
        done.data["clarify"] = decision.kind == "clarify"
        yield done
    except Exception as exc:  # the visitor gets a sentence; the details go to the log
        if isinstance(exc, llm.LLMError):
            code, message = exc.code, exc.message
        else:
            log.exception("routed answer failed (router bot %s)", turn.bot_id)
            code, message = "unavailable", chat.UNAVAILABLE
        if not said:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(chat._record_failure, turn)
        yield Event("error", {"code": code, "message": message})
