"""Several processes on the embedded default (no Qdrant server): PostgreSQL and Redis shared,
each process's vector index derived from the database. The visitors' API runs as processes of
its own (`python -m chatapp serve-api`): a source added through one process is answered by
another at its next question, without a restart, and a deleted one is forgotten just as soon."""

from __future__ import annotations

import time

import httpx
import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from tests.api.test_live_api import login
from tests.utils.factories import make_tenant
from tests.utils.knowledge import new_session_id
from tests.utils.live_server import REDIS_URL, api_server, postgres_and_redis, serve_api

pytestmark = pytest.mark.shared_redis  # the machine's Redis: pub/sub channels are global


@pytest.fixture
def shared(monkeypatch):
    with postgres_and_redis(monkeypatch) as url:
        yield {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "INGEST_WORKER": "true"}


def wait_until_ready(http, url: str, headers) -> None:
    """The source's status as the API reports it, until an ingest worker has trained it."""
    deadline = time.monotonic() + 120
    while True:
        status = http.get(url, headers=headers).json()["status"]
        if status == "ready":
            return
        assert status in ("queued", "processing") and time.monotonic() < deadline, status
        with httpx.Client() as waiter:  # a cheap request paces the polling, no sleep
            waiter.get(url.split("/api/")[0] + "/api/health")


def test_processes_share_the_knowledge_through_the_database(shared, tmp_path):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
    visitor = {"bot_id": tenant.bot.public_id, "api_key": key, "stream": False}

    def ask(http, base, message: str) -> dict:
        body = {**visitor, "session_id": new_session_id(), "message": message}
        response = http.post(f"{base}/api/chat", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    with (
        api_server(shared, tmp_path / "a.log", serve_api(1)) as a,
        api_server(shared, tmp_path / "b.log", serve_api(2)) as b,
        httpx.Client(timeout=60) as http,
    ):
        assert http.get(f"{b}/widget.js").status_code == 200  # the widget from the API's port
        question = "Do you sell gift cards?"
        before = ask(http, a, question)
        assert before["sources"] == []  # the bot knows nothing yet: process A loaded it empty

        owner = login(http, b, "owner-a@example.com")
        workspace = f"{b}/api/v1/workspaces/{tenant.workspace.id}"
        added = http.post(
            f"{workspace}/bots/{tenant.bot.id}/sources/text",
            json={"title": "Gift cards", "text": "We sell gift cards from 10 to 200 pounds."},
            headers=owner,
        )
        assert added.status_code == 202, added.text
        source = f"{workspace}/sources/{added.json()['id']}"
        wait_until_ready(http, source, owner)

        after = ask(http, a, question)  # A, which never saw the upload, answers from it
        assert "gift cards" in after["answer"] and after["sources"]
        for _ in range(4):  # B's processes, whichever takes the connection
            assert "gift cards" in ask(http, b, question)["answer"]

        gone = http.delete(source, headers=owner)
        assert gone.status_code == 204
        assert ask(http, a, question)["sources"] == []
