"""Public live-handoff routes the widget uses: ask for a person, typing, the conversation stream.

Same access as the chat: the bot's widget key (body `api_key`, `X-Widget-Key`, `Authorization:
Bearer`, or `key` in the query for the stream, since `EventSource` cannot send headers) and the
bot's allowed websites. CORS is open on them (`cors.py`).
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from chatapp.api import sse
from chatapp.api.deps import Id
from chatapp.api.shared import widget_key
from chatapp.core.db import session_scope
from chatapp.services.live import visitor as visitor_live

router = APIRouter(tags=["public"])

STREAM_EXAMPLE = (
    "retry: 2000\n\n"
    'id: 41\nevent: status\ndata: {"type":"status","status":"assigned","agent":"Ana"}\n\n'
    'event: typing\ndata: {"type":"typing","who":"agent","typing":true,"name":"Ana"}\n\n'
    'id: 42\nevent: message\ndata: {"type":"message","id":97,"role":"agent",'
    '"content":"Hi, I am Ana. How can I help?","author":"Ana",'
    '"created_at":"2025-03-03T10:00:00+00:00"}\n\n'
    ": keep-alive\n\n"
)


class VisitorIn(BaseModel):
    bot_id: str = Field(max_length=64, description="The bot's public id (bot_...).")
    session_id: str = Field(max_length=64, description="The visitor's session id.")
    api_key: str | None = Field(default=None, max_length=200, description="The widget key.")


class TypingIn(VisitorIn):
    typing: bool


class HandoffOut(BaseModel):
    status: str = Field(description="pending, assigned, or unavailable (offer the lead form).")
    message: str
    offer_lead_form: bool
    conversation_id: int


def _visitor(body: VisitorIn, request: Request, authorization, x_widget_key):
    return visitor_live.Visitor(
        bot_id=body.bot_id,
        session_id=body.session_id,
        api_key=widget_key(body.api_key, authorization, x_widget_key),
        origin=request.headers.get("origin"),
        referer=request.headers.get("referer"),
    )


@router.post("/api/public/handoff", response_model=HandoffOut)
def post_handoff(
    body: VisitorIn,
    request: Request,
    authorization: str | None = Header(default=None),
    x_widget_key: str | None = Header(default=None),
):
    """The visitor asks for a person ("Talk to a person")."""
    with session_scope() as session:
        row, outcome = visitor_live.ask_for_person(
            session, _visitor(body, request, authorization, x_widget_key)
        )
        return HandoffOut(
            status=outcome.status,
            message=outcome.message,
            offer_lead_form=outcome.offer_lead_form,
            conversation_id=row.id,
        )


@router.post("/api/public/typing", status_code=204)
def post_typing(
    body: TypingIn,
    request: Request,
    authorization: str | None = Header(default=None),
    x_widget_key: str | None = Header(default=None),
):
    """The visitor is typing (or stopped): the agent sees it. Nothing is stored."""
    with session_scope() as session:
        visitor_live.typing(
            session, _visitor(body, request, authorization, x_widget_key), body.typing
        )
    return Response(status_code=204)


@router.get(
    "/api/public/conversations/events",
    responses={
        200: {
            "description": "Server-Sent Events: `message`, `status`, `action` (stored, with "
            "`id:`), `typing` (no id); a `: keep-alive` comment every 15 s.",
            "content": {"text/event-stream": {"example": STREAM_EXAMPLE}},
        },
        401: {"description": "Invalid or missing widget key."},
        403: {"description": "Website not allowed, or bot paused."},
        404: {"description": "No conversation for this session yet."},
    },
)
async def conversation_events(
    request: Request,
    bot_id: str = Query(max_length=64),
    session_id: str = Query(max_length=64),
    key: str | None = Query(default=None, max_length=200),
    last_event_id: Id | None = Query(default=None, ge=0),
    last_event_id_header: str | None = Header(default=None, alias="Last-Event-ID"),
    x_widget_key: str | None = Header(default=None),
):
    """The visitor's live stream: the agent's replies, status changes, the agent typing."""
    visitor = visitor_live.Visitor(
        bot_id=bot_id,
        session_id=session_id,
        api_key=key or x_widget_key,
        origin=request.headers.get("origin"),
        referer=request.headers.get("referer"),
    )

    def find():
        with session_scope() as session:
            row = visitor_live.conversation(session, visitor)
            return row.workspace_id, row.id

    workspace_id, conversation_id = await anyio.to_thread.run_sync(find)
    after = sse.resume_id(last_event_id_header, last_event_id)
    return sse.conversation_stream(workspace_id, conversation_id, after, hide_typing_of="visitor")
