"""An OpenAI-compatible API for every bot: `POST /api/openai/v1/chat/completions` and
`GET /api/openai/v1/models`, for the OpenAI SDKs and the tools built on them (base URL and key
changed, nothing else).

`model` names a bot; the key is a workspace API token (any bot of the workspace) or a bot's
widget key (that bot only). The answer comes from the same pipeline as the widget's: quota, rate
limits, the "I don't know" rule, citations, and a conversation in Activity (channel "openai").
A widget key needs no Origin here, and the bot's allowed domains (which protect browser embeds)
do not apply: a server sends whatever Origin it likes, and these routes send no CORS headers,
so no web page elsewhere can call them. Shapes and the request mapping: openai_shapes.py;
errors in OpenAI's shape: openai_errors.py. docs/API.md, "OpenAI-compatible".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import StreamingResponse

from chatapp.api import openai_shapes as shapes
from chatapp.api.deps import client_ip
from chatapp.api.openai_errors import ERROR_RESPONSES, OpenAIError, OpenAIRoute, answer_failed
from chatapp.core import metrics
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.services.accounts import api_callers
from chatapp.services.accounts.api_callers import Caller
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import CLIENT_ID, ChatRequest, Event
from chatapp.services.chat.turn import Turn
from chatapp.services.models import Bot, BotStatus

router = APIRouter(
    prefix="/api/openai/v1",
    tags=["OpenAI-compatible"],
    route_class=OpenAIRoute,
    responses=ERROR_RESPONSES,
)
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def caller(authorization: str | None = Header(default=None)) -> Caller:
    """The key of `Authorization: Bearer ...` (a sync dependency: FastAPI runs it in a thread,
    in a short transaction of its own that ends before the answer starts)."""
    token = ""
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    with session_scope() as session:
        return api_callers.caller_for(session, token)


def _model(bot: Bot, slug: str) -> shapes.ModelOut:
    created = bot.created_at if bot.created_at.tzinfo else bot.created_at.replace(tzinfo=UTC)
    return shapes.ModelOut(
        id=bot.public_id,
        created=int(created.timestamp()),
        owned_by=slug,
        chatapp={"name": bot.name, "active": bot.status == BotStatus.ACTIVE},
    )


@router.get("/models", response_model=shapes.ModelList)
def list_models(who: Caller = Depends(caller)):
    """The bots this key may use, as OpenAI models (`id` = the bot's public id)."""
    with session_scope() as session:
        slug = api_callers.workspace_slug(session, who)
        found = api_callers.usable_bots(session, who)
        return shapes.ModelList(data=[_model(bot, slug) for bot in found])


@router.get("/models/{model}", response_model=shapes.ModelOut)
def get_model(model: str = Path(max_length=64), who: Caller = Depends(caller)):
    """One bot as an OpenAI model; 404 `model_not_found` unless this key may use it."""
    with session_scope() as session:
        bot = api_callers.usable_bot(session, who, model)
        return _model(bot, api_callers.workspace_slug(session, who))


def _usable_public_id(who: Caller, model: str) -> str:
    with session_scope() as session:
        return api_callers.usable_bot(session, who, model).public_id


def _idempotency_key(request: Request) -> str | None:
    """The `Idempotency-Key` header: a retry with it is answered from the stored answer."""
    key = request.headers.get("idempotency-key") or None
    if key is not None and not CLIENT_ID.fullmatch(key):
        message = "The Idempotency-Key header must be 1 to 64 letters, digits or '-_.:'."
        raise OpenAIError(400, message, code="invalid_value", param="Idempotency-Key")
    return key


def _chat_request(body: shapes.ChatCompletionIn, who: Caller, request: Request) -> ChatRequest:
    settings = get_settings()
    question, history, first = shapes.conversation(
        body.messages, keep=settings.chat_history_messages, max_chars=settings.max_message_chars
    )
    return ChatRequest(
        bot_id=body.model,
        message=question,
        session_id=shapes.session_id_for(body, who.credential, first),
        api_key=who.widget_key,
        ip=client_ip(request),
        client_id=_idempotency_key(request),
        channel="openai",
        actor=who.actor,
        history=history,
        check_site=False,
    )


@dataclass
class Collected:
    """What the answer's events carried, for the final chunk or the whole completion."""

    parts: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    done: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None

    def take(self, event: Event) -> None:
        if event.type == "token":
            self.parts.append(event.data["content"])
        elif event.type == "sources":
            self.sources = event.data["sources"]
        elif event.type == "action":
            self.actions.append(dict(event.data))
        elif event.type == "done":
            self.done = event.data
        elif event.type == "error":
            self.error = {"code": event.data["code"], "message": event.data["message"]}

    def extras(self) -> dict[str, Any]:
        return shapes.extras(self.done, self.sources, self.actions)


async def _stream(turn: Turn, model: str, include_usage: bool) -> AsyncIterator[str]:
    writer, seen = shapes.ChunkWriter(model, include_usage), Collected()
    yield writer.delta({"role": "assistant", "content": ""})
    with metrics.stream_open("chat"):
        async for event in chat_engine.events(turn):
            seen.take(event)
            if event.type == "token":
                yield writer.delta({"content": event.data["content"]})
            elif event.type == "done":
                yield writer.delta({}, shapes.finish_reason(seen.done), chatapp=seen.extras())
                if include_usage:
                    yield writer.usage(seen.done["usage"])
            elif seen.error is not None:  # OpenAI's SDKs raise APIError on this chunk
                yield shapes.error_line(**seen.error)
    yield shapes.DONE_LINE


async def _whole(turn: Turn, model: str) -> dict[str, Any]:
    seen = Collected()
    async for event in chat_engine.events(turn):
        seen.take(event)
    if seen.error is not None:
        raise answer_failed(**seen.error)
    return shapes.completion(model, "".join(seen.parts), seen.done, seen.sources, seen.actions)


@router.post(
    "/chat/completions",
    responses={
        200: {
            "description": "A `chat.completion` object; with `stream`, `chat.completion.chunk` "
            "Server-Sent Events ending with `data: [DONE]`.",
            "content": {"text/event-stream": {}},
        },
        502: {"description": "The LLM broke off (not streamed)."},
        504: {"description": "The LLM timed out (not streamed)."},
    },
)
async def chat_completions(
    body: shapes.ChatCompletionIn, request: Request, who: Caller = Depends(caller)
) -> Any:
    """A bot's answer to the last user message, with the earlier messages as its history."""
    shapes.check_supported(body)
    await anyio.to_thread.run_sync(_usable_public_id, who, body.model)  # else 404, first
    chat_request = _chat_request(body, who, request)
    turn = await chat_begin.begin(chat_request)  # refusals become 4xx before any chunk
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _stream(turn, body.model, include_usage)
        return StreamingResponse(chunks, media_type="text/event-stream", headers=STREAM_HEADERS)
    return await _whole(turn, body.model)
