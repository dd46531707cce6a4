"""The embedded SQLite default under concurrent use: no request holds the write lock.

SQLite lets one writer in at a time. A request that opens a write transaction and keeps it while
another session writes (its own chat, a visitor's chat, ingestion) makes every writer of every
workspace wait for the 30 s busy timeout, then fail with 503 "database is locked". Here every route
of the API is called by workspace A on its own things, once with a member's login and once with a
workspace API token, while a visitor of workspace B chats without pause: every call must answer
within 1 s and none with 503; nor may the visitor's chats wait.

Every route also commits before its response is sent: a write is visible to the very next request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from chatapp.api.app import create_api
from chatapp.api.deps import db_session
from tests.utils.route_cases import PARAM, body_for, fill, ids_of
from tests.utils.tenant_world import World
from tests.utils.world_stack import api_routes, world_stack

LIMIT_SECONDS = 1.0
# Routes that end what the rest of the run needs (a login, the API token, the workspace's bot):
# called last, in this order, after every other route.
LAST = ("/api/v1/auth/logout", "/tokens/{token_id}", "/bots/{bot_id}")


@dataclass
class Timed:
    what: str
    status: int
    seconds: float


def timed(http: httpx.Client, what: str, method: str, url: str, **kwargs) -> Timed:
    """The time until the whole answer is in (for an event stream: until its headers are, since
    a stream stays open by design)."""
    start = time.monotonic()
    with http.stream(method, url, **kwargs) as response:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            response.read()
        return Timed(what, response.status_code, time.monotonic() - start)


class VisitorChats(threading.Thread):
    """A visitor of another workspace chatting (streamed answers) until told to stop."""

    def __init__(self, base: str, world: World) -> None:
        super().__init__(daemon=True)
        self.base, self.world = base, world
        self.stop = threading.Event()
        self.chats: list[Timed] = []
        self.failures: list[str] = []

    def run(self) -> None:
        body = {
            "bot_id": self.world.public_id,
            "api_key": self.world.widget_key,
            "session_id": self.world.session_id,
            "message": "When do you open?",
            "stream": True,
        }
        with httpx.Client(timeout=60) as http:
            while not self.stop.is_set():
                start = time.monotonic()
                with http.stream("POST", f"{self.base}/api/chat", json=body) as response:
                    text = response.read().decode()
                seconds = time.monotonic() - start
                self.chats.append(Timed("visitor chat", response.status_code, seconds))
                if response.status_code != 200 or "event: done" not in text:
                    self.failures.append(f"{response.status_code}: {text[-300:]}")


def _public_payloads(a: World) -> dict[str, tuple[str, dict]]:
    """A's own visitor calling the public routes (body, or query for the event stream)."""
    visitor = {"bot_id": a.public_id, "api_key": a.widget_key, "session_id": a.session_id}
    return {
        "/api/chat": ("json", {**visitor, "message": "When do you open?", "stream": False}),
        "/api/public/handoff": ("json", visitor),
        "/api/public/typing": ("json", {**visitor, "typing": True}),
        "/api/public/leads": ("json", {**visitor, "name": "Ann", "email": "ann@example.com"}),
        "/api/public/conversations/events": (
            "params",
            {"bot_id": a.public_id, "key": a.widget_key, "session_id": a.session_id},
        ),
        "/api/public/messages/{message_id}/feedback": ("json", {**visitor, "rating": "up"}),
        "/api/v1/auth/login": ("json", {"email": a.emails["admin"], "password": "x" * 12}),
    }


def _order(route: tuple[str, str]) -> tuple[int, int, str, str]:
    path, method = route
    ends = next((i for i, tail in enumerate(LAST) if path.endswith(tail)), -1)
    last = method == "DELETE" or ends >= 0
    return (int(last), ends, path, method)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with world_stack(tmp_path_factory.mktemp("sqlite-concurrency")) as served:
        yield served


def test_no_route_holds_the_sqlite_write_lock(stack):
    base, a, b = stack
    routes = {(path, m) for path, methods, _ in api_routes(create_api()) for m in methods}
    routes = sorted(routes - {(p, "HEAD") for p, _ in routes}, key=_order)
    public = _public_payloads(a)
    visitor = VisitorChats(base, b)
    calls: list[Timed] = []
    with httpx.Client(timeout=60) as http:
        visitor.start()
        try:
            for path, method in routes:
                url = base + fill(path, a, a)
                if path in public:
                    kind, payload = public[path]
                    calls.append(timed(http, f"{method} {path}", method, url, **{kind: payload}))
                    continue
                assert set(PARAM.findall(path)) <= set(ids_of(a, path)), path
                upload = path.endswith("/sources/file")
                send = (
                    {"files": {"file": ("x.txt", b"Hello there.", "text/plain")}} if upload else {}
                )
                for who, token in (("login", a.login_tokens["owner"]), ("API token", a.api_token)):
                    headers = {"Authorization": f"Bearer {token}"}
                    json_body = None if upload else body_for(method, path)
                    what = f"{method} {path} ({who})"
                    calls.append(
                        timed(http, what, method, url, headers=headers, json=json_body, **send)
                    )
        finally:
            visitor.stop.set()
            visitor.join(timeout=90)
    slow = [c for c in calls + visitor.chats if c.seconds > LIMIT_SECONDS]
    locked = [c for c in calls + visitor.chats if c.status == 503 or c.status >= 500]
    assert len(calls) > 100 and len(visitor.chats) >= 5
    report = {"visitor failures": visitor.failures[:3], "5xx": locked, "over 1 s": slow}
    assert not (visitor.failures or locked or slow), report


def test_a_write_is_visible_to_the_next_request(stack):
    """A workspace created answers 201 only once committed: its first use right after works."""
    base, a, _ = stack
    with httpx.Client(timeout=30) as http:
        for n in range(5):
            created = http.post(
                f"{base}/api/v1/workspaces", headers=a.bearer("admin"), json={"name": f"W{n}"}
            )
            assert created.status_code == 201, created.text
            ws = created.json()["id"]
            token = http.post(
                f"{base}/api/v1/workspaces/{ws}/tokens",
                headers=a.bearer("admin"),
                json={"name": "sync"},
            )
            assert token.status_code == 201, token.text


def test_every_route_session_commits_before_the_response():
    """The race above is rare on a real server; this finds the cause in any route, every time:
    a request session in FastAPI's default scope is committed only after the response is sent."""
    late = []
    for path, methods, route in api_routes(create_api()):
        stack = list(getattr(route, "dependant", None).dependencies)
        while stack:
            dependant = stack.pop()
            stack.extend(dependant.dependencies)
            if dependant.call is db_session and dependant.scope != "function":
                late.append(f"{sorted(methods)} {path}")
    assert not late, late
