"""Security headers on every HTTP response of the single-port app (dashboard, API, assets).

Our FastAPI app is the outermost app Reflex serves (`api_transformer` mounts Reflex's own app,
the compiled dashboard included, inside it), so this middleware sees the dashboard's pages too.
The dashboard may not be framed anywhere; the widget's scripts, the public API and avatars are
made to be used by other sites and get no frame or CSP rules from us (the host page's own CSP
governs them). A header the response already set is left alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatapp.api.cors import is_public

# What the compiled Reflex frontend needs: its React Router build puts small inline scripts in
# each page, Radix/Emotion write inline styles, and Reflex runs the scripts a server event sends
# (toasts, downloads, `rx.call_script`) with eval; the websocket and fetches go to the same
# origin ('self' covers ws:/wss: of the same host in CSP 3). Nothing is loaded from elsewhere.
DASHBOARD_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
EMBEDDABLE_FILES = ("/widget.js", "/widget-panel.js")


def is_embeddable(path: str) -> bool:
    """Paths other sites load: the widget's scripts and the public API."""
    return path in EMBEDDABLE_FILES or is_public(path)


def header_list(path: str, hsts_seconds: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    ]
    if not is_embeddable(path):
        headers += [
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", DASHBOARD_CSP.encode()),
        ]
    if hsts_seconds > 0:
        value = f"max-age={hsts_seconds}; includeSubDomains"
        headers.append((b"strict-transport-security", value.encode()))
    return headers


class SecurityHeaders:
    """Adds `header_list(path)` to every HTTP response; `hsts_seconds` 0 sends no HSTS."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0):
        self.app = app
        self.hsts_seconds = hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = header_list(scope["path"], self.hsts_seconds)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
