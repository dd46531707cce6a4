"""The workspace backup: everything the workspace owns, nothing secret, nothing of another
workspace, and only for its managers."""

import json
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from chatapp.api.app import create_api
from chatapp.core.db import session_scope
from chatapp.core.errors import PermissionDenied
from chatapp.services.bots import providers
from chatapp.services.models import BotKey, Contact, User, Workspace
from chatapp.services.ops import workspace_export
from tests.utils.factories import PASSWORD
from tests.utils.knowledge import SHIPPING_A, SHIPPING_Q, make_shop, new_session_id

PROVIDER_KEY = "sk-workspace-secret-abcdef123456"


@pytest.fixture
def shops(sqlite_url):
    """Two workspaces with knowledge, a conversation each, a contact and a provider key."""
    mine, theirs = make_shop("mine"), make_shop("theirs")
    with TestClient(create_api()) as client:
        for shop, question in ((mine, "When are you open on Saturdays?"), (theirs, "Returns?")):
            response = client.post(
                "/api/chat",
                json={
                    "bot_id": shop.public_id,
                    "api_key": shop.key,
                    "session_id": new_session_id(),
                    "message": question,
                    "stream": False,
                },
            )
            assert response.status_code == 200
    with session_scope() as session:
        for shop in (mine, theirs):
            tenant = shop.tenant
            session.add(
                Contact(workspace_id=tenant.workspace.id, email=f"lead@{shop.public_id}.io")
            )
        providers.set_provider(session, mine.tenant.owner, api_key=PROVIDER_KEY, model="gpt-x")
    return mine, theirs


def read(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_backup_holds_the_workspace_data_and_no_secret(shops):
    mine, theirs = shops
    with session_scope() as session:
        backup = workspace_export.build_backup(session, mine.tenant.admin)
        secrets = [k.key_hash for k in session.exec(select(BotKey)).all()]
        secrets += [u.password_hash for u in session.exec(select(User)).all()]
        secrets.append(session.get(Workspace, mine.tenant.workspace.id).llm_api_key_encrypted)
    try:
        files = read(backup.path)
    finally:
        backup.path.unlink()
    assert backup.filename.startswith("chatapp-backup-workspace-mine-")
    assert set(files) == {
        "manifest.json",
        "workspace.json",
        "bots.json",
        "sources.json",
        "qa_pairs.json",
        "chunks.jsonl",
        "conversations.jsonl",
        "contacts.json",
    }
    [bot] = json.loads(files["bots.json"])
    assert bot["public_id"] == mine.public_id and bot["name"] == "Bot mine"
    assert {s["title"] for s in json.loads(files["sources.json"])} >= {"Hours", "Returns"}
    [qa] = json.loads(files["qa_pairs.json"])
    assert (qa["bot_id"], qa["question"], qa["answer"]) == (mine.bot_id, SHIPPING_Q, SHIPPING_A)
    chunks = [json.loads(line) for line in files["chunks.jsonl"].splitlines()]
    assert any("Saturdays we open from 10am" in c["text"] for c in chunks)
    [conversation] = [json.loads(line) for line in files["conversations.jsonl"].splitlines()]
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][0]["content"] == "When are you open on Saturdays?"
    assert [c["email"] for c in json.loads(files["contacts.json"])] == [f"lead@{mine.public_id}.io"]
    workspace = json.loads(files["workspace.json"])
    assert workspace["llm_provider"] == {
        "base_url": "",
        "model": "gpt-x",
        "api_key": "(not included)",
    }
    assert {m["role"] for m in workspace["members"]} == {"owner", "admin", "agent", "viewer"}
    manifest = json.loads(files["manifest.json"])
    assert manifest["counts"]["conversations"] == 1 and manifest["counts"]["bots"] == 1

    everything = "\n".join(files.values())
    for secret in [*secrets, PROVIDER_KEY, mine.key, theirs.key, PASSWORD]:
        assert secret and secret not in everything
    for foreign in (theirs.public_id, "Bot theirs", "Returns?", f"lead@{theirs.public_id}.io"):
        assert foreign not in everything
    assert '"path"' not in files["sources.json"]


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_managers_may_download_a_backup(shops, role):
    mine, _ = shops
    with session_scope() as session, pytest.raises(PermissionDenied):
        workspace_export.build_backup(session, getattr(mine.tenant, role))
