"""The ingestion API for scripts: API tokens, every source kind, status polling, every refusal."""

import pytest

from chatapp.core.db import session_scope
from chatapp.services.knowledge.sources import uploads_dir
from chatapp.workers import ingest as worker
from tests.services.knowledge.ingest import files
from tests.utils.factories import PASSWORD, make_tenant

TEXT = "Our support desk answers by phone from 8am to 8pm, Monday to Saturday."


@pytest.fixture
def setup(client):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
    login = client.post(
        "/api/v1/auth/login", json={"email": "owner-a@example.com", "password": PASSWORD}
    )
    owner = {"Authorization": f"Bearer {login.json()['token']}"}
    created = client.post(
        f"/api/v1/workspaces/{a.workspace.id}/tokens", json={"name": "sync"}, headers=owner
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cat_")
    script = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/workspaces/{a.workspace.id}"
    return a, b, owner, script, base, created.json()["id"]


def test_a_script_uploads_a_document_and_polls_until_ready(client, setup):
    a, _b, _owner, script, base, _ = setup
    upload = client.post(
        f"{base}/bots/{a.bot.id}/sources/file",
        files={"file": ("support.md", b"# Support\n\n" + TEXT.encode(), "text/markdown")},
        headers=script,
    )
    assert upload.status_code == 202, upload.text
    source = upload.json()
    assert source["status"] == "queued" and source["kind"] == "file"
    worker.run_until_idle()
    status = client.get(f"{base}/sources/{source['id']}", headers=script).json()
    assert status["status"] == "ready" and status["progress"] == 1.0 and status["chunk_count"] >= 1
    found = client.post(
        f"{base}/bots/{a.bot.id}/search", json={"query": "phone support hours"}, headers=script
    ).json()
    assert found["confident"] and "8am to 8pm" in found["passages"][0]["text"]
    storage = client.get(f"{base}/bots/{a.bot.id}/storage", headers=script).json()
    assert storage["bytes_used"] == len(b"# Support\n\n" + TEXT.encode())


def test_text_qa_and_delete(client, setup):
    a, _b, _owner, script, base, _ = setup
    text = client.post(
        f"{base}/bots/{a.bot.id}/sources/text", json={"title": "Desk", "text": TEXT}, headers=script
    )
    qa = client.post(
        f"{base}/bots/{a.bot.id}/sources/qa",
        json={"question": "Is there parking?", "answer": "Yes, free parking behind the shop."},
        headers=script,
    )
    assert text.status_code == qa.status_code == 202
    worker.run_until_idle()
    listed = client.get(f"{base}/bots/{a.bot.id}/sources", headers=script).json()
    assert {s["kind"] for s in listed} == {"text", "qa"}
    assert all(s["status"] == "ready" for s in listed)
    assert client.delete(f"{base}/sources/{text.json()['id']}", headers=script).status_code == 204
    assert client.get(f"{base}/sources/{text.json()['id']}", headers=script).status_code == 404
    retrain = client.post(f"{base}/sources/{qa.json()['id']}/retrain", headers=script)
    assert retrain.status_code == 202 and retrain.json()["status"] == "queued"


@pytest.mark.parametrize(
    ("kind", "payload", "status", "words"),
    [
        ("text", {"title": "t", "text": ""}, 422, "Paste some text"),
        ("text", {"title": "t", "text": "x" * 50_001}, 422, "limit is 50,000"),
        ("qa", {"question": "q?", "answer": ""}, 422, "question and its answer"),
        ("url", {"url": "file:///etc/passwd"}, 422, "http"),
        ("url", {"url": "ftp://example.com/x"}, 422, "http"),
        ("url", {"url": "http://127.0.0.1:5432/"}, 422, "private or local"),
        ("url", {"url": "http://169.254.169.254/latest/meta-data/"}, 422, "not allowed"),
        ("website", {"url": "https://example.com", "max_pages": 0}, 422, "max_pages"),
        ("website", {"url": "gopher://example.com"}, 422, "http"),
    ],
)
def test_bad_sources_are_refused_with_a_readable_message(
    client, setup, kind, payload, status, words
):
    a, _b, _owner, script, base, _ = setup
    response = client.post(f"{base}/bots/{a.bot.id}/sources/{kind}", json=payload, headers=script)
    assert response.status_code == status, response.text
    assert words.lower() in response.json()["detail"].lower()


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.txt", b"", "empty"),
        ("random.bin", bytes(range(256)) * 20, "not supported"),
        ("fake.docx", b"PK\x03\x04 not really a zip", "docx"),
    ],
)
def test_bad_files_are_refused(client, setup, name, data, words):
    a, _b, _owner, script, base, _ = setup
    response = client.post(
        f"{base}/bots/{a.bot.id}/sources/file", files={"file": (name, data)}, headers=script
    )
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"].lower()


