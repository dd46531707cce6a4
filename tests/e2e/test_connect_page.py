"""Connect in a real browser: the copied embed code works on another website, regenerating the
key refuses the old one, allowed domains are checked, roles and tenants are respected."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.models import Bot
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.utils.widget_stack import HostSite

pytestmark = pytest.mark.e2e


def open_connect(page, email: str) -> None:
    log_in(page, email)
    open_section(page, "Connect")


def ask(app_server, bot_public_id: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{app_server.base_url}/api/chat",
        json={"bot_id": bot_public_id, "api_key": key, "message": "Hello?", "stream": False},
        timeout=60,
    )


def test_copied_embed_code_chats_on_a_website_and_regenerating_refuses_the_old_key(
    page, app_server
):
    label, tenant = new_tenant(app_server)
    base = app_server.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    open_connect(page, f"owner-{label}@example.com")
    code = page.locator("#embed-code")
    expect(page.locator("#key-note")).to_contain_text("no widget key yet")
    expect(code).to_contain_text('data-key="YOUR_WIDGET_KEY"')

    page.click("#create-key")
    key = page.locator("#new-key").inner_text()
    assert key.startswith("ck_")
    expect(code).to_have_text(
        f'<script src="{base}/widget.js" data-bot-id="{tenant.bot.public_id}" '
        f'data-key="{key}" async></script>'
    )
    page.click("#copy-embed")
    expect(page.get_by_text("Embed code copied.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code.inner_text()
    screenshot(page, "connect")

    with HostSite() as site:
        host = site.add("/", f"<!doctype html><html lang=en><title>Shop</title>{copied}</html>")
        visitor = page.context.new_page()
        visitor.goto(host)
        visitor.locator("chatapp-widget .l").click()
        dialog = visitor.get_by_role("dialog", name=f"Bot {label}")
        expect(dialog).to_be_visible()
        with visitor.expect_response(f"{base}/api/chat") as response:
            visitor.locator("#chatapp-input").fill("Do you have a shop in Lyon?")
            visitor.locator("#chatapp-input").press("Enter")
        assert response.value.status == 200
        expect(dialog.locator('.m[data-state="done"]')).to_have_count(2)  # welcome + answer
        visitor.close()

    page.click("#regenerate-key")
    page.click("#confirm-regenerate")
    expect(page.locator("#new-key")).not_to_have_text(key)
    new_key = page.locator("#new-key").inner_text()
    expect(code).to_contain_text(f'data-key="{new_key}"')
    refused = ask(app_server, tenant.bot.public_id, key)
    assert refused.status_code == 401, refused.text
    assert ask(app_server, tenant.bot.public_id, new_key).status_code == 200

    page.reload()  # shown once: after a reload only the prefix is left
    expect(page.locator("#key-note")).to_contain_text(new_key[:10])
    expect(page.locator("#new-key")).to_have_count(0)
    expect(code).to_contain_text('data-key="YOUR_WIDGET_KEY"')


def test_inline_variant_and_allowed_domains(page, app_server):
    label, tenant = new_tenant(app_server)
    open_connect(page, f"admin-{label}@example.com")
    page.click("#variant-inline")
    expect(page.locator("#embed-code")).to_contain_text('data-mode="inline"')
    expect(page.locator("#embed-code")).to_contain_text('<div id="chatapp-chat"')

    page.fill("#field-allowed_domains", "https://www.shop.com/page\nnot a domain!")
    page.click("#save-domains")
    expect(page.locator("#error-allowed_domains")).to_contain_text("is not a domain name")
    page.fill("#field-allowed_domains", "https://www.shop.com/page\nhelp.shop.com")
    expect(page.locator("#error-allowed_domains")).to_have_count(0)
    page.click("#save-domains")
    expect(page.get_by_text("Allowed domains saved.")).to_be_visible()
    expect(page.locator("#field-allowed_domains")).to_have_value("www.shop.com\nhelp.shop.com")
    with session_scope(get_engine(app_server.database_url)) as session:
        assert session.get(Bot, tenant.bot.id).allowed_domains == ["www.shop.com", "help.shop.com"]


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_viewers_and_agents_see_the_code_but_cannot_touch_keys_or_domains(page, app_server, role):
    label, tenant = new_tenant(app_server)
    _, other = new_tenant(app_server)
    open_connect(page, f"{role}-{label}@example.com")
    expect(page.locator("#embed-code")).to_contain_text(tenant.bot.public_id)
    expect(page.locator("#embed-code")).not_to_contain_text(other.bot.public_id)
    expect(page.locator("#widget-preview")).to_be_visible()
    for hidden in ("#create-key", "#regenerate-key", "#revoke-keys", "#save-domains"):
        expect(page.locator(hidden)).to_have_count(0)
    expect(page.locator("#field-allowed_domains")).to_have_attribute("readonly", "")


def test_connect_fits_a_phone(page, app_server):
    label, _ = new_tenant(app_server)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, f"owner-{label}@example.com")
    page.goto("/connect")
    expect(page.locator("#embed-code")).to_be_visible()
    expect(page.locator("#widget-preview")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"Connect is {width}px wide on a 390px screen"
    assert re.search(r"/connect/?$", page.url)
