"""CORS and a body-size cap for the public routes only (widget: any website may call them).

The admin API gets no CORS headers from us: it is for the dashboard (same origin) and scripts.
Public routes answer preflights themselves, allow any origin without credentials (the widget key
and the bot's allowed domains are the access control), expose `Retry-After`, and refuse request
bodies over `MAX_PUBLIC_BODY` bytes with 413 before anything parses them.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_PUBLIC_BODY = 64 * 1024
ALLOW_HEADERS = "Content-Type, Authorization, X-Widget-Key, Last-Event-ID"
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"Retry-After, ETag"),
]


def is_public(path: str) -> bool:
    return path == "/api/chat" or path.startswith(("/api/chat/", "/api/public/"))


class PublicCORS:
    def __init__(self, app: ASGIApp, max_body: int = MAX_PUBLIC_BODY):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *CORS_HEADERS,
                        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                        (b"access-control-max-age", b"86400"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *CORS_HEADERS]}
            await send(message)

        if scope["method"] in ("POST", "PUT", "PATCH"):
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await self._too_large(send_with_cors)
                return
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_body:
                    await self._too_large(send_with_cors)
                    return
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_with_cors)
            return
        await self.app(scope, receive, send_with_cors)

    async def _too_large(self, send: Send) -> None:
        payload = json.dumps(
            {"detail": f"The request is too large (at most {self.max_body // 1024} KB)."}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