def test_oversized_upload_is_refused(client, setup, monkeypatch):
    from chatapp.core.config import reset_settings

    monkeypatch.setenv("MAX_UPLOAD_MB", "0.01")
    reset_settings()
    a, _b, _owner, script, base, _ = setup
    response = client.post(
        f"{base}/bots/{a.bot.id}/sources/file",
        files={"file": ("big.txt", b"word " * 5000)},
        headers=script,
    )
    assert response.status_code == 422
    assert "limit per file" in response.json()["detail"]


def test_tokens_are_scoped_revocable_and_need_a_manager(client, setup):
    a, b, owner, script, base, token_id = setup
    other = f"/api/v1/workspaces/{b.workspace.id}"
    refused = client.get(f"{other}/bots/{b.bot.id}/sources", headers=script)
    assert refused.status_code == 401 and "another workspace" in refused.json()["detail"]
    # A's token cannot reach B's bot through A's workspace either.
    assert client.get(f"{base}/bots/{b.bot.id}/sources", headers=script).status_code == 404
    agent = client.post(
        "/api/v1/auth/login", json={"email": "agent-a@example.com", "password": PASSWORD}
    ).json()["token"]
    denied = client.post(
        f"{base}/tokens", json={"name": "x"}, headers={"Authorization": f"Bearer {agent}"}
    )
    assert denied.status_code == 403
    listed = client.get(f"{base}/tokens", headers=owner).json()
    assert [t["token"] for t in listed] == [None]  # never shown again
    assert client.delete(f"{base}/tokens/{token_id}", headers=owner).status_code == 204
    revoked = client.get(f"{base}/bots/{a.bot.id}/sources", headers=script)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_a_private_address_refusal_names_the_settings_that_allow_it(client, setup):
    """Issue 18 item 7: the owner of a self-hosted install learns which setting lifts it."""
    a, _b, _owner, script, base, _ = setup
    for kind in ("url", "website"):
        path = f"{base}/bots/{a.bot.id}/sources/{kind}"
        response = client.post(path, json={"url": "http://10.0.0.7/"}, headers=script)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert "private or local" in detail
        assert "ALLOW_PRIVATE_URLS=true" in detail and "PRIVATE_URL_NETWORKS" in detail


def _hostile_files():
    secret = files.encrypted_pdf(files.pdf(["Salaries 2026"]), user_password="hunter2")
    whole = files.pdf(["Opening hours and prices of the shop. " * 20] * 3)
    page = b"<!DOCTYPE html><html><body><h1>Prices</h1><p>Ten euros.</p></body></html>"
    return [
        ("encrypted.pdf", secret, "password-protected"),
        ("truncated.pdf", whole[: len(whole) // 2], "damaged"),
        ("cv.docx", files.zip_bomb(unpacked_bytes=64 * 1024 * 1024), "unpacks to far more"),
        ("prices.pdf", page, "really an HTML page"),
        ("manual.pdf", b"Opening hours: 9 to 5.", "really plain text"),
        ("notes.txt", whole, "really a PDF"),
        ("report.docx", b"Quarterly report, plain words.", "really plain text"),
    ]


@pytest.mark.parametrize(("name", "data", "words"), _hostile_files())
def test_hostile_files_are_refused_at_upload_naming_the_problem(client, setup, name, data, words):
    """Issue 18 items 10 and 11: refused while the request waits (422), nothing stored."""
    a, _b, _owner, script, base, _ = setup
    response = client.post(
        f"{base}/bots/{a.bot.id}/sources/file", files={"file": (name, data)}, headers=script
    )
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"], response.json()["detail"]
    assert client.get(f"{base}/bots/{a.bot.id}/sources", headers=script).json() == []
    assert not any(path.is_file() for path in uploads_dir().rglob("*"))


def test_files_that_only_look_unusual_are_still_accepted(client, setup):
    """The upload checks refuse what cannot work, not what is merely unusual."""
    a, _b, _owner, script, base, _ = setup
    locked = files.encrypted_pdf(files.pdf(["Printable, not copyable"]), user_password="")
    page = b"<!DOCTYPE html><html><body><p>Ten euros.</p></body></html>"
    for name, data in [
        ("locked.pdf", locked),  # an owner password only: opens in every viewer
        ("prices.txt", page),  # HTML saved as text: both are text
        ("export", files.pdf(["No extension"])),  # no extension promises nothing
        ("Caf\u00e9 100%.docx", files.docx_file([("p", "Menu")])),
    ]:
        response = client.post(
            f"{base}/bots/{a.bot.id}/sources/file", files={"file": (name, data)}, headers=script
        )
        assert response.status_code == 202, (name, response.text)
