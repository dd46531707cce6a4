"""The admin API over real HTTP semantics: auth, roles, validation and tenant isolation."""

import pytest

from chatapp.core.db import session_scope
from tests.utils.factories import PASSWORD, make_tenant


@pytest.fixture
def tenants(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
    return a, b


def login(client, email, password=PASSWORD):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_requests_without_a_token_are_401(client, tenants):
    a, _ = tenants
    response = client.get(f"/api/v1/workspaces/{a.workspace.id}/bots")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401


def test_wrong_password_is_refused_with_a_generic_message_then_throttled(client, tenants):
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": "wrong!!!"}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == "Email or password is incorrect."
    locked = client.post(
        "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "900"


def test_owner_manages_bots_end_to_end(client, tenants):
    a, _ = tenants
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/bots"
    created = client.post(base, json={"name": "Sales"}, headers=headers)
    assert created.status_code == 201
    bot_id = created.json()["id"]
    renamed = client.patch(f"{base}/{bot_id}", json={"name": "Sales bot"}, headers=headers)
    assert renamed.json()["name"] == "Sales bot"
    key = client.post(f"{base}/{bot_id}/keys", headers=headers)
    assert key.status_code == 201 and key.json()["key"].startswith("ck_")
    assert "key_hash" not in created.json() and "key_hash" not in key.json()
    listed = client.get(base, params={"search": "sales"}, headers=headers).json()
    assert [b["name"] for b in listed] == ["Sales bot"]
    assert client.delete(f"{base}/{bot_id}", headers=headers).status_code == 204
    assert client.get(f"{base}/{bot_id}", headers=headers).status_code == 404


def test_invalid_bodies_get_readable_422s(client, tenants):
    a, _ = tenants
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/bots"
    empty = client.post(base, json={"name": ""}, headers=headers)
    assert empty.status_code == 422 and "name" in empty.json()["detail"]
    colour = client.post(base, json={"name": "x", "accent_color": "javascript:"}, headers=headers)
    assert colour.status_code == 422 and "accent colour" in colour.json()["detail"]
    garbage = client.post(
        base, content=b"{not json", headers={**headers, "content-type": "application/json"}
    )
    assert garbage.status_code == 422


def test_viewer_reads_but_cannot_write(client, tenants):
    a, _ = tenants
    headers = login(client, "viewer-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/bots"
    assert client.get(base, headers=headers).status_code == 200
    refused = client.post(base, json={"name": "x"}, headers=headers)
    assert refused.status_code == 403
    assert "viewer" in refused.json()["detail"]


def test_members_are_managed_through_the_api(client, tenants):
    a, _ = tenants
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/members"
    added = client.post(
        base,
        json={"email": "new@example.com", "role": "agent", "password": PASSWORD},
        headers=headers,
    )
    assert added.status_code == 201
    user_id = added.json()["user_id"]
    assert (
        client.patch(f"{base}/{user_id}", json={"role": "viewer"}, headers=headers).status_code
        == 204
    )
    assert client.delete(f"{base}/{user_id}", headers=headers).status_code == 204
    assert "new@example.com" not in {m["email"] for m in client.get(base, headers=headers).json()}


def test_me_lists_workspaces_and_password_change_keeps_this_session(client, tenants):
    headers = login(client, "agent-a@example.com")
    me = client.get("/api/v1/me", headers=headers).json()
    assert [w["role"] for w in me["workspaces"]] == ["agent"]
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "brand new pass"},
        headers=headers,
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "email", ["owner-a@example.com", "admin-a@example.com", "viewer-a@example.com"]
)
def test_member_of_a_cannot_reach_b_through_any_route(client, tenants, email):
    a, b = tenants
    headers = login(client, email)
    ws, bot = b.workspace.id, b.bot.id
    attempts = [
        ("GET", f"/api/v1/workspaces/{ws}/bots", None),
        ("POST", f"/api/v1/workspaces/{ws}/bots", {"name": "x"}),
        ("GET", f"/api/v1/workspaces/{ws}/bots/{bot}", None),
        ("PATCH", f"/api/v1/workspaces/{ws}/bots/{bot}", {"name": "x"}),
        ("DELETE", f"/api/v1/workspaces/{ws}/bots/{bot}", None),
        ("POST", f"/api/v1/workspaces/{ws}/bots/{bot}/keys", None),
        ("GET", f"/api/v1/workspaces/{ws}/members", None),
        ("POST", f"/api/v1/workspaces/{ws}/members", {"email": email, "role": "owner"}),
        ("PATCH", f"/api/v1/workspaces/{ws}/members/{b.viewer.user_id}", {"role": "owner"}),
        ("DELETE", f"/api/v1/workspaces/{ws}/members/{b.viewer.user_id}", None),
        # B's bot addressed through A's workspace id:
        ("GET", f"/api/v1/workspaces/{a.workspace.id}/bots/{bot}", None),
        ("PATCH", f"/api/v1/workspaces/{a.workspace.id}/bots/{bot}", {"name": "x"}),
        ("DELETE", f"/api/v1/workspaces/{a.workspace.id}/bots/{bot}", None),
    ]
    for method, url, body in attempts:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code in (403, 404), (method, url, response.status_code)
    owner_b = login(client, "owner-b@example.com")
    bot_b = client.get(f"/api/v1/workspaces/{ws}/bots/{bot}", headers=owner_b).json()
    assert bot_b["name"] == "Bot b"
    members_b = client.get(f"/api/v1/workspaces/{ws}/members", headers=owner_b).json()
    assert len(members_b) == 4


def test_create_accepts_every_field_patch_accepts_and_unknown_fields_are_422(client, tenants):
    """A field was silently dropped on create (fallback_message): now the create model takes all
    of PATCH's fields, and a misspelt or unknown field is refused on both, never ignored."""
    a, _ = tenants
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/bots"
    fields = {
        "name": "Support",
        "fallback_message": "Sorry, ask our team at help@example.com.",
        "avatar_url": "https://cdn.example/bot.png",
        "show_button_text": True,
        "button_text": "Ask us",
        "status": "paused",
        "description": "Answers support questions",
        "welcome_message": "Hi!",
    }
    created = client.post(base, json=fields, headers=headers)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in fields} == fields
    stored = client.get(f"{base}/{created.json()['id']}", headers=headers).json()
    assert stored["fallback_message"] == fields["fallback_message"]
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert set(schema["BotCreate"]["properties"]) >= set(schema["BotUpdate"]["properties"])

    typo = client.post(base, json={"name": "X", "fallback_mesage": "oops"}, headers=headers)
    assert typo.status_code == 422 and "fallback_mesage" in typo.json()["detail"], typo.text
    bot_url = f"{base}/{created.json()['id']}"
    patched = client.patch(bot_url, json={"colour": "#000000"}, headers=headers)
    assert patched.status_code == 422 and "colour" in patched.json()["detail"], patched.text
    members = f"/api/v1/workspaces/{a.workspace.id}/members"
    extra = client.post(members, json={"email": "x@example.com", "role": "agent", "admin": True},
                        headers=headers)  # fmt: skip
    assert extra.status_code == 422 and "admin" in extra.json()["detail"]
    assert client.get(bot_url, headers=headers).json()["accent_color"] == "#4f46e5"
