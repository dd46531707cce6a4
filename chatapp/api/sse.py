"""Server-Sent Events for the live streams: frames, keep-alives and the lazy wait check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi.responses import StreamingResponse

from chatapp.core import metrics
from chatapp.core.db import session_scope
from chatapp.services.live import bus, handoff
from chatapp.services.models import Conversation

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def resume_id(header: str | None, query: int | None) -> int:
    """Where a reconnecting reader resumes: `Last-Event-ID` header first, then the query."""
    if header and header.strip().isdigit():
        return int(header.strip())
    return max(0, query or 0)


def _check_wait(conversation_id: int) -> None:
    """Pending too long: the lead form offer is published (once) when a stream looks."""
    with session_scope() as session:
        row = session.get(Conversation, conversation_id)
        if row is not None:
            handoff.offer_after_wait(session, row)


async def _frames(
    workspace_id: int, conversation_id: int, after: int, hide_typing_of: str
) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    with metrics.stream_open("live"):
        await anyio.to_thread.run_sync(_check_wait, conversation_id)
        async for event in bus.subscribe(conversation_id, after, workspace_id=workspace_id):
            if event.type == "typing" and event.data.get("who") == hide_typing_of:
                continue
            if event is bus.KEEPALIVE:
                await anyio.to_thread.run_sync(_check_wait, conversation_id)
            yield event.sse()


def conversation_stream(
    workspace_id: int, conversation_id: int, after: int, *, hide_typing_of: str
) -> StreamingResponse:
    return StreamingResponse(
        _frames(workspace_id, conversation_id, after, hide_typing_of),
        media_type="text/event-stream",
        headers=HEADERS,
    )
