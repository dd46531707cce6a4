"""Cross-tenant access matrix: every route of create_api(), called by workspace A with B's ids.

Routes are enumerated from the app itself, so a route added later is either covered by the
matrix (it has id parameters, or it is listed in PUBLIC_BODY_CASES / NO_FOREIGN_IDS with a reason)
or this test fails naming it. Each case must be refused (403/404; 401 for an API token outside its
workspace) and the body must not contain workspace B's marker; afterwards B's data is unchanged.
"""

from __future__ import annotations

import json

import httpx
import pytest

from chatapp.api.app import create_api
from tests.utils.databases import postgres_database
from tests.utils.route_cases import PARAM, body_for, fill, ids_of
from tests.utils.tenant_world import World
from tests.utils.world_stack import api_routes, call, world_stack

REFUSED = {403, 404}
TOKEN_REFUSED = {401, 403, 404}  # an API token outside its workspace is not authenticated there

# Routes with no foreign id to pass, each with the reason it cannot reach another workspace.
NO_FOREIGN_IDS = {
    "/api/health": "no data",
    "/metrics": "installation-wide counters without workspace labels (operators; METRICS_TOKEN)",
    "/api/openapi.json": "the schema",
    "/api/docs": "static docs page",
    "/api/v1/auth/login": "email and password; throttled and tested in test_admin_api",
    "/api/v1/auth/logout": "acts on the caller's own token only",
    "/api/v1/auth/session": "a one-time login ticket, traded once (test_browser_session)",
    "/api/v1/auth/session/end": "ends the caller's own cookie session only",
    "/api/v1/me": "the caller's own user and workspaces (checked below)",
    "/api/v1/me/password": "the caller's own password",
    "/api/v1/workspaces": "creates a new workspace owned by the caller",
    "/api/v1/invitations/accept": "a link's secret token, not an id (test_invitations_api)",
    "/api/public/bots/{bot_id}/config": "public by design: what the widget renders, no secrets",
    "/api/public/config/{bot_id}": "public by design: alias of the bot config",
    "/api/public/avatars/{name}": "public avatar images addressed by random file name",
}


def _public_body_cases(a: World, b: World) -> dict[str, list[tuple[str, dict]]]:
    """Public routes address things by ids in the body or query: A's key with B's ids."""
    visitor_a = {"bot_id": a.public_id, "api_key": a.widget_key}
    return {
        "/api/chat": [
            ("A key, B bot", {**visitor_a, "bot_id": b.public_id, "message": "hi"}),
            ("A bot, B session", {**visitor_a, "session_id": b.session_id, "message": "hi"}),
        ],
        "/api/public/handoff": [
            ("A key, B bot", {**visitor_a, "bot_id": b.public_id, "session_id": b.session_id}),
            ("A bot, B session", {**visitor_a, "session_id": b.session_id}),
        ],
        "/api/public/typing": [
            ("A key, B bot", {**visitor_a, "bot_id": b.public_id, "session_id": b.session_id}),
        ],
        "/api/public/leads": [
            (
                "A key, B bot",
                {**visitor_a, "bot_id": b.public_id, "session_id": b.session_id, "name": "x"},
            ),
        ],
        "/api/public/conversations/events": [
            (
                "A key, B bot",
                {"bot_id": b.public_id, "key": a.widget_key, "session_id": b.session_id},
            ),
            (
                "A bot, B session",
                {"bot_id": a.public_id, "key": a.widget_key, "session_id": b.session_id},
            ),
        ],
        "/api/public/messages/{message_id}/feedback": [
            ("A visitor, B message", {**visitor_a, "session_id": a.session_id, "rating": "down"}),
        ],
    }


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp(f"matrix-{request.param}")
    if request.param == "sqlite":
        with world_stack(data_dir) as served:
            yield served
        return
    with postgres_database() as url, world_stack(data_dir, url) as served:
        yield served


