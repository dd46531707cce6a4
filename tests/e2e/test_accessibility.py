"""axe-core over every dashboard page, tab and dialog, as an owner of a workspace with data; and
the Sources section driven by the keyboard alone.

One browser page walks the whole dashboard (a page per test would cost a login and a load each).
Each dialog is opened from the keyboard (its opener focused, then Enter), checked by axe, closed
with Escape, and must give focus back to its opener. Every problem is collected and the test fails
once at the end with all of them; the counts per page (all impacts) are printed for the notes.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Locator, Page, expect

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.chat import conversations
from chatapp.services.contacts import contacts
from chatapp.services.knowledge import sources
from chatapp.services.live import handoff
from chatapp.services.models import Bot
from tests.e2e.axe import axe_violations, blocking, impact_counts
from tests.e2e.dashboard_helpers import log_in, new_tenant, open_section
from tests.utils.handoff import add_action

pytestmark = pytest.mark.e2e

TRAINED_WITHIN_MS = 120_000  # the first source of the shared app also loads the embedding model

# The dialog on top (a confirmation opened inside a dialog comes after it in the document).
TOP_DIALOG = "[...document.querySelectorAll('[role=dialog], [role=alertdialog]')].pop()"
FOCUS_RETURN_MS = 5_000
ACTION_KINDS = ("http", "link", "collect_lead", "handoff")


def _answer(fell_back: bool) -> conversations.Answer:
    if fell_back:
        return conversations.Answer("Sorry, I don't know.", [], True, "extractive", 10, 2, 0, 0)
    cited = [{"n": 1, "title": "Hours", "snippet": "9am to 6pm", "strength": "strong"}]
    return conversations.Answer("We open at 9am [1].", cited, False, "extractive", 10, 2, 0, 0)


def _chat(session, bot: Bot, question: str, *, fell_back: bool = False):
    conversation = conversations.find_or_create(session, bot, "v-" + secrets.token_hex(6), "widget")
    conversations.add_user_message(session, conversation, question, None)
    conversations.add_answer(session, conversation, _answer(fell_back), None)
    return conversation


def _workspace_with_data(app_server) -> str:
    """A tenant whose every section has something to show: sources, conversations (one
    unanswered, one linked to a contact, one waiting for a person), actions of each kind, a key."""
    label, tenant = new_tenant(app_server)
    engine = get_engine(app_server.database_url)
    for kind in ACTION_KINDS:
        add_action(tenant.bot.id, tenant.workspace.id, kind, engine=engine)
    with session_scope(engine) as session:
        owner, bot_id = tenant.owner, tenant.bot.id
        sources.add_text(session, owner, bot_id, title="Hours", text="We open at 9am, Monday on.")
        sources.add_qa(session, owner, bot_id, question="Parking?", answer="Behind the shop.")
        bots.create_widget_key(session, owner, bot_id)
        bot = session.get(Bot, bot_id)
        _chat(session, bot, "When do you open?")
        _chat(session, bot, "Do you sell gift cards?", fell_back=True)
        linked = _chat(session, bot, "Can someone call me back?")
        contacts.link_visitor(session, bot, linked, {"name": "Ada Lovelace", "email": "ada@x.org"})
        waiting = _chat(session, bot, "I want to talk to a person")
        handoff.request(session, waiting, reason="button")
    return label


class Audit:
    """axe's findings per page or dialog, and whatever else went wrong on the way."""

    def __init__(self, page: Page):
        self.page = page
        self.found: dict[str, list[dict]] = {}
        self.problems: list[str] = []

    def check(self, name: str, context: str = "document") -> None:
        self.found[name] = axe_violations(self.page, context)

    def dialog(self, name: str, opener: Locator) -> None:
        """Open a dialog from the keyboard, check it, close it with Escape: focus must return."""
        dialogs = self.page.locator("[role=dialog], [role=alertdialog]")
        already_open = dialogs.count()
        opener.focus()
        self.page.keyboard.press("Enter")
        expect(dialogs).to_have_count(already_open + 1)
        expect(dialogs.last).to_be_visible()
        self.check(name, TOP_DIALOG)
        self.page.keyboard.press("Escape")
        expect(dialogs).to_have_count(already_open)
        self.focus_returned(name, opener)

    def focus_returned(self, name: str, opener: Locator) -> None:
        try:
            expect(opener).to_be_focused(timeout=FOCUS_RETURN_MS)
        except AssertionError:
            where = self.page.evaluate(
                "() => { const e = document.activeElement;"
                " return e ? e.tagName + (e.id ? '#' + e.id : '') : 'nothing'; }"
            )
            self.problems.append(f"{name}: focus went to {where}, not back to its opener")

    def report(self) -> str:
        lines = ["axe-core per page (rules failing by impact: critical/serious/moderate/minor):"]
        for name, violations in self.found.items():
            counts = impact_counts(violations)
            ids = ", ".join(f"{v['id']} ({v['impact']})" for v in violations)
            lines.append(f"  {name}: {'/'.join(map(str, counts.values()))}  {ids}")
        return "\n".join(lines)

    def failures(self) -> list[str]:
        failing = [
            f"{name}: {v['id']} ({v['impact']}) {v['help']}: {v['nodes'][:5]}"
            for name, violations in self.found.items()
            for v in blocking(violations)
        ]
        return failing + self.problems


