"""Chatbase API v1, served under `/api/chatbase/v1`, for businesses moving over: a script written
for `https://www.chatbase.co/api/v1` runs against Chatapp with its base URL and key changed.

`POST /chat` goes through the widget's chat pipeline (quota, rate limits, answerability,
citations, storage; channel `chatbase` in Activity), as a workspace member: the workspace API
token is the key, so, as in the playground, `model` and `temperature` apply to this answer only.
The earlier turns come from `messages` (Chatbase clients send the whole conversation). Streamed
answers are plain text chunks, no SSE framing, as Chatbase streams them.

The bots, conversations and leads routes live in `routes_chatbase_bots.py` and
`routes_chatbase_reads.py`; this router includes them and answers any other path under the prefix
with a `{"message"}` naming what is offered.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from chatapp.api import routes_chatbase_bots, routes_chatbase_reads
from chatapp.api.chatbase_common import ACTOR, PREFIX, error_response, new_router
from chatapp.api.chatbase_shapes import ChatIn, ChatOut, session_id_for
from chatapp.api.deps import client_ip
from chatapp.api.shared import ERROR_STATUS
from chatapp.core import metrics
from chatapp.services.accounts.tenancy import Actor
from chatapp.services.chat import begin as chat_begin
from chatapp.services.chat import engine as chat_engine
from chatapp.services.chat.request import ChatRequest, Event
from chatapp.services.chat.turn import Turn

router = new_router(PREFIX)
OFFERED = (
    "POST /chat, GET /get-chatbots, POST /create-chatbot, POST /update-chatbot-data, "
    "DELETE /delete-chatbot, POST /update-chatbot-settings, GET /get-conversations, "
    "GET /get-leads"
)


async def _streamed(turn: Turn) -> Response:
    """The answer as plain text chunks. Its first event is awaited before the status is sent: a
    model that fails before its first word is an error status, as in the JSON form."""
    events = chat_engine.events(turn)
    first = await anext(events, None)
    if first is not None and first.type == "error":
        await events.aclose()
        return error_response(ERROR_STATUS.get(first.data["code"], 503), first.data["message"])
    headers = {
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        "X-Conversation-Id": turn.session_id,
    }
    return StreamingResponse(
        _plain_text(first, events), media_type="text/plain; charset=utf-8", headers=headers
    )


async def _plain_text(first: Event | None, rest: AsyncGenerator[Event, None]) -> AsyncIterator[str]:
    """The text as it is written; a failure after the first words ends it with the sentence the
    widget would show (the status was sent already)."""
    said = False
    try:
        with metrics.stream_open("chat"):
            async for event in _after(first, rest):
                if event.type == "token":
                    said = True
                    yield event.data["content"]
                elif event.type == "error":
                    yield ("\n\n" if said else "") + event.data["message"]
    finally:
        await rest.aclose()  # a client that left: the engine stores what was said


async def _after(first: Event | None, rest: AsyncGenerator[Event, None]) -> AsyncIterator[Event]:
    if first is not None:
        yield first
    async for event in rest:
        yield event


@router.post("/chat", response_model=ChatOut)
async def chat(body: ChatIn, request: Request, actor: Actor = ACTOR) -> Any:
    """Chatbase's chat: `{"text"}` (with Chatapp's extras), or the text streamed."""
    question, history = body.question_and_history()
    chat_request = ChatRequest(
        bot_id=body.chatbotId,
        message=question,
        session_id=session_id_for(body.conversationId),
        ip=client_ip(request),
        channel="chatbase",
        actor=actor,
        model=body.model,
        temperature=body.temperature,
        history=history,
    )
    if body.stream:  # refusals are statuses, before any text
        return await _streamed(await chat_begin.begin(chat_request))
    reply = await chat_engine.reply(chat_request)
    if reply.error:
        return error_response(ERROR_STATUS.get(reply.error["code"], 503), reply.error["message"])
    return ChatOut(
        text=reply.answer,
        conversationId=reply.session_id,
        answered=reply.answered,
        sources=reply.sources,
    )


router.include_router(routes_chatbase_bots.router)
router.include_router(routes_chatbase_reads.router)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_offered(path: str, request: Request) -> Response:
    """Any other path or method under the prefix: what Chatapp offers instead of a bare 404."""
    return error_response(
        404,
        f"Chatapp does not offer {request.method} /{path} of Chatbase's API v1. "
        f"It offers {OFFERED} (docs/API.md, 'Moving from Chatbase').",
    )
