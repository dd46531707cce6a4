"""Refuse NUL characters in JSON bodies, query strings and paths with a 422.

PostgreSQL cannot store U+0000 in text (SQLite can), so a name or message with one was a 500 on
PostgreSQL only. Text with a NUL is never meaningful here; file uploads (multipart) may hold any
bytes and are not inspected.
"""

from __future__ import annotations

import json

DETAIL = "Text must not contain NUL characters (\\u0000)."


class NulGuard:
    """Pure ASGI middleware: buffers JSON bodies (FastAPI reads them whole anyway)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope.get("path", "").encode()
        if b"%00" in scope.get("query_string", b"") or b"%00" in raw or "\x00" in scope["path"]:
            await _refuse(send)
            return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: let the app see it
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\\u0000" in body and _has_nul(body):
            await _refuse(send)
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _has_nul(body: bytes) -> bool:
    """A NUL in any decoded key or string (not a literal backslash-u0000 in the text); a body
    that is not JSON is the app's to refuse."""
    try:
        stack = [json.loads(body)]
    except ValueError:
        return False
    while stack:
        value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


async def _refuse(send) -> None:
    payload = json.dumps({"detail": DETAIL, "errors": [DETAIL]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(payload)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