def _b_snapshot(http: httpx.Client, base: str, b: World) -> str:
    """What B's owner sees of B's things: must be identical before and after the matrix."""
    ws = f"{base}/api/v1/workspaces/{b.workspace_id}"
    parts = [
        f"{ws}/bots/{b.bot_id}",
        f"{ws}/members",
        f"{ws}/sources/{b.source_id}",
        f"{ws}/bots/{b.bot_id}/actions",
        f"{ws}/tokens",
        f"{ws}/invitations",
        f"{ws}/inbox/{b.conversation_id}",
        f"{ws}/bots/{b.bot_id}/keys",
    ]
    seen = []
    for url in parts:
        response = http.get(url, headers=b.bearer())
        assert response.status_code == 200, (url, response.text)
        seen.append(json.dumps(_without_volatile(response.json()), sort_keys=True))
    return "\n".join(seen)


def _without_volatile(value):
    """Drop clocks that move by themselves (waiting time, last use), not data."""
    if isinstance(value, dict):
        return {
            k: _without_volatile(v)
            for k, v in value.items()
            if k not in {"waiting_seconds", "last_used_at", "last_event_id"}
        }
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def test_every_route_refuses_another_workspaces_ids(stack):
    base, a, b = stack
    app = create_api()
    public_cases = _public_body_cases(a, b)
    cases, leaks, unclassified = 0, [], []
    routes = sorted({(path, m) for path, methods, _ in api_routes(app) for m in methods - {"HEAD"}})
    with httpx.Client(timeout=30) as http:
        before = _b_snapshot(http, base, b)
        for path, method in routes:
            params = PARAM.findall(path)
            if path in public_cases:
                for name, payload in public_cases[path]:
                    url = base + fill(path, a, b)
                    kwargs = {"params": payload} if method == "GET" else {"json": payload}
                    reply = call(http, method, url, **kwargs)
                    cases += 1
                    if reply.status >= 500 or b.marker in reply.text:
                        leaks.append((method, path, name, reply.status, reply.text[:300]))
                continue
            if path in NO_FOREIGN_IDS:
                continue
            if "workspace_id" not in params or not set(params) <= set(ids_of(a, path)):
                unclassified.append(f"{method} {path}")  # a new kind of id: teach _ids about it
                continue
            variants = [("B's workspace", b, b)]
            if params != ["workspace_id"]:
                variants += [("B's ids in A's workspace", a, b), ("A's ids in B's workspace", b, a)]
            for name, workspace, others in variants:
                url = base + fill(path, workspace, others)
                body = body_for(method, path)
                upload = path.endswith("/sources/file")
                send = {"files": {"file": ("x.txt", b"pwned", "text/plain")}} if upload else {}
                for who, headers, allowed in (
                    ("A owner", a.bearer(), REFUSED),
                    ("A API token", {"Authorization": f"Bearer {a.api_token}"}, TOKEN_REFUSED),
                ):
                    reply = call(http, method, url, headers=headers, json=body, **send)
                    cases += 1
                    if reply.status not in allowed or b.marker in reply.text:
                        leaks.append((method, path, f"{name} as {who}", reply.status, reply.text))
        after = _b_snapshot(http, base, b)
        me = http.get(f"{base}/api/v1/me", headers=a.bearer()).text
    print(json.dumps({"routes": len(routes), "cases": cases, "leaks": len(leaks)}))
    assert not unclassified, f"routes the matrix does not know how to attack: {unclassified}"
    assert not leaks, "\n".join(map(str, leaks))
    assert after == before, "workspace B changed while A was refused"
    assert b.marker not in me and a.marker in http_get_bot(base, a)
    assert cases >= 80


def http_get_bot(base: str, a: World) -> str:
    """A's own bot as A: the marker search above would be vacuous if markers never showed up."""
    url = f"{base}/api/v1/workspaces/{a.workspace_id}/bots/{a.bot_id}"
    return httpx.get(url, headers=a.bearer(), timeout=10).text


# --- The OpenAI-compatible surface (/api/openai/v1) ----------------------------------------
# A bot is named by `model` (body or path) and the workspace by the key (an API token or a
# widget key), so the id loop above cannot attack these routes: the test below does. The
# per-session rate limit through both surfaces: tests/api/test_openai_compat.py (this stack runs
# without one).

