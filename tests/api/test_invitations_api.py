"""Invitation links over the API: create (the link once), list (no links), withdraw, accept as a
new person, with a login or with a login token; roles, tenancy, refusals and throttling."""

from __future__ import annotations

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from tests.utils.factories import PASSWORD, make_tenant

NEW_PASSWORD = "my own choice 42"


@pytest.fixture
def tenants(client):
    with session_scope() as session:
        return make_tenant(session, "a"), make_tenant(session, "b")


def login(client, email, password=PASSWORD):
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def create(client, workspace_id, headers, **body):
    return client.post(
        f"/api/v1/workspaces/{workspace_id}/invitations",
        json={"role": "agent", **body},
        headers=headers,
    )


def token_of(reply) -> str:
    assert reply.status_code == 201, reply.text
    return reply.json()["url"].rsplit("/", 1)[1]


def accept(client, token, headers=None, **body):
    return client.post("/api/v1/invitations/accept", json={"token": token, **body}, headers=headers)


def test_owner_invites_and_a_new_person_joins_with_their_own_password(client, tenants):
    a, _ = tenants
    owner = login(client, "owner-a@example.com")
    made = create(client, a.workspace.id, owner, email="ana@example.com")
    body = made.json()
    assert set(body) == {
        "id", "role", "email", "invited_by", "created_at", "expires_at", "url", "email_status",
        "email_error",
    }  # fmt: skip
    assert body["url"].startswith("http://localhost:3000/invite/inv_")  # PUBLIC_URL
    assert (body["role"], body["email_status"]) == ("agent", "not_configured")
    listed = client.get(f"/api/v1/workspaces/{a.workspace.id}/invitations", headers=owner).json()
    assert [i["email"] for i in listed] == ["ana@example.com"]
    assert "url" not in listed[0] and token_of(made) not in str(listed)
    joined = accept(client, token_of(made), password=NEW_PASSWORD, name="Ana")
    assert joined.status_code == 200, joined.text
    answer = joined.json()
    assert (answer["email"], answer["role"], answer["workspace_id"]) == (
        "ana@example.com",
        "agent",
        a.workspace.id,
    )
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer['token']}"}).json()
    assert (me["name"], [w["role"] for w in me["workspaces"]]) == ("Ana", ["agent"])
    again = accept(client, token_of(made), password=NEW_PASSWORD)
    assert again.status_code == 410
    assert again.json()["detail"].startswith("This invitation was already used.")
    assert (
        client.get(f"/api/v1/workspaces/{a.workspace.id}/invitations", headers=owner).json() == []
    )


def test_existing_people_join_with_a_password_or_a_login_token(client, tenants):
    a, b = tenants
    owner_b = login(client, "owner-b@example.com")
    by_password = token_of(create(client, b.workspace.id, owner_b, role="viewer"))
    wrong = accept(client, by_password, email="agent-a@example.com", password="not it at all")
    assert wrong.status_code == 401
    joined = accept(client, by_password, email="agent-a@example.com", password=PASSWORD)
    assert joined.status_code == 200 and joined.json()["user_id"] == a.agent.user_id
    by_token = token_of(create(client, b.workspace.id, owner_b))
    viewer_a = login(client, "viewer-a@example.com")
    joined = accept(client, by_token, headers=viewer_a)
    assert joined.status_code == 200 and joined.json()["token"] is None
    roles = {
        w["id"]: w["role"] for w in client.get("/api/v1/me", headers=viewer_a).json()["workspaces"]
    }
    assert roles == {a.workspace.id: "viewer", b.workspace.id: "agent"}


def test_refusals_are_clear_4xx(client, tenants):
    a, _ = tenants
    owner = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/invitations"
    withdrawn = create(client, a.workspace.id, owner)
    assert client.delete(f"{base}/{withdrawn.json()['id']}", headers=owner).status_code == 204
    gone = accept(client, token_of(withdrawn), password=NEW_PASSWORD, email="x@example.com")
    assert gone.status_code == 410 and "withdrawn" in gone.json()["detail"]
    unknown = accept(client, "inv_nothing", password=NEW_PASSWORD, email="x@example.com")
    assert unknown.status_code == 404 and "not valid" in unknown.json()["detail"]
    fresh = token_of(create(client, a.workspace.id, owner))
    no_password = accept(client, fresh)
    assert no_password.status_code == 422 and "Send a password" in no_password.json()["detail"]
    weak = accept(client, fresh, password="short", email="x@example.com")
    assert weak.status_code == 422 and "8 characters" in weak.json()["detail"]
    script = client.post(
        f"/api/v1/workspaces/{a.workspace.id}/tokens", json={"name": "sync"}, headers=owner
    ).json()["token"]
    as_script = accept(client, fresh, headers={"Authorization": f"Bearer {script}"})
    assert as_script.status_code == 401 and "as a person" in as_script.json()["detail"]
    bad_role = create(client, a.workspace.id, owner, role="root")
    assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]
    extra = create(client, a.workspace.id, owner, password="chosen by the inviter")
    assert extra.status_code == 422 and "password" in extra.json()["detail"]
    admin = login(client, "admin-a@example.com")
    owner_by_admin = create(client, a.workspace.id, admin, role="owner")
    assert owner_by_admin.status_code == 403 and "Only an owner" in owner_by_admin.json()["detail"]


@pytest.mark.parametrize("email", ["agent-a@example.com", "viewer-a@example.com"])
def test_agents_and_viewers_get_403(client, tenants, email):
    a, _ = tenants
    invitation = create(client, a.workspace.id, login(client, "owner-a@example.com")).json()["id"]
    headers = login(client, email)
    base = f"/api/v1/workspaces/{a.workspace.id}/invitations"
    assert create(client, a.workspace.id, headers).status_code == 403
    assert client.get(base, headers=headers).status_code == 403
    assert client.delete(f"{base}/{invitation}", headers=headers).status_code == 403


def test_another_workspaces_invitations_are_404(client, tenants):
    a, b = tenants
    in_b = create(client, b.workspace.id, login(client, "owner-b@example.com")).json()["id"]
    owner_a = login(client, "owner-a@example.com")
    assert (
        client.get(f"/api/v1/workspaces/{b.workspace.id}/invitations", headers=owner_a).status_code
        == 404
    )
    across = client.delete(
        f"/api/v1/workspaces/{a.workspace.id}/invitations/{in_b}", headers=owner_a
    )
    assert across.status_code == 404
    owner_b = login(client, "owner-b@example.com")
    assert (
        len(client.get(f"/api/v1/workspaces/{b.workspace.id}/invitations", headers=owner_b).json())
        == 1
    )


def test_accepting_is_throttled_like_logging_in(client, tenants, monkeypatch):
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")  # four refused links per address
    reset_settings()
    a, _ = tenants
    good = token_of(create(client, a.workspace.id, login(client, "owner-a@example.com")))
    for n in range(4):
        assert accept(client, f"inv_guess{n}", password=NEW_PASSWORD).status_code == 404
    locked = accept(client, good, password=NEW_PASSWORD, email="late@example.com")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
    assert "Too many invalid invitation links" in locked.json()["detail"]
