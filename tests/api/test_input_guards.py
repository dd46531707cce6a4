"""Inputs the fuzzer found that PostgreSQL (or SQLite) could not take: refused with 422, not 500."""

import pytest

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


def _upload_raw(client, url: str, headers: dict, name: str, data: bytes):
    """A multipart upload whose file name goes byte for byte into the part's header, as curl
    sends it (httpx, like a browser, would write a NUL or a line break as %00 / %0A)."""
    body = (
        b"--b0undary\r\n"
        + b'Content-Disposition: form-data; name="file"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + b"\r\n--b0undary--\r\n"
    )
    content_type = {"Content-Type": "multipart/form-data; boundary=b0undary"}
    return client.post(url, content=body, headers={**headers, **content_type})


@pytest.mark.parametrize(
    ("name", "character"),
    [
        ("evil.txt\x00.png", "U+0000"),
        ("invoice\u202etxt.exe", "U+202E"),
        ("report\u2067.txt", "U+2067"),
        ("tab\tname.txt", "U+0009"),
        ("evil.txt%00.png", "U+0000"),  # the form a browser or httpx gives a NUL
        ("two%0Alines.txt", "U+000A"),
    ],
)
def test_file_names_with_control_or_text_direction_characters_are_refused(client, name, character):
    """Issue 18 item 12: such a name is refused (422, in words), not cleaned and accepted."""
    with session_scope() as session:
        a = make_tenant(session, "a")
    headers = login(client, "owner-a@example.com")
    base = f"/api/v1/workspaces/{a.workspace.id}/bots/{a.bot.id}/sources"
    response = _upload_raw(client, f"{base}/file", headers, name, b"Opening hours: 9 to 5.")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "hidden control or text-direction character" in detail and character in detail
    assert client.get(base, headers=headers).json() == []
    fine = _upload_raw(client, f"{base}/file", headers, "Caf\u00e9 100%.txt", b"Open 9 to 5.")
    assert fine.status_code == 202, fine.text
