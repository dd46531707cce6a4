"""Team management, workspace switching and role-limited views in a real browser.

The data is prepared through the services, straight into the running server's database, with
fresh names per test so the tests share one server without sharing rows.
"""

import re
import secrets

import pytest
from playwright.sync_api import expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.accounts import workspaces
from tests.e2e.dashboard_helpers import log_out, screenshot
from tests.utils.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.e2e


def _log_in(page, email, password=PASSWORD):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.get_by_role("heading", name="Bots")).to_be_visible()


@pytest.fixture
def labels(app_server):
    """Two workspaces; the first one's owner is also a viewer in the second."""
    north, south = f"north{secrets.token_hex(3)}", f"south{secrets.token_hex(3)}"
    with session_scope(get_engine(app_server.database_url)) as session:
        make_tenant(session, north)
        second = make_tenant(session, south)
        workspaces.add_member(
            session, second.owner, email=f"owner-{north}@example.com", role="viewer"
        )
    return north, south


def test_owner_adds_a_member_who_then_logs_in_with_their_role(page, labels):
    north, _ = labels
    newcomer = f"newcomer-{north}@example.com"
    _log_in(page, f"owner-{north}@example.com")
    page.click("#nav-team")
    expect(page).to_have_url(re.compile(r"/team/?$"))
    expect(page.get_by_role("cell", name=f"viewer-{north}@example.com", exact=True)).to_be_visible()
    page.fill("input[name=email]", newcomer)
    page.fill("input[name=password]", "newcomer pass 1")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("cell", name=newcomer, exact=True)).to_be_visible()
    screenshot(page, "team")

    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/?$"))
    _log_in(page, newcomer, "newcomer pass 1")
    expect(page.locator(".bot-name", has_text=f"Bot {north}")).to_be_visible()
    # An agent (the default role) reads bots but cannot create, rename or delete them.
    expect(page.locator("#new-bot")).to_have_count(0)
    expect(page.locator(".rename-bot")).to_have_count(0)


def test_switching_workspace_shows_only_that_workspaces_bots(page, labels):
    north, south = labels
    _log_in(page, f"owner-{north}@example.com")
    expect(page.locator(".bot-name", has_text=f"Bot {north}")).to_be_visible()
    expect(page.locator("#new-bot")).to_be_visible()
    page.click("#workspace-switcher")
    page.get_by_role("option", name=f"Workspace {south}").click()
    expect(page.locator(".bot-name", has_text=f"Bot {south}")).to_be_visible()
    expect(page.locator(".bot-name", has_text=f"Bot {north}")).to_have_count(0)
    # There the north owner is only a viewer.
    expect(page.locator("#new-bot")).to_have_count(0)
