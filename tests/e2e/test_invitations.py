"""Inviting a teammate with a link, in a real browser: the owner makes an agent's link on Team and
copies it; another person opens it in their own browser, sets a password and lands in the
workspace as an agent; the link then says it was used."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section, screenshot

pytestmark = pytest.mark.e2e


def test_owner_invites_an_agent_who_sets_a_password_and_joins(browser, app_server, page):
    label, _ = new_tenant(app_server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Team")
    page.click("#invite-role")
    page.get_by_role("option", name="agent", exact=True).click()
    page.click("#invite-create")
    link = page.locator("#invite-link")
    expect(link).to_have_value(
        re.compile(rf"^{re.escape(app_server.base_url)}/invite/inv_[\w-]{{43}}$")
    )
    expect(page.locator("#invite-note")).to_contain_text("Copy the link and send it")
    expect(page.locator("#invitations-table")).to_contain_text("Anyone with the link")
    screenshot(page, "team-invite")
    page.click("#invite-copy")
    url = page.evaluate("navigator.clipboard.readText()")
    assert url == link.input_value()

    newcomer = f"newcomer-{label}@example.com"
    other = browser.new_context(
        base_url=app_server.base_url, viewport={"width": 1280, "height": 800}
    )
    try:
        invited = other.new_page()
        invited.set_default_timeout(30_000)
        invited.goto(url)
        expect(invited.get_by_role("heading", name=f"Join Workspace {label}")).to_be_visible()
        expect(invited.locator("#invite-offer-role")).to_have_text("agent")
        invited.fill("#email", newcomer)
        invited.fill("#name", "New Comer")
        screenshot(invited, "invite-accept")
        invited.fill("#password", "short")
        invited.fill("#confirm", "short")
        invited.click("#invite-submit")
        expect(invited.locator("#invite-error")).to_contain_text("at least 8 characters")
        invited.fill("#password", "my own choice 42")
        invited.fill("#confirm", "my own choice 42")
        invited.click("#invite-submit")
        expect(invited.get_by_role("heading", name="Bots")).to_be_visible()
        expect(invited.locator(".bot-name", has_text=f"Bot {label}")).to_be_visible()
        expect(invited.locator("#new-bot")).to_have_count(0)  # an agent does not create bots
        open_section(invited, "Team")
        row = invited.get_by_role("row").filter(has_text=newcomer)
        expect(row).to_contain_text("agent")
        expect(invited.locator("#invitations")).to_have_count(0)  # agents do not invite
        invited.goto(url)
        expect(invited.locator("#invite-error")).to_contain_text("already used")
    finally:
        other.close()

    page.reload()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    expect(page.locator("#audit-table")).to_contain_text("invitation.accept")
