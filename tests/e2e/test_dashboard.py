"""First run, login, bots and logout in a real browser against the production build."""

import re

import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.models import BotCreate
from tests.e2e.dashboard_helpers import log_in, log_out, new_tenant, screenshot

pytestmark = pytest.mark.e2e

OWNER = {"name": "Ada Owner", "email": "ada@example.com", "password": "a good long pass"}


def _log_in(page, email, password, remember=False):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    if remember:
        page.click("#remember")
    page.click("#login-submit")


@pytest.mark.first_run
def test_first_run_setup_login_bots_and_logout(page, app_server):
    # First run: the login page sends a newcomer to setup.
    page.goto("/login")
    expect(page).to_have_url(re.compile(r"/setup/?$"))
    page.fill("#name", OWNER["name"])
    page.fill("#email", OWNER["email"])
    page.fill("#password", OWNER["password"])
    page.fill("#confirm", OWNER["password"])
    page.fill("#workspace", "Acme Support")
    page.click("#setup-submit")

    # Logged in, on the Bots page of the new workspace, with no bots yet.
    expect(page.get_by_role("heading", name="Bots")).to_be_visible()
    expect(page.locator("#current-user")).to_have_text(OWNER["email"])
    expect(page.get_by_text("No bots yet.")).to_be_visible()

    # Create a bot and see its card with the usage bar.
    page.click("#new-bot")
    page.fill("#new-bot-name", "Support Bot")
    page.click("#create-bot-submit")
    card = page.locator(".bot-card", has_text="Support Bot")
    expect(card).to_be_visible()
    expect(card.locator(".bot-usage")).to_have_text("0 / 1000 messages - 0 %")

    # Rename it.
    card.locator(".rename-bot").click()
    page.fill("#rename-input", "Sales Bot")
    page.click("#rename-submit")
    expect(page.locator(".bot-name", has_text="Sales Bot")).to_be_visible()

    # A second bot, then delete it through the confirmation dialog.
    page.click("#new-bot")
    page.fill("#new-bot-name", "Temporary")
    page.click("#create-bot-submit")
    temp = page.locator(".bot-card", has_text="Temporary")
    expect(temp).to_be_visible()
    temp.locator(".delete-bot").click()
    page.locator(".confirm-delete").click()
    expect(temp).to_have_count(0)
    expect(page.locator(".bot-card")).to_have_count(1)
    screenshot(page, "bots")

    # Log out: back to the login page, and the dashboard is closed.
    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/?$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/?$"))

    # A wrong password is refused with the generic message.
    _log_in(page, OWNER["email"], "not the password")
    expect(page.locator("#form-error")).to_contain_text("Email or password is incorrect.")
    expect(page).to_have_url(re.compile(r"/login/?$"))

    # The right one (remembered) opens the dashboard with the bot still there.
    _log_in(page, OWNER["email"], OWNER["password"], remember=True)
    expect(page.locator(".bot-name", has_text="Sales Bot")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["chatapp_session"]["httpOnly"]
    assert cookies["chatapp_session"]["expires"] > 0  # a persistent, 7-day cookie


def test_a_bot_card_opens_its_bot_and_the_count_says_bot_or_bots(page, app_server):
    label, tenant = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    expect(page.locator("#bots-count")).to_have_text(f"1 bot in Workspace {label}")

    with session_scope(get_engine(app_server.database_url)) as session:
        bots.create_bot(session, tenant.owner, BotCreate(name=f"Second {label}"))
    page.reload()
    expect(page.locator("#bots-count")).to_have_text(f"2 bots in Workspace {label}")

    # The card's own buttons keep their job: renaming opens the dialog and stays on Bots.
    second = page.locator(".bot-card", has_text=f"Second {label}")
    second.locator(".rename-bot").click()
    expect(page.locator("#rename-input")).to_be_visible()
    page.click("#rename-submit")
    expect(page.locator("#rename-input")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/$"))

    # Anywhere else on the card (here its usage line) opens that bot.
    second.locator(".bot-usage").click()
    expect(page).to_have_url(re.compile(r"/playground/?$"))
    expect(page.locator("#bot-switcher")).to_contain_text(f"Second {label}")
    expect(page.locator("#playground-question")).to_have_attribute(
        "placeholder", f"Ask Second {label} something"
    )

    # And from the keyboard: the bot's name is the card's button.
    page.click("#nav-bots")
    first = page.locator(".bot-card", has_text=f"Bot {label}")
    first.locator(".open-bot").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/playground/?$"))
    expect(page.locator("#bot-switcher")).to_contain_text(f"Bot {label}")
