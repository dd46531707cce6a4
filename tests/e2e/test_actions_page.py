"""The Actions section in a real browser: an HTTP action made from its template, its settings'
errors, the Test button against a loopback API (ok), internal addresses refused when an action or
the lead form's webhook is saved (in the URL sources' words), and the run log. The API listens on
the one loopback address the shared app may reach (PRIVATE_URL_NETWORKS); the metadata address
stays refused whatever the setting."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.actions import store
from chatapp.services.knowledge.ingest.urlguard import PRIVATE_NETWORK
from tests.e2e.conftest import TEST_SERVICES_HOST
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot
from tests.utils.action_api import running_action_api

pytestmark = pytest.mark.e2e


@pytest.fixture
def api():
    orders = {"12345": {"status": "shipped on Monday"}}
    with running_action_api(orders, host=TEST_SERVICES_HOST) as api:
        yield api


def save_url(page, url: str) -> None:
    page.fill("#action-url", url)
    page.click("#action-save")


def test_http_action_is_made_tested_and_refused_for_an_internal_address(page, app_server, api):
    label, _ = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Actions")
    expect(page.locator("#no-actions")).to_be_visible()
    page.click("#add-action-http")
    expect(page.locator("#action-url")).to_have_value("https://api.example.com/orders/{order_id}")

    save_url(page, "orders/{order}")  # not an address, and an unknown placeholder
    expect(page.locator("#action-errors")).to_contain_text("url: Define order under parameters")

    save_url(page, api.base_url + "/orders/{order_id}")
    expect(page.locator(".action-row")).to_have_count(1)
    expect(page.locator(".action-summary")).to_contain_text(api.base_url + "/orders/{order_id}")

    page.click(".action-edit")
    expect(page.locator("#action-test-input")).to_have_value('{"order_id": "12345"}')
    page.click("#action-test")
    expect(page.locator("#action-test-result")).to_contain_text(
        "ok: Order 12345: shipped on Monday"
    )
    assert api.requests[-1].path == "/orders/12345"
    screenshot(page, "actions-test")

    # Internal addresses are refused when saved (issue 18 item 13), with the URL sources' words.
    save_url(page, "http://169.254.169.254/latest/{order_id}")
    expect(page.locator("#action-errors")).to_contain_text("url: " + PRIVATE_NETWORK)
    save_url(page, "http://127.0.0.1/orders/{order_id}")  # loopback, not the listed network
    expect(page.locator("#action-errors")).to_contain_text("ALLOW_PRIVATE_URLS=true")
    page.keyboard.press("Escape")
    expect(page.locator(".action-summary")).to_contain_text(api.base_url + "/orders/{order_id}")

    runs = page.locator(".run-row")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("ok")
    expect(runs.first).to_contain_text("test")

    # The lead form's webhook too.
    page.click("#add-action-collect_lead")
    page.fill("#action-webhook-url", "http://10.0.0.5/hook")
    page.click("#action-save")
    expect(page.locator("#action-errors")).to_contain_text("webhook_url: " + PRIVATE_NETWORK)
    page.fill("#action-webhook-url", "")
    page.click("#action-save")
    expect(page.locator("#action-errors")).to_have_count(0)
    expect(page.locator(".action-row")).to_have_count(2)
    page.locator(".action-row", has_text="Collect lead").locator(".action-delete").click()
    page.click(".action-delete-confirm")
    expect(page.locator(".action-row")).to_have_count(1)

    # Disable, then delete with confirmation.
    page.click(".action-enabled")
    expect(page.locator(".action-enabled")).to_have_attribute("data-state", "unchecked")
    page.click(".action-delete")
    page.click(".action-delete-confirm")
    expect(page.locator("#no-actions")).to_be_visible()


def test_a_template_only_fills_the_editor_until_save(page, app_server):
    label, tenant = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Actions")

    # Closed without saving: nothing was made, so nothing can go live.
    page.click("#add-action-link")
    expect(page.locator("#action-name")).to_have_value("Show a link or button")
    expect(page.locator("#action-url")).to_have_value("https://example.com/book")
    expect(page.locator("#action-test")).to_be_disabled()  # only a saved action can be tried
    expect(page.locator("#action-test-note")).to_have_text("Save the action to test it.")
    page.keyboard.press("Escape")
    expect(page.locator("#action-url")).to_have_count(0)
    expect(page.locator("#no-actions")).to_be_visible()
    with session_scope(get_engine(app_server.database_url)) as session:
        assert store.list_actions(session, tenant.owner, tenant.bot.id) == []

    # A refused Save writes nothing either; a good one makes the enabled action.
    page.click("#add-action-link")
    page.fill("#action-url", "not an address")
    page.click("#action-save")
    expect(page.locator("#action-errors")).to_contain_text("url:")
    with session_scope(get_engine(app_server.database_url)) as session:
        assert store.list_actions(session, tenant.owner, tenant.bot.id) == []
    page.fill("#action-name", "Book a table")
    page.fill("#action-url", "https://shop.example.org/book")
    page.click("#action-save")
    expect(page.locator(".action-row")).to_have_count(1)
    expect(page.locator(".action-summary")).to_contain_text("https://shop.example.org/book")
    with session_scope(get_engine(app_server.database_url)) as session:
        (action,) = store.list_actions(session, tenant.owner, tenant.bot.id)
        assert (action.name, action.enabled) == ("Book a table", True)
        assert action.config["url"] == "https://shop.example.org/book"

    # A bot has one lead form: the template says so when clicked, not after typing.
    page.click("#add-action-collect_lead")
    page.click("#action-save")
    expect(page.locator(".action-row")).to_have_count(2)
    page.click("#add-action-collect_lead")
    refusal = "This bot already has a 'Collect lead' action: edit it."
    expect(page.get_by_text(refusal)).to_be_visible()
    expect(page.locator("#action-name")).to_have_count(0)
