"""The chat pipeline: one visitor message in, a stored, cited answer out, as a stream of events.

    begin()   (chat_begin.py) checks, counts and stores the question -> a `Turn`
    events()  follow-up query -> retrieve -> answer (LLM stream with the bot's actions as tools,
              or extractive offline with the actions' rules, or the bot's fallback, or a router's
              chosen bots) -> `token`... -> `sources` -> store answer -> `action`... -> `done`
              (or `error`)

`stream()` turns refusals into an `error` event for callers that only want events, and `reply()`
collects everything for the JSON form. Database and model work runs in worker threads
(`anyio.to_thread`): the event loop only relays tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread

from chatapp.services import (
    audiences,
    citations,
    conversations,
    extractive,
    followup,
    handoff,
    llm,
    metrics,
    prompts,
    quota,
    routed_chat,
)
from chatapp.services.actions import in_chat as actions
from chatapp.services.chat_begin import Turn, begin, note_handoff, retrieve_passages
from chatapp.services.chat_request import ChatReply, ChatRequest, Event
from chatapp.services.config import get_settings
from chatapp.services.db import session_scope
from chatapp.services.errors import ServiceError
from chatapp.services.models import Conversation
from chatapp.services.retrieval import Passage, Retrieval

__all__ = ["ChatReply", "ChatRequest", "Event", "Turn", "begin", "events", "reply", "stream"]

log = logging.getLogger(__name__)

UNAVAILABLE = "The assistant is unavailable right now. Please try again in a moment."


# ---------------------------------------------------------------------------------- events


def _ms(turn: Turn) -> int:
    return round((time.perf_counter() - turn.started) * 1000)


def _store(turn: Turn, answer: conversations.Answer) -> int:
    with session_scope() as session:
        conversation = session.get(Conversation, turn.conversation_id)
        message_id = conversations.add_answer(
            session, conversation, answer, turn.request.client_id or None
        )
        if turn.handoff is None and turn.request.actor is None:
            outcome = handoff.after_answer(session, conversation, fell_back=answer.fell_back)
            if outcome is not None:
                note_handoff(turn, outcome)
        if turn.handoff is None and conversation.status != "bot":
            turn.status = conversation.status  # the model or a rule handed it to a person
        actions.attach(session, message_id, turn.bot_actions, also=turn.handoff_actions)
        conversations.count_usage(
            session,
            workspace_id=turn.workspace_id,
            bot_id=turn.bot_id,
            answered=not answer.fell_back,
            fell_back=answer.fell_back,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )
    metrics.observe_answer(answer)
    return message_id


def _record_failure(turn: Turn) -> None:
    """The answer failed before it was delivered: give the message back, count the error.

    Never raises: when the database itself is what failed, the visitor still gets the `error`
    event (the refund is then lost, and logged)."""
    try:
        with session_scope() as session:
            quota.refund(session, turn.bot_id)
            conversations.count_usage(
                session, workspace_id=turn.workspace_id, bot_id=turn.bot_id, error=True
            )
    except Exception:
        log.warning("could not refund a failed answer (bot %s)", turn.bot_id, exc_info=True)
    metrics.answer_outcome("error")


async def _replay(turn: Turn) -> AsyncIterator[Event]:
    stored = turn.replay
    for piece in extractive.word_chunks(stored.content):
        yield Event("token", {"content": piece})
    yield Event("sources", {"sources": list(stored.citations or [])})
    yield _done(
        turn, stored.id, not stored.fell_back, stored.prompt_tokens, stored.completion_tokens
    )


def _done(
    turn: Turn, message_id: int | None, answered: bool, prompt: int, completion: int
) -> Event:
    return Event(
        "done",
        {
            "message_id": message_id,
            "conversation_id": turn.conversation_id,
            "session_id": turn.session_id,
            "answered": answered,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "latency_ms": _ms(turn),
            "conversation_status": turn.status,
            "handled_by": turn.handled_by,
        },
    )


async def events(turn: Turn) -> AsyncIterator[Event]:
    """Answer a begun turn: tokens, then sources, then done (or an error event)."""
    if turn.replay is not None:
        async for event in _replay(turn):
            yield event
        return
    if turn.handled_by == "human":
        metrics.answer_outcome("human")
        yield _done(turn, None, False, 0, 0)
        return
    if turn.route is not None:
        async for event in routed_chat.events(turn):
            yield event
        return
    pieces: list[str] = []
    first_token_ms: int | None = None
    stored = False
    failed = False
    try:
        passages: list[Passage] = []
        shown: list[dict[str, Any]] = []  # the sources listed under the answer
        fell_back = False
        usage = llm.Usage()
        canned = extractive.small_talk(turn.message, welcome=turn.welcome)
        if turn.handoff is not None:
            text: str | None = turn.handoff.message
        elif canned is not None and turn.llm is None:
            text = canned
        else:
            if canned is not None:
                found = Retrieval([], True)
            elif turn.prefetched is not None:
                found = turn.prefetched
            else:
                query = await followup.retrieval_query(turn.message, turn.history, turn.llm)
                found = await anyio.to_thread.run_sync(retrieve_passages, turn, query)
            tools = turn.llm is not None and bool(turn.bot_actions and turn.bot_actions.has_tools)
            if canned is None and not found.confident and not tools:
                text, fell_back = turn.fallback, True
            elif turn.llm is None:
                query = followup.heuristic_query(turn.message, turn.history)
                extract = await anyio.to_thread.run_sync(_extract, turn.message, query, found)
                if extract is None:
                    text, fell_back = turn.fallback, True
                else:
                    text = extract.text
                    shown = [citations.source(n, p) for n, p in enumerate(extract.passages, 1)]
            else:
                text, passages = None, found.passages
            offline_actions = turn.llm is None and canned is None and turn.bot_actions is not None
            if offline_actions and turn.bot_actions.available:  # offline: the owner's rules pick
                ran = await anyio.to_thread.run_sync(
                    lambda: actions.offline(turn.bot_actions, turn.message, fell_back=fell_back)
                )
                if ran is not None:
                    text, fell_back, shown = ran, False, []

        if text is not None:
            for piece in extractive.word_chunks(text):
                if first_token_ms is None:
                    first_token_ms = _ms(turn)
                pieces.append(piece)
                yield Event("token", {"content": piece})
        else:
            settings = get_settings()
            messages = prompts.chat_messages(
                bot_name=turn.bot_name,
                instructions=turn.instructions,
                fallback=turn.fallback,
                passages=passages,
                history=turn.history,
                question=turn.message,
                audience=audiences.prompt_part(turn.audiences, turn.audience),
            )
            async for piece in actions.stream_answer(
                turn.bot_actions,
                turn.llm,
                messages,
                usage=usage,
                max_tokens=settings.llm_max_tokens,
                temperature=turn.temperature,
                attempts=settings.llm_attempts,
                retry_base=settings.llm_retry_base_seconds,
            ):
                if first_token_ms is None:
                    first_token_ms = _ms(turn)
                pieces.append(piece)
                yield Event("token", {"content": piece})
            answer_text = "".join(pieces)
            if not usage.reported:
                usage.prompt_tokens = sum(llm.estimate_tokens(m["content"]) for m in messages)
                usage.completion_tokens = llm.estimate_tokens(answer_text)
            fell_back = canned is None and citations.is_fallback(answer_text, turn.fallback)
            if not fell_back and canned is None:
                shown = citations.cited(answer_text, passages)

        yield Event("sources", {"sources": shown})
        for event in actions.events(turn.bot_actions):
            yield event
        answer = conversations.Answer(
            content="".join(pieces),
            citations=shown,
            fell_back=fell_back,
            model=turn.llm.model if turn.llm and text is None else "extractive",
            latency_ms=_ms(turn),
            first_token_ms=first_token_ms,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        message_id = await anyio.to_thread.run_sync(_store, turn, answer)
        stored = True
        for action in turn.handoff_actions:
            yield Event("action", action)
        yield _done(turn, message_id, not fell_back, usage.prompt_tokens, usage.completion_tokens)
    except Exception as exc:  # the visitor gets a sentence; the details go to the log
        failed = True
        if isinstance(exc, llm.LLMError):
            code, message = exc.code, exc.message
        else:
            log.exception("chat answer failed (bot %s)", turn.bot_id)
            code, message = "unavailable", UNAVAILABLE
        if not pieces:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_record_failure, turn)
        yield Event("error", {"code": code, "message": message})
    finally:
        if not stored and not failed and pieces:
            # The visitor left mid-answer: keep what was said (shielded from the cancellation).
            with anyio.CancelScope(shield=True):
                partial = conversations.Answer(
                    "".join(pieces),
                    [],
                    False,
                    turn.llm.model if turn.llm else "extractive",
                    _ms(turn),
                    first_token_ms,
                    0,
                    llm.estimate_tokens("".join(pieces)),
                )
                try:
                    await anyio.to_thread.run_sync(_store, turn, partial)
                except Exception:
                    log.warning("could not store an interrupted answer", exc_info=True)


def _extract(question: str, query: str, found: Retrieval) -> extractive.Extract | None:
    from chatapp.services.embeddings import get_embedder

    try:
        embedder = get_embedder()
    except ServiceError:
        embedder = None
    return extractive.compose(question, found.passages, query=query, embedder=embedder)


# ------------------------------------------------------------------------------ conveniences


async def stream(request: ChatRequest) -> AsyncIterator[Event]:
    """begin() + events(), with refusals as an `error` event (code = the HTTP status)."""
    try:
        turn = await begin(request)
    except ServiceError as exc:
        yield Event("error", {"code": str(exc.status), "message": exc.message})
        return
    async for event in events(turn):
        yield event


async def reply(request: ChatRequest) -> ChatReply:
    """The non-streaming form: the whole answer at once (refusals raise ServiceError)."""
    turn = await begin(request)
    result = ChatReply(session_id=turn.session_id, conversation_id=turn.conversation_id)
    parts: list[str] = []
    async for event in events(turn):
        if event.type == "token":
            parts.append(event.data["content"])
        elif event.type == "sources":
            result.sources = event.data["sources"]
        elif event.type == "done":
            result.message_id = event.data["message_id"]
            result.answered = event.data["answered"]
            result.usage = event.data["usage"]
            result.latency_ms = event.data["latency_ms"]
        elif event.type == "error":
            result.error = {"code": event.data["code"], "message": event.data["message"]}
    result.answer = "".join(parts)
    return result
