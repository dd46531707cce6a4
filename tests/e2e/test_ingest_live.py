"""The running app's background worker picks up a source by itself and makes it searchable."""

import secrets
import time

import httpx
import pytest

from chatapp.core.db import get_engine, session_scope
from tests.utils.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.e2e
DEADLINE_SECONDS = 60


def test_a_text_source_becomes_searchable_without_anyone_running_the_worker(app_server):
    label = f"live{secrets.token_hex(3)}"
    with session_scope(get_engine(app_server.database_url)) as session:
        tenant = make_tenant(session, label)
    with httpx.Client(base_url=app_server.base_url, timeout=10) as client:
        token = client.post(
            "/api/v1/auth/login",
            json={"email": f"owner-{label}@example.com", "password": PASSWORD},
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        base = f"/api/v1/workspaces/{tenant.workspace.id}"
        added = client.post(
            f"{base}/bots/{tenant.bot.id}/sources/text",
            json={"title": "Parking", "text": "Free parking is available behind the Lyon shop."},
            headers=headers,
        )
        assert added.status_code == 202
        source_url = f"{base}/sources/{added.json()['id']}"
        deadline = time.monotonic() + DEADLINE_SECONDS
        status = added.json()["status"]
        while status in ("queued", "processing") and time.monotonic() < deadline:
            status = client.get(source_url, headers=headers).json()["status"]
        assert status == "ready"
        found = client.post(
            f"{base}/bots/{tenant.bot.id}/search",
            json={"query": "where can I park?"},
            headers=headers,
        ).json()
        assert "Free parking" in found["passages"][0]["text"]
