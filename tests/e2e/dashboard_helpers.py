"""What the dashboard's browser tests share: a fresh tenant in the running app, logging in as one
of its members, and screenshots for docs/screenshots/."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect

from chatapp.core.db import get_engine, session_scope
from tests.utils.factories import PASSWORD, Tenant, make_tenant

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def new_tenant(app_server, label: str | None = None) -> tuple[str, Tenant]:
    """A workspace with one member per role and a bot, made in the running app's database.

    Members log in as `{role}-{label}@example.com` with `PASSWORD`.
    """
    label = label or f"t{secrets.token_hex(4)}"
    with session_scope(get_engine(app_server.database_url)) as session:
        tenant = make_tenant(session, label)
        session.expunge_all()
    return label, tenant


def log_out(page: Page) -> None:
    """Log out as a user does, and wait for the login page the server answers with: logout ends
    in a full-page POST, and a navigation started before that lands would be aborted by it."""
    with page.expect_response(
        lambda r: r.request.resource_type == "document" and re.search(r"/login/?$", r.url)
    ):
        page.click("#logout")
    expect(page.locator("#login-submit")).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.get_by_role("heading", name="Bots")).to_be_visible()


def on_a_phone(page: Page) -> bool:
    """Whether the navigation is behind the menu button (below the `md` breakpoint)."""
    return page.locator("#nav-menu").is_visible()


def open_section(page: Page, name: str) -> None:
    """Go to a dashboard section through the navigation, as a user does (on a phone, through
    the menu's drawer), and wait for its heading."""
    if on_a_phone(page):
        page.click("#nav-menu")
        page.click(f"#menu-nav-{name.lower()}")
    else:
        page.click(f"#nav-{name.lower()}")
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def switch_bot(page: Page, name: str) -> None:
    """Choose the bot the sections work on in the navigation's switcher (on a phone, in the
    menu's drawer, closed again afterwards)."""
    phone = on_a_phone(page)
    if phone:
        page.click("#nav-menu")
    switcher = page.locator("#menu-bot-switcher" if phone else "#bot-switcher")
    switcher.click()
    page.get_by_role("option", name=name, exact=True).click()
    expect(switcher).to_contain_text(name)
    if phone:
        page.keyboard.press("Escape")
        expect(page.locator(".nav-drawer")).to_have_count(0)


def screenshot(page: Page, name: str) -> None:
    """Save docs/screenshots/<name>.png when UPDATE_SCREENSHOTS=1: the user guide shows what the
    tests saw. Off by default, so a test run leaves the tracked tree as it found it."""
    if os.environ.get("UPDATE_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
