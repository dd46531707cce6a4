"""The bot file over HTTP: exported as a download, imported by a script of another workspace as an
upload or as the JSON body, and every refusal in words with nothing written."""

import json

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.services.knowledge import sources
from chatapp.workers import ingest as worker
from tests.utils.factories import PASSWORD, make_tenant
from tests.utils.knowledge import HOURS


def login(client, email: str) -> dict:
    reply = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {reply.json()['token']}"}


@pytest.fixture
def setup(client):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        sources.add_text(session, a.owner, a.bot.id, title="Hours", text=HOURS)
    worker.run_until_idle()
    owner_a, owner_b = login(client, "owner-a@example.com"), login(client, "owner-b@example.com")
    token = client.post(
        f"/api/v1/workspaces/{b.workspace.id}/tokens", json={"name": "move"}, headers=owner_b
    ).json()["token"]
    script_b = {"Authorization": f"Bearer {token}"}
    return a, b, owner_a, script_b


def export_url(tenant) -> str:
    return f"/api/v1/workspaces/{tenant.workspace.id}/bots/{tenant.bot.id}/export"


def import_url(tenant) -> str:
    return f"/api/v1/workspaces/{tenant.workspace.id}/bots/import"


def bot_names(client, tenant, headers) -> list[str]:
    bots = client.get(f"/api/v1/workspaces/{tenant.workspace.id}/bots", headers=headers).json()
    return sorted(bot["name"] for bot in bots)


def test_a_bot_is_downloaded_and_imported_by_another_workspaces_script(client, setup):
    a, b, owner_a, script_b = setup
    download = client.get(export_url(a), headers=owner_a)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/json"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="chatapp-bot-bot-a-')
    assert json.loads(download.content)["size_bytes"] == len(download.content)

    uploaded = client.post(
        import_url(b),
        files={"file": ("bot.json", download.content, "application/json")},
        headers=script_b,
    )
    assert uploaded.status_code == 201, uploaded.text
    made = uploaded.json()
    assert made["bot"]["workspace_id"] == b.workspace.id and made["bot"]["name"] == "Bot a"
    assert (made["sources"], made["queued"], made["to_fill_in"]) == (1, 0, [])
    as_body = client.post(
        import_url(b),
        content=download.content,
        headers={**script_b, "Content-Type": "application/json"},
    )
    assert as_body.status_code == 201, as_body.text
    assert as_body.json()["bot"]["name"] == "Bot a (2)"

    def search(tenant, bot_id, headers):
        url = f"/api/v1/workspaces/{tenant.workspace.id}/bots/{bot_id}/search"
        reply = client.post(url, json={"query": "open on saturday"}, headers=headers).json()
        return [(p["title"], p["text"]) for p in reply["passages"]]

    assert search(b, made["bot"]["id"], script_b) == search(a, a.bot.id, owner_a)


def test_refusals_are_in_words_and_write_nothing(client, setup, monkeypatch):
    a, b, owner_a, script_b = setup
    good = client.get(export_url(a), headers=owner_a).content
    before = bot_names(client, b, script_b)

    bad = client.post(import_url(b), files={"file": ("bot.json", b"{}")}, headers=script_b)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("This bot file cannot be imported: this is not a")
    edited = json.loads(good)
    edited["bot"]["colour"] = "red"
    edited["sources"][0]["text"] = ""
    problems = client.post(
        import_url(b), files={"file": ("bot.json", json.dumps(edited))}, headers=script_b
    ).json()
    assert problems["errors"] == [
        "bot > colour: unknown field (the file may come from a newer Chatapp, or was edited: "
        "remove it)",
        "source 1 > text: Paste some text first.",
    ]
    no_file = client.post(import_url(b), files={"bot": ("bot.json", good)}, headers=script_b)
    assert no_file.status_code == 422 and "form field 'file'" in no_file.json()["detail"]
    plain = client.post(
        import_url(b), content=good, headers={**script_b, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415 and "multipart/form-data" in plain.json()["detail"]

    viewer = login(client, "viewer-b@example.com")
    refused = client.post(import_url(b), files={"file": ("bot.json", good)}, headers=viewer)
    assert refused.status_code == 403
    foreign = client.post(import_url(b), files={"file": ("b.json", good)}, headers=owner_a)
    assert foreign.status_code == 404
    assert client.get(export_url(b), headers=owner_a).status_code == 404
    other_bot = f"/api/v1/workspaces/{a.workspace.id}/bots/{b.bot.id}/export"
    assert client.get(other_bot, headers=owner_a).status_code == 404

    monkeypatch.setenv("BOT_TRANSFER_MAX_MB", str(len(good) / 2 / 1024 / 1024))
    reset_settings()
    too_big = client.post(import_url(b), files={"file": ("bot.json", good)}, headers=script_b)
    assert too_big.status_code == 413 and "BOT_TRANSFER_MAX_MB" in too_big.json()["detail"]
    assert client.get(export_url(a), headers=owner_a).status_code == 413
    assert bot_names(client, b, script_b) == before == ["Bot b"]