def _tabs(audit: Audit, page_name: str, tabs: list[tuple[str, str]]) -> None:
    for tab_id, tab_name in tabs:
        audit.page.click(f"#tab-{tab_id}")
        expect(audit.page.locator(f"#tab-{tab_id}")).to_have_attribute("data-state", "active")
        audit.check(f"{page_name}: {tab_name} tab")


def _workspace_pages(audit: Audit) -> None:
    page = audit.page
    audit.check("Bots")
    audit.dialog("Bots: new bot", page.locator("#new-bot"))
    audit.dialog("Bots: rename", page.locator(".rename-bot").first)
    audit.dialog("Bots: delete confirmation", page.locator(".delete-bot").first)
    audit.dialog("Sidebar: new workspace", page.locator("#new-ws"))
    audit.dialog("Bots: import a bot", page.locator("#import-bot"))

    open_section(page, "Team")
    audit.check("Team")
    audit.dialog("Team: remove member", page.get_by_role("button", name="Remove member").first)
    page.click("#invite-create")
    expect(page.locator("#invite-link")).to_be_visible()
    audit.check("Team: an invitation link made, one pending")
    link = page.locator("#invite-link").input_value()
    open_section(page, "Account")
    audit.check("Account")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    audit.check("Invitation link (opened while logged in)")
    page.goto("/")
    expect(page.get_by_role("heading", name="Bots")).to_be_visible()


def _conversation_pages(audit: Audit) -> None:
    page = audit.page
    open_section(page, "Playground")
    audit.check("Playground")

    open_section(page, "Activity")
    expect(page.locator(".conversation-row")).to_have_count(4)
    audit.check("Activity")
    audit.dialog("Activity: conversation", page.locator(".conversation-open").first)
    opener = page.locator(".conversation-open").first
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.locator("[role=dialog]")).to_have_count(1)  # the conversation, open again
    audit.dialog("Activity: improve an answer", page.locator(".improve-answer").first)
    page.keyboard.press("Escape")
    audit.focus_returned("Activity: conversation (after improving)", opener)

    open_section(page, "Analytics")
    expect(page.locator(".add-answer")).to_have_count(1)
    audit.check("Analytics")
    audit.dialog("Analytics: add answer", page.locator(".add-answer"))
    page.click(".add-answer")
    page.click("#qa-save")  # no answer: the dialog shows the field's error
    expect(page.locator("#qa-answer-error")).to_be_visible()
    audit.check("Analytics: add answer with an error", TOP_DIALOG)
    page.keyboard.press("Escape")

    open_section(page, "Inbox")
    page.locator(".inbox-item").first.click()
    expect(page.locator("#thread-messages")).to_contain_text("talk to a person")
    audit.check("Inbox (a conversation open)")


def _sources_and_contacts(audit: Audit) -> None:
    page = audit.page
    open_section(page, "Sources")
    expect(page.locator(".source-row")).to_have_count(2)
    tabs = [("files", "Files"), ("text", "Text"), ("qa", "Q&A"), ("url", "URL")]
    _tabs(audit, "Sources", [*tabs, ("website", "Website")])
    page.click("#tab-text")
    page.click("#add-text")  # nothing pasted: the field's error
    expect(page.locator("#error-text-text")).to_be_visible()
    audit.check("Sources: Text tab with an error")
    qa_row, text_row = (
        page.locator(".source-row", has_text="Parking?"),
        page.locator(".source-row", has_text="Hours"),
    )
    audit.dialog("Sources: edit Q&A", qa_row.locator(".edit-source"))
    audit.dialog("Sources: edit text", text_row.locator(".edit-source"))
    audit.dialog("Sources: what the bot learned", text_row.locator(".view-source"))
    audit.dialog("Sources: delete confirmation", page.locator(".delete-source").first)

    open_section(page, "Contacts")
    expect(page.locator(".contact-row")).to_have_count(1)
    audit.check("Contacts")
    audit.dialog("Contacts: add", page.locator("#add-contact"))
    audit.dialog("Contacts: edit", page.locator(".edit-contact"))
    audit.dialog("Contacts: delete confirmation", page.locator(".delete-contact"))
    show = page.locator(".show-contact")
    show.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#contact-detail")).to_be_visible()
    audit.check("Contacts: a contact open", TOP_DIALOG)
    audit.dialog("Contacts: erase confirmation", page.locator("#erase-contact-data"))
    page.keyboard.press("Escape")
    expect(page.locator("#contact-detail")).to_have_count(0)
    audit.focus_returned("Contacts: a contact open", show)


