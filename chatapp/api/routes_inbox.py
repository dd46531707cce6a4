"""The agents' inbox API: the queue, one conversation, take / reply / typing / release / resolve,
and live streams (queue counts; a conversation's events). Role agent or above, per workspace.

Authenticated like every workspace route (`Authorization: Bearer` with a login token or a
workspace API token). The streams resolve the actor in a short transaction of their own, so an
open stream holds no database connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from chatapp.api import sse
from chatapp.api.deps import REQUEST_SESSION, Id, bearer_token, current_actor
from chatapp.core.db import session_scope
from chatapp.services.accounts import api_tokens, auth
from chatapp.services.accounts.tenancy import Actor, Permission, actor_for
from chatapp.services.live import agents, bus, inbox
from chatapp.services.live.schemas import ReplyIn

router = APIRouter(prefix="/api/v1/workspaces/{workspace_id}/inbox", tags=["inbox"])


class QueueItemOut(BaseModel):
    conversation_id: int
    bot_id: int
    bot_name: str
    status: str
    visitor: str
    preview: str
    handoff_reason: str
    handoff_at: datetime | None
    waiting_seconds: int
    agent: str
    assigned_user_id: int | None
    last_message_at: datetime


class QueueOut(BaseModel):
    counts: dict[str, int]
    items: list[QueueItemOut]


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    author: str
    created_at: str


class ThreadOut(BaseModel):
    conversation_id: int
    bot_name: str
    status: str
    visitor: str
    agent: str
    assigned_user_id: int | None
    handoff_reason: str
    messages: list[MessageOut]
    last_event_id: int = Field(description="Open the events stream after this id.")


class StatusOut(BaseModel):
    conversation_id: int
    status: str
    assigned_user_id: int | None


class TypingIn(BaseModel):
    typing: bool


def _status(row) -> StatusOut:
    return StatusOut(
        conversation_id=row.id, status=row.status, assigned_user_id=row.assigned_user_id
    )


@router.get("", response_model=QueueOut)
def get_queue(
    status: str = Query(default="open", description="pending, mine, open or resolved"),
    bot_id: Id | None = None,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """The queue (pending first, longest waiting first) and the counts per view."""
    items = inbox.queue(session, actor, view=status, bot_id=bot_id)
    return QueueOut(
        counts=inbox.counts(session, actor, bot_id=bot_id),
        items=[QueueItemOut(**item.__dict__) for item in items],
    )


@router.get("/events")
async def queue_events(workspace_id: Id, authorization: str | None = Header(default=None)):
    """SSE: `counts` `{pending, assigned, open, mine, resolved}` now and after each change."""
    actor = await anyio.to_thread.run_sync(_actor, workspace_id, authorization)
    return StreamingResponse(
        _queue_frames(actor), media_type="text/event-stream", headers=sse.HEADERS
    )


@router.get("/{conversation_id}", response_model=ThreadOut)
def get_thread(
    conversation_id: Id,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """One conversation's whole history."""
    return ThreadOut(**inbox.thread(session, actor, conversation_id).__dict__)


@router.post("/{conversation_id}/take", response_model=StatusOut)
def take(conversation_id: Id, actor: Actor = Depends(current_actor), session=REQUEST_SESSION):
    """Take the conversation (409 when another agent has it); the bot stops answering."""
    return _status(agents.take(session, actor, conversation_id))


@router.post("/{conversation_id}/messages", response_model=MessageOut, status_code=201)
def post_message(
    conversation_id: Id,
    body: ReplyIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """Reply to the visitor (the conversation must be yours); it appears in the widget live."""
    message = agents.reply(session, actor, conversation_id, body.content)
    return MessageOut(
        id=message.id,
        role=message.role,
        content=message.content,
        author=agents.agent_name(session, actor.user_id),
        created_at=message.created_at.isoformat(),
    )


@router.post("/{conversation_id}/typing", status_code=204)
def post_typing(
    conversation_id: Id,
    body: TypingIn,
    actor: Actor = Depends(current_actor),
    session: Session = REQUEST_SESSION,
):
    """You are typing (or stopped): the visitor sees it."""
    agents.typing(session, actor, conversation_id, body.typing)
    return Response(status_code=204)


@router.post("/{conversation_id}/release", response_model=StatusOut)
def release(conversation_id: Id, actor: Actor = Depends(current_actor), session=REQUEST_SESSION):
    """Hand the conversation back to the bot."""
    return _status(agents.release(session, actor, conversation_id))


@router.post("/{conversation_id}/resolve", response_model=StatusOut)
def resolve(conversation_id: Id, actor: Actor = Depends(current_actor), session=REQUEST_SESSION):
    """Close the handoff as resolved."""
    return _status(agents.resolve(session, actor, conversation_id))


# --------------------------------------------------------------------------------- streams


def _actor(workspace_id: Id, authorization: str | None) -> Actor:
    token = bearer_token(authorization)
    with session_scope() as session:
        if api_tokens.is_api_token(token):
            actor = api_tokens.actor_for_token(session, token, workspace_id)
        else:
            user = auth.user_for_token(session, token)
            actor = actor_for(session, user_id=user.id, workspace_id=workspace_id)
    actor.require(Permission.HANDLE_CONVERSATIONS)
    return actor


def _counts(actor: Actor) -> str:
    with session_scope() as session:
        data = {"type": "counts", **inbox.counts(session, actor)}
    return f"event: counts\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _queue_frames(actor: Actor) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async for event in bus.subscribe_workspace(actor.workspace_id):
        if event is bus.KEEPALIVE:
            yield event.sse()
        else:  # ready, or the queue changed: the counts as they are now
            yield await anyio.to_thread.run_sync(_counts, actor)


@router.get("/{conversation_id}/events")
async def conversation_events(
    workspace_id: Id,
    conversation_id: Id,
    last_event_id: Id | None = Query(default=None, ge=0),
    last_event_id_header: str | None = Header(default=None, alias="Last-Event-ID"),
    authorization: str | None = Header(default=None),
):
    """SSE: the conversation's events (visitor messages and typing, status) after an id."""
    actor = await anyio.to_thread.run_sync(_actor, workspace_id, authorization)

    def check():
        with session_scope() as session:
            inbox.thread(session, actor, conversation_id)  # NotFound outside the workspace

    await anyio.to_thread.run_sync(check)
    after = sse.resume_id(last_event_id_header, last_event_id)
    return sse.conversation_stream(
        actor.workspace_id, conversation_id, after, hide_typing_of="agent"
    )
