"""The Contacts section in a real browser against the production build: the form's field errors,
add, search, edit, a conversation linked through the services, CSV export, delete, what each role
sees, paging, another workspace's contacts, and a phone-sized screen.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.bots import bots
from chatapp.services.chat import conversations
from chatapp.services.contacts import contacts
from chatapp.services.contacts.contacts import ContactInput
from chatapp.services.models import Bot, BotCreate, Contact, Conversation
from tests.e2e.dashboard_helpers import log_in, log_out, new_tenant, open_section, screenshot

pytestmark = pytest.mark.e2e


def _session(app_server):
    return session_scope(get_engine(app_server.database_url))


def add_contacts(app_server, tenant, *people: str | ContactInput) -> None:
    """Contacts added through the services, as a name or a whole ContactInput."""
    with _session(app_server) as session:
        for person in people:
            data = person if isinstance(person, ContactInput) else ContactInput(name=person)
            contacts.create_contact(session, tenant.owner, data, bot_id=tenant.bot.id)


def visitor_chat(app_server, tenant, session_id: str, question: str, visitor: dict) -> int:
    """What the widget does: a visitor's message, then the identified visitor linked."""
    with _session(app_server) as session:
        bot = session.get(Bot, tenant.bot.id)
        conversation = conversations.find_or_create(session, bot, session_id, "widget")
        conversations.add_user_message(session, conversation, question, f"{session_id}-1")
        contacts.link_visitor(session, bot, conversation, visitor)
        return conversation.id


def row(page, text: str):
    return page.locator(".contact-row", has_text=text)


def search(page, text: str, rows: int) -> None:
    """Type into the search box and wait for the table to show `rows` rows (a busy machine may
    take a while to run the debounced search)."""
    page.fill("#contact-search", text)
    expect(page.locator("#contact-search")).to_have_value(text)
    expect(page.locator(".contact-row")).to_have_count(rows, timeout=15_000)


def downloaded_csv(page) -> list[list[str]]:
    with page.expect_download() as download:
        page.click("#export-contacts")
    path = download.value.path()
    assert download.value.suggested_filename == "contacts.csv"
    return list(csv.reader(io.StringIO(open(path, encoding="utf-8-sig").read())))


