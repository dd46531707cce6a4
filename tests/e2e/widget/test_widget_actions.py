"""An HTTP action through the real widget and the real app, offline (no LLM configured): the
visitor's question matches the action's rule, its order number is read by the parameter's
x-pattern, the app calls a loopback API, and the API's answer is what the visitor reads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.core.config import reset_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.services.actions import run_log, store
from chatapp.services.bots import bots
from tests.e2e.conftest import TEST_SERVICES_HOST
from tests.utils.action_api import running_action_api
from tests.utils.factories import make_tenant
from tests.utils.widget_stack import HostSite

pytestmark = pytest.mark.e2e


def test_the_widget_shows_the_http_actions_answer(app_server, open_page, monkeypatch):
    base = app_server.base_url
    # Saved here, so checked here with the server's setting (actions are guarded when saved).
    monkeypatch.setenv("PRIVATE_URL_NETWORKS", f"{TEST_SERVICES_HOST}/32")
    reset_settings()
    # The order API on the one loopback address the shared app may reach (PRIVATE_URL_NETWORKS).
    orders = {"48213": {"status": "out for delivery"}}
    with running_action_api(orders, host=TEST_SERVICES_HOST) as api:
        with session_scope(get_engine(app_server.database_url)) as session:
            tenant = make_tenant(session, "widget-actions")
            _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
            store.create_action(
                session,
                tenant.owner,
                tenant.bot.id,
                kind="http",
                config={"url": api.base_url + "/orders/{order_id}"},
            )
            bot_id = tenant.bot.public_id

        with HostSite() as site:
            tag = f'<script src="{base}/widget.js" data-bot-id="{bot_id}" data-key="{key}" async>'
            url = site.add("/", f"<!doctype html><html lang=en><title>Shop</title>{tag}</script>")
            page = open_page()
            page.goto(url)
            page.locator("chatapp-widget .l").click()
            dialog = page.get_by_role("dialog", name="Bot widget-actions")
            expect(dialog).to_be_visible()
            page.locator("#chatapp-input").fill("Where is my order 48213?")
            page.locator("#chatapp-input").press("Enter")
            answer = dialog.locator('.m[data-state="done"]').nth(1)
            expect(answer).to_contain_text("Order 48213: out for delivery", timeout=60_000)
        assert [r.path for r in api.requests] == ["/orders/48213"]

    with session_scope(get_engine(app_server.database_url)) as session:
        [run] = run_log.list_runs(session, tenant.owner, tenant.bot.id)
    assert (run.trigger, run.outcome) == ("rule", "ok")
    assert run.input == {"order_id": "48213", "reason": "keyword: order"}
