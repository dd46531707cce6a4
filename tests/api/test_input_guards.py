"""Inputs the fuzzer found that PostgreSQL (or SQLite) could not take: refused with 422, not 500."""

from chatapp.core.db import session_scope
from tests.api.test_admin_api import login
from tests.utils.factories import make_tenant


def test_nul_characters_are_refused_everywhere_and_literal_backslashes_are_not(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
    headers = login(client, "owner-a@example.com")
    nul = client.post("/api/v1/workspaces", json={"name": "Shop\x00"}, headers=headers)
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    nested = client.post(
        "/api/chat", json={"bot_id": a.bot.public_id, "message": "hi", "visitor": {"n\x00": 1}}
    )
    assert nested.status_code == 422
    assert nested.headers["access-control-allow-origin"] == "*"  # the widget can read why
    query = client.get(f"/api/v1/workspaces/{a.workspace.id}/bots?search=%00", headers=headers)
    assert query.status_code == 422
    literal = client.post("/api/v1/workspaces", json={"name": "Shop \\u0000"}, headers=headers)
    assert literal.status_code == 201 and literal.json()["name"] == "Shop \\u0000"


def test_ids_beyond_an_integer_column_are_422_not_a_database_error(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}"
    assert client.get(f"{base}/bots/{2**31 - 1}", headers=headers).status_code == 404
    for url in (
        f"{base}/bots/{2**31}",
        f"/api/v1/workspaces/{2**63}/bots",
        f"{base}/inbox/-{2**40}",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 422, (url, response.text)