def _bot_setup_pages(audit: Audit) -> None:
    page = audit.page
    open_section(page, "Actions")
    expect(page.locator(".action-row")).to_have_count(len(ACTION_KINDS))
    audit.check("Actions")
    for row in page.locator(".action-row").all():
        kind = row.locator("td").first.inner_text().splitlines()[-1]
        audit.dialog(f"Actions: editor ({kind})", row.locator(".action-edit"))
    audit.dialog("Actions: new from a template", page.locator("#add-action-link"))
    audit.dialog("Actions: delete confirmation", page.locator(".action-delete").first)

    open_section(page, "Connect")
    audit.check("Connect")
    audit.dialog("Connect: regenerate key", page.locator("#regenerate-key"))

    open_section(page, "Settings")
    settings_tabs = [
        ("bot", "Bot"),
        ("appearance", "Appearance"),
        ("routing", "Audiences & routing"),
        ("workspace", "Workspace"),
        ("account", "Account"),
    ]
    _tabs(audit, "Settings", settings_tabs)


def test_every_page_tab_and_dialog_passes_axe(page, app_server):
    label = _workspace_with_data(app_server)
    audit = Audit(page)
    page.goto("/login")
    expect(page.locator("#login-submit")).to_be_visible()
    audit.check("Login")
    log_in(page, f"owner-{label}@example.com")
    _workspace_pages(audit)
    _conversation_pages(audit)
    _sources_and_contacts(audit)
    _bot_setup_pages(audit)
    print("\n" + audit.report())
    problems = audit.failures()
    assert not problems, "\n".join(problems)


@pytest.mark.first_run
def test_the_setup_page_passes_axe(page, app_server):
    """/setup shows only while the installation has no account (a first_run test runs first)."""
    page.goto("/setup")
    expect(page.locator("#setup-submit")).to_be_visible()
    audit = Audit(page)
    audit.check("Setup")
    print("\n" + audit.report())
    assert not audit.failures(), "\n".join(audit.failures())


# --- Sources by keyboard only -------------------------------------------------------------------


def tab_to(page: Page, selector: str, *, backwards: bool = False, presses: int = 80) -> None:
    """Press Tab (Shift+Tab backwards) until the focused element matches `selector`."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(presses):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with {key} ({presses} presses)")


def _row_of(page: Page, title: str) -> str:
    """The CSS id selector of the Sources row whose title is `title`."""
    row = page.locator(".source-row", has=page.locator(".source-title", has_text=title))
    expect(row.locator(".source-status")).to_have_text("Ready", timeout=TRAINED_WITHIN_MS)
    return "#" + row.get_attribute("id")


def test_sources_by_keyboard_only(page, app_server):
    label, _ = new_tenant(app_server)
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Sources")
    keys = page.keyboard

    # Pasted text: the tab list is one stop, the arrows choose a tab.
    tab_to(page, "#tab-files")
    keys.press("ArrowRight")
    expect(page.locator("#tab-text")).to_be_focused()
    tab_to(page, "#text-title")
    keys.type("Parking")
    tab_to(page, "#text-body")
    keys.type("Free parking is available behind the Lyon shop.")
    tab_to(page, "#add-text")
    keys.press("Enter")
    parking = _row_of(page, "Parking")

    # A Q&A pair, sent with Space.
    tab_to(page, "#tab-text", backwards=True)
    keys.press("ArrowRight")
    expect(page.locator("#tab-qa")).to_be_focused()
    tab_to(page, "#qa-question")
    keys.type("Do you ship to Canada?")
    tab_to(page, "#qa-answer")
    keys.type("Yes, in 5 to 8 days.")
    tab_to(page, "#add-qa")
    keys.press("Space")
    canada = _row_of(page, "ship to Canada")

    # The pair's details open, then close with Escape: focus is back on the button.
    tab_to(page, f"{canada} .edit-source")
    keys.press("Enter")
    expect(page.locator("#edit-answer")).to_have_value("Yes, in 5 to 8 days.")
    keys.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(f"{canada} .edit-source")).to_be_focused()

    # Delete asks first: Escape keeps the row and focus; Tab, Enter on Delete removes it and
    # focus moves to the page rather than being lost with the row.
    delete = page.locator(f"{parking} .delete-source")
    tab_to(page, f"{parking} .delete-source", backwards=True)
    keys.press("Enter")
    expect(page.get_by_role("alertdialog")).to_contain_text("Delete Parking?")
    keys.press("Escape")
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    expect(delete).to_be_focused()
    keys.press("Enter")
    tab_to(page, "#confirm-delete")
    keys.press("Enter")
    expect(page.locator(parking)).to_have_count(0)
    expect(page.locator("main:focus, h1:focus")).to_have_count(1)
    expect(page.locator(canada)).to_have_count(1)
