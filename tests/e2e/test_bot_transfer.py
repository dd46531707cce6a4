"""A bot exported from its card and imported into another workspace from the Bots page, in
Chromium against the running app: a bad file is refused beside the control, the good one becomes
a new bot whose secret is listed to fill in, and the imported bot answers in the Playground with
the same citation."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.accounts import workspaces
from chatapp.services.actions import store
from chatapp.services.knowledge import sources
from chatapp.services.models import Bot, Source
from tests.e2e.dashboard_helpers import log_in, new_tenant, screenshot
from tests.utils.knowledge import HOURS, RETURNS

pytestmark = pytest.mark.e2e

READY_DEADLINE_SECONDS = 180
ANSWER_MS = 60_000  # an answer on a busy 2-core machine (the model embeds the question)
SECRET = "Bearer e2e-secret-value"


def trained_bot(app_server):
    """A tenant whose bot knows the shop's hours and returns (indexed by the app itself) and
    has an HTTP action with a secret header."""
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        for title, text in (("Hours", HOURS), ("Returns", RETURNS)):
            sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text)
        header = {"name": "Authorization", "value": SECRET, "secret": True}
        store.create_action(
            session, tenant.owner, tenant.bot.id, kind="http", config={"headers": [header]}
        )
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    while True:  # the app's own ingest worker trains them; poll until both are ready
        with session_scope(engine) as session:
            statuses = session.exec(
                select(Source.status).where(Source.bot_id == tenant.bot.id)
            ).all()
        if statuses and all(status == "ready" for status in statuses):
            return label, tenant
        assert "error" not in statuses, statuses
        assert time.monotonic() < deadline, f"sources not ready in time: {statuses}"
        time.sleep(0.2)  # poll interval


def test_owner_exports_a_bot_and_imports_it_into_another_workspace(page, app_server, tmp_path):
    label, tenant = trained_bot(app_server)
    engine = get_engine(app_server.database_url)
    with session_scope(engine) as session:
        branch = workspaces.create_workspace(
            session, user_id=tenant.owner.user_id, name=f"Workspace {label} branch"
        )
        branch_id = branch.id
    log_in(page, f"owner-{label}@example.com")  # opens the first workspace by name: the bot's
    expect(page.locator("#workspace-switcher")).to_have_text(f"Workspace {label}")

    card = page.locator(".bot-card", has_text=f"Bot {label}")
    with page.expect_download() as download:
        card.locator(".export-bot").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    content = saved.read_bytes()
    document = json.loads(content)
    assert saved.name.startswith(f"chatapp-bot-bot-{label}-") and saved.suffix == ".json"
    assert document["size_bytes"] == len(content) and SECRET.encode() not in content
    expect(page.get_by_text(f"Exported {saved.name}")).to_be_visible()

    page.click("#import-bot")
    upload = page.locator("#import-upload input[type=file]")
    newer = json.dumps({"format": "chatapp.bot", "version": 9}).encode()
    upload.set_input_files({"name": "bot.json", "mimeType": "application/json", "buffer": newer})
    expect(page.locator("#import-problems")).to_contain_text("made by a newer Chatapp")
    page.click("#import-target")
    page.get_by_role("option", name=f"Workspace {label} branch").click()
    upload.set_input_files(str(saved))
    result = page.locator("#import-result")
    expect(result).to_contain_text(f"Imported Bot {label} into Workspace {label} branch: 2 ")
    expect(page.locator("#import-to-fill-in")).to_contain_text("headers.Authorization")
    expect(page.locator("#import-problems")).to_have_count(0)
    screenshot(page, "bot-import")
    with session_scope(engine) as session:
        names = session.exec(select(Bot.name).where(Bot.workspace_id == branch_id)).all()
    assert names == [f"Bot {label}"]

    page.click("#open-imported")
    expect(page.get_by_role("heading", name="Playground", exact=True)).to_be_visible()
    expect(page.locator("#workspace-switcher")).to_have_text(f"Workspace {label} branch")
    page.fill("#playground-question", "When are you open on Saturdays?")
    page.click("#playground-send")
    answer = page.locator("#playground-messages .bubble-assistant").first
    expect(answer.locator(".message-text")).to_contain_text("10am", timeout=ANSWER_MS)
    expect(answer.locator(".citation").first).to_contain_text("Hours")