OPENAI = "/api/openai/v1"
NO_FOREIGN_IDS.update(
    {
        f"{OPENAI}/chat/completions": "OpenAI-compatible: test_openai_surface_keeps_tenants_apart",
        f"{OPENAI}/models": "OpenAI-compatible: test_openai_surface_keeps_tenants_apart",
        f"{OPENAI}/models/{{model}}": "OpenAI-compatible: test_openai_surface_keeps_tenants_apart",
    }
)


def _openai(http: httpx.Client, base: str, key: str, method: str, path: str, **body):
    headers = {"Authorization": f"Bearer {key}"}
    return call(http, method, f"{base}{OPENAI}{path}", headers=headers, json=body or None)


def _ask(model: str, **more) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "When do you open?"}], **more}


def _set_limit(http: httpx.Client, base: str, world: World, limit: int) -> None:
    url = f"{base}/api/v1/workspaces/{world.workspace_id}/bots/{world.bot_id}"
    response = http.patch(url, json={"message_limit": limit}, headers=world.bearer())
    assert response.status_code == 200, response.text


def test_openai_surface_keeps_tenants_apart(stack):
    """A's exhausted quota refuses A on both surfaces while B's bot answers; A's keys never
    reach B's bot (404, as for a model that does not exist), list only A's bots, and a
    conversation named like one of B's is A's own; B's data and quota stay as they were."""
    base, a, b = stack
    with httpx.Client(timeout=30) as http:
        _quota_is_per_bot_on_both_surfaces(http, base, a, b)
        before = _b_snapshot(http, base, b)
        leaks = [
            leak for key in (a.api_token, a.widget_key) for leak in _attack(http, base, key, a, b)
        ]
        after = _b_snapshot(http, base, b)
    assert not leaks, "\n".join(map(str, leaks))
    assert after == before, "workspace B changed while A was refused"


def _quota_is_per_bot_on_both_surfaces(http: httpx.Client, base: str, a: World, b: World):
    bot_url = f"{base}/api/v1/workspaces/{a.workspace_id}/bots/{a.bot_id}"
    limit = http.get(bot_url, headers=a.bearer()).json()["message_limit"]
    _set_limit(http, base, a, 0)
    try:
        widget = {"bot_id": a.public_id, "api_key": a.widget_key, "message": "hi"}
        assert call(http, "POST", f"{base}/api/chat", json=widget).status == 429
        for key in (a.api_token, a.widget_key):
            refused = _openai(http, base, key, "POST", "/chat/completions", **_ask(a.public_id))
            assert refused.status == 429 and "insufficient_quota" in refused.text
        answered = _openai(
            http, base, b.api_token, "POST", "/chat/completions", **_ask(b.public_id)
        )
        assert answered.status == 200, answered.text
    finally:
        _set_limit(http, base, a, limit)


def _attack(http: httpx.Client, base: str, key: str, a: World, b: World) -> list[tuple]:
    """What one of A's keys gets when it names B's things: every unexpected answer."""
    leaks: list[tuple] = []
    for name, method, path, body in (
        ("B's bot", "POST", "/chat/completions", _ask(b.public_id)),
        ("B's bot, streamed", "POST", "/chat/completions", _ask(b.public_id, stream=True)),
        ("B's model", "GET", f"/models/{b.public_id}", {}),
    ):
        reply = _openai(http, base, key, method, path, **body)
        if reply.status != 404 or "model_not_found" not in reply.text or b.marker in reply.text:
            leaks.append((key[:4], name, reply.status, reply.text[:300]))
    listed = _openai(http, base, key, "GET", "/models")
    if listed.status != 200 or a.public_id not in listed.text or b.public_id in listed.text:
        leaks.append((key[:4], "the models", listed.status, listed.text[:300]))
    mixed = _openai(
        http, base, key, "POST", "/chat/completions", **_ask(a.public_id, session_id=b.session_id)
    )
    if mixed.status != 200 or b.marker in mixed.text:
        leaks.append((key[:4], "B's session on A's bot", mixed.status, mixed.text[:300]))
    return leaks


