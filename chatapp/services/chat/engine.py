"""The chat engine: a begun turn answered as a stream of events, stored once, the same way for
every kind of answer.

    strategy (strategies.py / routed.py) -> `token`... -> `sources` -> `action`... -> recorded
    (recorder.py) -> more `action`s (a handoff after the answer) -> `done`; or `error`

Whatever the strategy, a visitor who leaves mid-answer gets what they were sent stored, and an
answer that breaks is recorded as failed (what was sent stored, the message refunded, an error
counted). Database and model work runs in worker threads (`anyio.to_thread`): the event loop only
relays tokens.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread

from chatapp.core import metrics
from chatapp.core.errors import ServiceError
from chatapp.services.actions import in_chat
from chatapp.services.chat import recorder, routed, strategies
from chatapp.services.chat.begin import begin
from chatapp.services.chat.compose import extractive
from chatapp.services.chat.llm import client as llm
from chatapp.services.chat.request import ChatReply, ChatRequest, Event
from chatapp.services.chat.turn import Draft, Turn
from chatapp.services.models import Message

log = logging.getLogger(__name__)

UNAVAILABLE = "The assistant is unavailable right now. Please try again in a moment."


def _done(turn: Turn, draft: Draft, message_id: int | None, answered: bool, status: str) -> Event:
    usage = draft.usage
    return Event(
        "done",
        {
            "message_id": message_id,
            "conversation_id": turn.conversation_id,
            "session_id": turn.session_id,
            "answered": answered,
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
            "latency_ms": turn.elapsed_ms(),
            "conversation_status": status,
            "handled_by": turn.handled_by,
            **draft.done_extra,
        },
    )


def _shown_to(turn: Turn, sources: list[dict]) -> list[dict]:
    """How well a source matched is for the owner's eyes (playground, Activity), not visitors'."""
    if turn.request.actor is not None:
        return sources
    return [{k: v for k, v in s.items() if k != "strength"} for s in sources]


async def _replay(turn: Turn, stored: Message) -> AsyncIterator[Event]:
    """A retried request that was answered already: the stored answer again, nothing counted."""
    for piece in extractive.word_chunks(stored.content):
        yield Event("token", {"content": piece})
    yield Event("sources", {"sources": _shown_to(turn, list(stored.citations or []))})
    draft = Draft(usage=llm.Usage(stored.prompt_tokens, stored.completion_tokens))
    yield _done(turn, draft, stored.id, not stored.fell_back, turn.status)


async def events(turn: Turn) -> AsyncIterator[Event]:
    """Answer a begun turn: tokens, then sources, then done (or an error event)."""
    if turn.replay is not None:
        async for event in _replay(turn, turn.replay):
            yield event
        return
    if turn.handled_by == "human":
        metrics.answer_outcome("human")
        yield _done(turn, Draft(), None, False, turn.status)
        return
    draft = Draft()  # each strategy names its model
    finished = False
    try:
        strategy = routed.answer if turn.route is not None else await strategies.plan(turn)
        async for piece in strategy(turn, draft):
            if draft.first_token_ms is None:
                draft.first_token_ms = turn.elapsed_ms()
            draft.said.append(piece)
            yield Event("token", {"content": piece})
        yield Event("sources", {"sources": _shown_to(turn, draft.sources)})
        for event in in_chat.events(turn.bot_actions):
            yield event
        recorded = await anyio.to_thread.run_sync(recorder.complete, turn, draft)
        finished = True
        for action in recorded.handoff_actions:
            yield Event("action", action)
        yield _done(turn, draft, recorded.message_id, not draft.fell_back, recorded.status)
    except Exception as exc:  # the visitor gets a sentence; the details go to the log
        finished = True
        if isinstance(exc, llm.LLMError):
            code, message = exc.code, exc.message
        else:
            log.exception("chat answer failed (bot %s)", turn.bot_id)
            code, message = "unavailable", UNAVAILABLE
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(recorder.failed, turn, draft)
        yield Event("error", {"code": code, "message": message})
    finally:
        if not finished and draft.said:
            # The visitor left mid-answer: keep what was said (shielded from the cancellation).
            with anyio.CancelScope(shield=True):
                try:
                    await anyio.to_thread.run_sync(
                        lambda: recorder.complete(turn, draft, partial=True)
                    )
                except Exception:
                    log.warning("could not store an interrupted answer", exc_info=True)


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
        elif event.type == "action":
            result.actions.append(dict(event.data))
        elif event.type == "done":
            result.message_id = event.data["message_id"]
            result.answered = event.data["answered"]
            result.usage = event.data["usage"]
            result.latency_ms = event.data["latency_ms"]
        elif event.type == "error":
            result.error = {"code": event.data["code"], "message": event.data["message"]}
    result.answer = "".join(parts)
    return result
