"""The production build serves the widget at /widget.js, and the widget's API defaults to that
origin: embedded on another site, it talks to the real app."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from tests.utils.factories import make_tenant
from tests.utils.widget_stack import HostSite

pytestmark = pytest.mark.e2e


def test_the_app_serves_the_widget_and_answers_it(app_server, open_page):
    base = app_server.base_url
    with httpx.Client(timeout=10) as client:
        launcher = client.get(f"{base}/widget.js")
        assert launcher.status_code == 200
        assert "javascript" in launcher.headers["content-type"]
        assert "widget-panel.js?v=" in launcher.text
        assert client.get(f"{base}/widget-panel.js").status_code == 200

    with session_scope(get_engine(app_server.database_url)) as session:
        tenant = make_tenant(session, "widget-app")
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        bot_id = tenant.bot.public_id

    with HostSite() as site:
        tag = f'<script src="{base}/widget.js" data-bot-id="{bot_id}" data-key="{key}" async>'
        url = site.add("/", f"<!doctype html><html lang=en><title>Shop</title>{tag}</script>")
        page = open_page()
        page.goto(url)
        page.locator("chatapp-widget .l").click()
        dialog = page.get_by_role("dialog", name="Bot widget-app")
        expect(dialog).to_be_visible()
        with page.expect_response(f"{base}/api/chat") as response:
            page.locator("#chatapp-input").fill("Hello!")
            page.locator("#chatapp-input").press("Enter")
        assert response.value.status == 200
        expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)  # welcome + answer