def test_add_search_edit_link_export_and_delete(page, app_server):
    label, tenant = new_tenant(app_server)
    add_contacts(app_server, tenant, "=2+3", "Charles Babbage")
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Contacts")
    expect(page.locator(".contact-row")).to_have_count(2)

    # An invalid email is refused next to its field; the dialog keeps what was typed.
    page.click("#add-contact")
    page.get_by_label("Name").fill("Ada Lovelace")  # labels are linked to their inputs
    page.get_by_label("Email").fill("ada@")
    page.get_by_label("Phone").fill("+1 555 123 4567")
    page.click("#contact-save")
    expect(page.locator("#contact-email-error")).to_have_text(re.compile("valid email"))
    expect(page.locator("#contact-phone-error")).to_have_count(0)
    expect(page.locator("#contact-name")).to_have_value("Ada Lovelace")

    # Fixed, it is saved and appears in the table.
    page.fill("#contact-email", "ada@example.com")
    page.click("#contact-save")
    expect(page.locator("#contact-save")).to_have_count(0)
    expect(row(page, "Ada Lovelace")).to_contain_text("ada@example.com")
    expect(page.locator("#contact-range")).to_have_text("1-3 of 3")

    # A duplicate email is refused, naming who has it.
    page.click("#add-contact")
    page.fill("#contact-name", "Ada again")
    page.fill("#contact-email", "ADA@example.com")
    page.click("#contact-save")
    expect(page.locator("#contact-email-error")).to_have_text(
        "Another contact already has this email: Ada Lovelace."
    )
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#contact-save")).to_have_count(0)

    # Search finds her by a piece of her email, and only her.
    search(page, "ADA@EXAMPLE", rows=1)
    expect(row(page, "Ada Lovelace")).to_be_visible()
    search(page, "555 123", rows=1)  # phones match digit by digit
    search(page, "", rows=3)

    # Edit: the form opens with her values.
    row(page, "Ada Lovelace").locator(".edit-contact").click()
    expect(page.locator("#contact-phone")).to_have_value("+1 555 123 4567")
    page.fill("#contact-name", "Ada King")
    page.click("#contact-save")
    expect(row(page, "Ada King")).to_be_visible()
    expect(row(page, "Ada Lovelace")).to_have_count(0)

    # A widget visitor who identifies with her email is linked to her; the detail lists the chat.
    conversation_id = visitor_chat(
        app_server,
        tenant,
        "visitor-ada-0001",
        "Do you ship to Norway?",
        {"name": "Ada", "email": "ada@example.com"},
    )
    page.reload()
    expect(row(page, "Ada King").locator(".contact-chats")).to_have_text("1")  # reloaded
    row(page, "Ada King").locator(".contact-name").click()
    detail = page.locator("#contact-detail")
    expect(detail).to_contain_text("ada@example.com")
    linked = detail.locator(".linked-conversation")
    expect(linked).to_have_count(1)
    expect(linked.locator(".conversation-preview")).to_have_text("Do you ship to Norway?")
    expect(linked).to_contain_text("widget")
    expect(linked).to_contain_text("1 message")
    detail.get_by_role("button", name="Close").click()
    expect(detail).to_have_count(0)

    # Export: every row, formulas defused.
    table = downloaded_csv(page)
    assert table[0][:3] == ["Name", "Email", "Phone"]
    by_name = {line[0]: line for line in table[1:]}
    assert set(by_name) == {"Ada King", "'=2+3", "Charles Babbage"}
    assert by_name["Ada King"][1:3] == ["ada@example.com", "'+1 555 123 4567"]
    assert by_name["Ada King"][7] == "1"

    # Delete after confirming; her conversation stays, unlinked.
    row(page, "Ada King").locator(".delete-contact").click()
    page.locator(".confirm-delete-contact").click()
    expect(row(page, "Ada King")).to_have_count(0)
    expect(page.locator("#contact-range")).to_have_text("1-2 of 2")
    with _session(app_server) as session:
        kept = session.get(Conversation, conversation_id)
        assert kept is not None and kept.contact_id is None
        left = session.exec(select(Contact.name).where(Contact.workspace_id == tenant.workspace.id))
        assert sorted(left) == ["=2+3", "Charles Babbage"]

    # More people, for the user guide's picture.
    add_contacts(
        app_server,
        tenant,
        ContactInput("Grace Hopper", "grace@example.com", "+1 202 555 0143", "crm-1042"),
        ContactInput("Alan Turing", "alan@example.org", "+44 161 496 0000"),
    )
    visitor_chat(
        app_server,
        tenant,
        "visitor-kj-0001",
        "What are your opening hours?",
        {"name": "Katherine Johnson", "email": "katherine@example.com"},
    )
    page.reload()
    expect(page.locator(".contact-row")).to_have_count(5)
    expect(row(page, "Katherine Johnson").locator(".contact-chats")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scroll
    for button in page.locator(".delete-contact").all():  # every row's actions in view
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280
    screenshot(page, "contacts")


def test_download_then_erase_a_contacts_data(page, app_server):
    label, tenant = new_tenant(app_server)
    add_contacts(app_server, tenant, "Bob Stays")
    chat_id = visitor_chat(
        app_server, tenant, "visitor-eve-0001", "Call me on 555 0100", {"name": "Eve Erased"}
    )
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Contacts")
    row(page, "Eve Erased").locator(".contact-name").click()
    detail = page.locator("#contact-detail")
    expect(detail.locator(".linked-conversation")).to_have_count(1)

    with page.expect_download() as download:
        page.click("#download-contact-data")
    assert re.fullmatch(r"contact-\d+-\d{8}\.json", download.value.suggested_filename)
    document = json.loads(Path(download.value.path()).read_text())
    assert document["contact"]["name"] == "Eve Erased"
    assert document["conversations"][0]["messages"][0]["content"] == "Call me on 555 0100"

    # The confirmation names the person and what goes; cancelling keeps everything.
    page.click("#erase-contact-data")
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Erase all data of Eve Erased?")
    expect(confirm).to_contain_text("their 1 linked conversations with every message")
    confirm.get_by_role("button", name="Cancel").click()
    page.click("#erase-contact-data")
    page.click("#confirm-erase-contact")
    expect(page.get_by_text("Erased the contact, 1 conversations and 1 messages.")).to_be_visible()
    expect(row(page, "Eve Erased")).to_have_count(0)
    expect(row(page, "Bob Stays")).to_have_count(1)
    with _session(app_server) as session:
        assert session.get(Conversation, chat_id) is None
        names = session.exec(
            select(Contact.name).where(Contact.workspace_id == tenant.workspace.id)
        )
        assert list(names) == ["Bob Stays"]


def test_roles_see_only_what_they_may_do_and_never_another_workspace(page, app_server):
    label, tenant = new_tenant(app_server)
    _, other = new_tenant(app_server)
    add_contacts(app_server, other, "Somebody Else's Customer")
    add_contacts(app_server, tenant, *[f"Person {n:02}" for n in range(30)])
    with _session(app_server) as session:
        second = bots.create_bot(session, tenant.owner, BotCreate(name="Second bot"))
        contacts.create_contact(
            session, tenant.owner, ContactInput(name="Met by the second bot"), bot_id=second.id
        )

    log_in(page, f"viewer-{label}@example.com")
    open_section(page, "Contacts")
    # The newest bot is chosen first: it met one person. Switch to the first bot.
    expect(page.locator("#contact-range")).to_have_text("1-1 of 1")
    page.click("#bot-switcher")
    page.get_by_role("option", name=f"Bot {label}").click()
    expect(page.locator("#contact-range")).to_have_text("1-25 of 30")
    expect(page.locator(".contact-row")).to_have_count(25)
    expect(page.locator("#add-contact")).to_have_count(0)
    expect(page.locator(".edit-contact")).to_have_count(0)
    expect(page.locator(".delete-contact")).to_have_count(0)
    page.click("#contacts-next")
    expect(page.locator("#contact-range")).to_have_text("26-30 of 30")
    expect(page.locator(".contact-row")).to_have_count(5)
    # A viewer reads a contact's detail and may export.
    page.locator(".contact-row .contact-name").first.click()
    expect(page.locator("#contact-detail")).to_contain_text("No conversations linked yet.")
    page.keyboard.press("Escape")
    assert len(downloaded_csv(page)) == 31

    # Every bot of this workspace, and still nothing of the other one.
    search(page, "second bot", rows=0)
    page.get_by_text("This bot:").click()  # the label toggles the switch
    expect(page.locator("#all-bots")).to_be_checked()
    expect(row(page, "Met by the second bot")).to_contain_text("Second bot")
    page.fill("#contact-search", "somebody")
    expect(page.locator("#no-contacts")).to_have_text("No contact matches your search.")

    log_out(page)
    log_in(page, f"agent-{label}@example.com")
    open_section(page, "Contacts")
    expect(page.locator("#add-contact")).to_be_visible()
    expect(page.locator(".edit-contact").first).to_be_visible()
    expect(page.locator(".delete-contact")).to_have_count(0)


def test_usable_on_a_phone(page, app_server):
    label, tenant = new_tenant(app_server)
    add_contacts(app_server, tenant, "Ada Lovelace")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, f"owner-{label}@example.com")
    open_section(page, "Contacts")
    expect(row(page, "Ada Lovelace")).to_be_visible()
    for control in ("#contact-search", "#add-contact", "#export-contacts"):
        box = page.locator(control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, control
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.click("#add-contact")
    page.fill("#contact-name", "Grace Hopper")
    page.fill("#contact-phone", "call me")
    page.click("#contact-save")
    error = page.locator("#contact-phone-error")
    expect(error).to_be_visible()
    box = error.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    page.fill("#contact-phone", "+1 555 987 6543")
    page.click("#contact-save")
    expect(row(page, "Grace Hopper")).to_be_visible()
    row(page, "Grace Hopper").locator(".delete-contact").click()
    page.locator(".confirm-delete-contact").click()
    expect(row(page, "Grace Hopper")).to_have_count(0)
