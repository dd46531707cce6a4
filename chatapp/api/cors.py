"""CORS and a body-size cap for the public routes only (widget: any website may call them).

The admin API gets no CORS headers from us: it is for the dashboard (same origin) and scripts.
Public routes answer preflights themselves, allow any origin without credentials (the widget key
and the bot's allowed domains are the access control), expose `Retry-After`, and refuse request
bodies over `MAX_PUBLIC_BODY` bytes with 413 before anything parses them.
"""

from __future__ import annotations

import json

from starlette.middleware.cors import CORSMiddleware
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


def is_admin(path: str) -> bool:
    """Our API routes that are not public: the admin API, auth, docs, health."""
    return path.startswith("/api/") and not is_public(path)


class ScopedCORS:
    """Replaces the CORS layer Reflex puts around the whole backend (`App._add_cors`).

    Reflex 0.10 wraps everything in Starlette's CORSMiddleware with `cors_allowed_origins` (any
    origin by default, with credentials). Here: public routes pass through to `PublicCORS`; admin
    routes get no CORS headers and their preflights are refused with 403, so no other site's
    script can call them from a browser; Reflex's own routes (websocket, uploads) keep Reflex's
    rules, which development needs (the dev frontend runs on another port).
    """

    def __init__(self, app: ASGIApp, **cors_options):
        self.app = app
        self.reflex_cors = CORSMiddleware(app, **cors_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.reflex_cors(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        preflight = scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        if is_admin(path) and preflight and b"origin" in headers:
            payload = json.dumps(
                {"detail": "The admin API cannot be called from another website."}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        await self.app(scope, receive, send)


def install_reflex_cors() -> None:
    """Make Reflex use `ScopedCORS` (with its configured origins) for the layers it adds."""
    # Reflex is imported only by the dashboard's process, never by the visitors' API server
    from reflex.app import App

    def add_cors(api) -> None:
        # (the same: only the dashboard's process loads Reflex)
        from reflex.config import get_config

        api.add_middleware(
            ScopedCORS,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_origins=get_config().cors_allowed_origins,
        )

    App._add_cors = staticmethod(add_cors)