# ------------------------------------------------------------------ Chatbase API v1 (issue 20)
# Its routes take a bot's public id in the body or query (`chatbotId`) and act in the workspace of
# the API token that calls them; the matrix above has no such shape, so this block attacks them:
# A's token with B's chatbot on every route, and A's login token, which is no key there. A route
# added under the prefix fails `test_the_chatbase_routes_refuse_another_workspaces_bots` until it
# is listed in CHATBASE_CASES.
CHATBASE = "/api/chatbase/v1"
CHATBASE_NO_IDS = {
    f"{CHATBASE}/create-chatbot": "creates a bot in the token's own workspace",
    f"{CHATBASE}/{{path:path}}": "answers 'not offered' to any other path: no data",
}


def _chatbase_cases(a: World, b: World) -> dict[str, list[tuple[str, str, dict]]]:
    """(method, case, request arguments) per route: A's token, B's chatbot."""
    ask = {"chatbotId": b.public_id, "messages": [{"role": "user", "content": "hours?"}]}
    return {
        f"{CHATBASE}/chat": [
            ("POST", "B's bot", {"json": ask}),
            ("POST", "B's bot, streamed", {"json": {**ask, "stream": True}}),
            (
                "POST",
                "B's bot, B's conversation",
                {"json": {**ask, "conversationId": b.session_id}},
            ),
        ],
        f"{CHATBASE}/get-chatbots": [],  # no id: checked below to list only A's bots
        f"{CHATBASE}/update-chatbot-data": [
            ("POST", "B's bot", {"json": {"chatbotId": b.public_id, "chatbotName": "pwned"}}),
            (
                "POST",
                "B's bot, new text",
                {"json": {"chatbotId": b.public_id, "chatbotName": "pwned", "sourceText": "x"}},
            ),
        ],
        f"{CHATBASE}/update-chatbot-settings": [
            ("POST", "B's bot", {"json": {"chatbotId": b.public_id, "visibility": "private"}}),
        ],
        f"{CHATBASE}/delete-chatbot": [
            ("DELETE", "B's bot", {"params": {"chatbotId": b.public_id}})
        ],
        f"{CHATBASE}/get-conversations": [
            ("GET", "B's bot", {"params": {"chatbotId": b.public_id}}),
        ],
        f"{CHATBASE}/get-leads": [("GET", "B's bot", {"params": {"chatbotId": b.public_id}})],
    }


CHATBASE_ATTACKED = tuple(
    f"{CHATBASE}/{name}"
    for name in (
        "chat",
        "get-chatbots",
        "update-chatbot-data",
        "update-chatbot-settings",
        "delete-chatbot",
        "get-conversations",
        "get-leads",
    )
)
# The matrix above leaves them to this block.
NO_FOREIGN_IDS.update(dict.fromkeys([*CHATBASE_ATTACKED, *CHATBASE_NO_IDS], "Chatbase block below"))


def test_the_chatbase_routes_refuse_another_workspaces_bots(stack):
    base, a, b = stack
    cases = _chatbase_cases(a, b)
    served = {p for p, _, _ in api_routes(create_api()) if p.startswith(CHATBASE + "/")}
    assert set(cases) == set(CHATBASE_ATTACKED)
    assert served == set(CHATBASE_ATTACKED) | set(CHATBASE_NO_IDS), "a route the block misses"
    token = {"Authorization": f"Bearer {a.api_token}"}
    leaks = []
    with httpx.Client(timeout=30) as http:
        before = _b_snapshot(http, base, b)
        for path, attempts in cases.items():
            for method, name, kwargs in attempts:
                for who, headers, allowed in (
                    ("A API token", token, {404}),
                    ("A owner's login token", a.bearer(), {401}),
                ):
                    reply = call(http, method, base + path, headers=headers, **kwargs)
                    if reply.status not in allowed or b.marker in reply.text:
                        leaks.append((method, path, f"{name} as {who}", reply.status, reply.text))
        listed = http.get(f"{base}{CHATBASE}/get-chatbots", headers=token)
        after = _b_snapshot(http, base, b)
    assert not leaks, "\n".join(map(str, leaks))
    assert listed.status_code == 200 and a.public_id in listed.text
    assert b.public_id not in listed.text and b.marker not in listed.text
    assert after == before, "workspace B changed while A was refused"
