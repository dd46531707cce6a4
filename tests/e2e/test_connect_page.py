"""Connect in a real browser: the copied embed code works on another website (also on a later
visit), regenerating the key refuses the old one, a key that cannot be shown again is replaced
in one click without breaking the live site, allowed domains are checked (and refused websites
listed), roles and tenants are respected."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import expect

from chatapp.core import security
from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.models import Bot, BotKey
from chatapp.state.connect import API_STUB, KEY_PLACEHOLDER
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


def chats_from_a_website(page, code: str, label: str, base: str) -> None:
    """Paste the code into a page of another website: the widget answers a visitor there."""
    with HostSite() as site:
        host = site.add("/", f"<!doctype html><html lang=en><title>Shop</title>{code}</html>")
        visitor = page.context.new_page()
        errors: list[str] = []
        visitor.on("pageerror", lambda error: errors.append(str(error)))
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
    assert not errors


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
    key = page.locator("#widget-key").inner_text()
    assert key.startswith("ck_")
    expect(code).to_have_text(
        f"{API_STUB}\n"
        f'<script src="{base}/widget.js" data-bot-id="{tenant.bot.public_id}" '
        f'data-key="{key}" async></script>'
    )
    page.click("#copy-embed")
    expect(page.get_by_text("Embed code copied.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code.inner_text()
    screenshot(page, "connect")
    chats_from_a_website(page, copied, label, base)

    page.click("#regenerate-key")
    page.click("#confirm-regenerate")
    expect(page.locator("#widget-key")).not_to_have_text(key)
    new_key = page.locator("#widget-key").inner_text()
    expect(code).to_contain_text(f'data-key="{new_key}"')
    refused = ask(app_server, tenant.bot.public_id, key)
    assert refused.status_code == 401, refused.text
    assert ask(app_server, tenant.bot.public_id, new_key).status_code == 200


def test_a_later_visit_shows_an_embed_code_that_works_when_pasted(page, app_server):
    label, _ = new_tenant(app_server)
    open_connect(page, f"owner-{label}@example.com")
    page.click("#create-key")
    key = page.locator("#widget-key").inner_text()

    later = page.context.browser.new_context(base_url=app_server.base_url)
    try:
        again = later.new_page()
        open_connect(again, f"admin-{label}@example.com")  # another day, another member
        expect(again.locator("#widget-key")).to_have_text(key)
        code = again.locator("#embed-code").inner_text()
        assert KEY_PLACEHOLDER not in code and f'data-key="{key}"' in code
        chats_from_a_website(again, code, label, app_server.base_url)
    finally:
        later.close()


def test_a_key_that_cannot_be_shown_again_gets_a_working_code_in_one_click(page, app_server):
    """A key made before keys were readable: the page says so; one click adds a readable key
    and the old one keeps working (the live site does not break)."""
    label, tenant = new_tenant(app_server)
    old = "ck_" + secrets.token_urlsafe(32)
    with session_scope(get_engine(app_server.database_url)) as session:
        session.add(
            BotKey(
                workspace_id=tenant.workspace.id,
                bot_id=tenant.bot.id,
                key_hash=security.hash_token(old),
                prefix=old[:10],
            )
        )
    open_connect(page, f"owner-{label}@example.com")
    expect(page.locator("#key-note")).to_contain_text(old[:10])
    expect(page.locator("#embed-code")).to_contain_text(f'data-key="{KEY_PLACEHOLDER}"')
    page.click("#add-key")
    expect(page.locator("#widget-key")).to_be_visible()
    key = page.locator("#widget-key").inner_text()
    expect(page.locator("#embed-code")).to_contain_text(f'data-key="{key}"')
    assert ask(app_server, tenant.bot.public_id, old).status_code == 200
    chats_from_a_website(page, page.locator("#embed-code").inner_text(), label, app_server.base_url)


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


def test_on_a_website_not_allowed_the_widget_does_not_show_and_connect_says_why(page, app_server):
    label, tenant = new_tenant(app_server)
    with session_scope(get_engine(app_server.database_url)) as session:
        _, key = bots.create_widget_key(session, tenant.owner, tenant.bot.id)
        bot = session.get(Bot, tenant.bot.id)
        bot.allowed_domains = ["shop.example"]
        session.add(bot)
    code = f"{API_STUB}\n" + (
        f'<script src="{app_server.base_url}/widget.js" data-bot-id="{tenant.bot.public_id}" '
        f'data-key="{key}" async></script>'
    )
    with HostSite() as site:  # served on localhost, which the bot does not allow
        host = site.add("/", f"<!doctype html><html lang=en><title>Copy</title>{code}</html>")
        visitor = page.context.browser.new_context()
        try:
            tab = visitor.new_page()
            with tab.expect_console_message(lambda m: "[chatapp]" in m.text) as warned:
                tab.goto(host)
            assert "not enabled on this website" in warned.value.text
            expect(tab.locator("chatapp-widget")).to_have_count(0)
            assert tab.evaluate("typeof Chatapp") == "function"  # the page's calls still work
        finally:
            visitor.close()

    open_connect(page, f"viewer-{label}@example.com")
    refused = page.locator("#refused-websites")
    expect(refused).to_contain_text("not in the allowed domains")
    expect(refused).to_contain_text("localhost refused 1 time, last ")


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
