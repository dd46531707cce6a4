"""What several route modules share: the widget key of a public request, and a chat answer as SSE
or as one JSON reply (the widget's chat and the members' playground chat answer alike)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chatapp.core import metrics
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatReply
from chatapp.services.chat.turn import Turn

ERROR_STATUS = {"llm_timeout": 504, "llm_config": 502, "llm_interrupted": 502}


def widget_key(
    body_key: str | None, authorization: str | None, widget_key_header: str | None
) -> str | None:
    """The widget key: the body's `api_key`, else `X-Widget-Key`, else `Authorization: Bearer`."""
    if body_key:
        return body_key
    if widget_key_header:
        return widget_key_header
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


class Source(BaseModel):
    n: int
    title: str
    url: str
    file: str
    page: int | None
    snippet: str
    source_id: int
    consulted: bool = Field(
        default=False, description="true: given to the model, not cited by the answer."
    )


class ChatAction(BaseModel):
    """What the answer offers beside its text: the stream's `action` event, without `type`."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(
        description="link (label, url), lead_form (title, fields, reason) or "
        "handoff (status, message, offer_lead_form)."
    )


class ChatOut(BaseModel):
    answer: str
    sources: list[Source]
    message_id: int | None
    conversation_id: int | None
    session_id: str
    answered: bool = Field(description="false when the bot answered with its fallback message.")
    usage: dict[str, int]
    latency_ms: int | None
    actions: list[ChatAction] = Field(
        default_factory=list, description="The stream's `action` events, in order."
    )


async def _sse(turn: Turn) -> AsyncIterator[str]:
    with metrics.stream_open("chat"):
        async for event in chat_engine.events(turn):
            yield event.sse()


def chat_stream(turn: Turn, headers: dict[str, str]) -> StreamingResponse:
    """A started turn's events as Server-Sent Events."""
    return StreamingResponse(_sse(turn), media_type="text/event-stream", headers=headers)


def json_reply(reply: ChatReply) -> Any:
    """The JSON form of an answer; a failed answer is its error status with `{detail, code}`."""
    if reply.error:
        status = ERROR_STATUS.get(reply.error["code"], 503)
        return JSONResponse(
            {"detail": reply.error["message"], "code": reply.error["code"]}, status_code=status
        )
    return ChatOut(
        answer=reply.answer,
        sources=reply.sources,
        message_id=reply.message_id,
        conversation_id=reply.conversation_id,
        session_id=reply.session_id,
        answered=reply.answered,
        usage=reply.usage,
        latency_ms=reply.latency_ms,
        actions=[ChatAction(**action) for action in reply.actions],
    )
