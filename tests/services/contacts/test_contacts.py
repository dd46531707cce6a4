"""Contacts: validation, duplicates, roles, search and paging, linked conversations, the CSV
export and its formula guard, and isolation between workspaces (widget visitors:
test_contact_visitors.py).

Runs on SQLite and PostgreSQL; conversations are made through the chat's own services.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from chatapp.core.errors import NotFound, PermissionDenied
from chatapp.services.bots import bots
from chatapp.services.contacts import contacts
from chatapp.services.contacts import export as contact_export
from chatapp.services.contacts import search as contact_search
from chatapp.services.contacts.contacts import ContactInput, ContactInvalid
from chatapp.services.contacts.search import linked_conversations, list_contacts
from chatapp.services.models import BotCreate, Contact, Conversation, Message, Role
from tests.utils.contact_helpers import add, chat
from tests.utils.factories import make_tenant


@pytest.fixture
def tenant(session):
    return make_tenant(session, "a")


def link(session, conversation, contact):
    conversation.contact_id = contact.id
    session.add(conversation)
    session.flush()


def parse_csv(text):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# ----------------------------------------------------------------------------- validation


def test_create_trims_and_lowercases_the_email(session, tenant):
    contact = add(session, tenant, name="  Ada Lovelace ", email=" Ada@Example.COM ", phone="")
    assert (contact.name, contact.email) == ("Ada Lovelace", "ada@example.com")
    assert contact.workspace_id == tenant.workspace.id and contact.bot_id == tenant.bot.id
    assert contact.created_at == contact.last_seen_at


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"name": "Ada", "email": "ada@"}, "email", "valid email"),
        ({"name": "Ada", "email": "ada example.com"}, "email", "valid email"),
        ({"name": "Ada", "phone": "call me maybe"}, "phone", "digits"),
        ({"name": "Ada", "phone": "+1 23"}, "phone", "5 to 20 digits"),
        ({"name": "Ada", "phone": "1" * 41}, "phone", "digits"),
        ({"name": "x" * 121}, "name", "under 121"),
        ({"name": "Ada\x00"}, "name", "cannot be shown"),
        ({"name": "Ada", "external_id": "i" * 121}, "external_id", "under 121"),
        ({"name": "   ", "email": "", "phone": " "}, "name", "at least a name"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(session, tenant, values, field, words):
    with pytest.raises(ContactInvalid) as error:
        add(session, tenant, **values)
    assert list(error.value.errors) == [field]
    assert words in error.value.errors[field]
    assert session.exec(select(Contact)).all() == []


def test_every_bad_field_is_reported_at_once(session, tenant):
    with pytest.raises(ContactInvalid) as error:
        add(session, tenant, name="Ada", email="nope", phone="abc")
    assert set(error.value.errors) == {"email", "phone"}


def test_phone_accepts_the_usual_punctuation(session, tenant):
    contact = add(session, tenant, phone="+1 (555) 123-4567")
    assert contact.phone == "+1 (555) 123-4567"


def test_a_duplicate_email_or_id_is_refused_naming_the_holder(session, tenant):
    add(session, tenant, name="Ada", email="ada@example.com", external_id="u-1")
    with pytest.raises(ContactInvalid) as error:
        add(session, tenant, name="Other", email="ADA@example.com", external_id="u-1")
    assert error.value.errors == {
        "email": "Another contact already has this email: Ada.",
        "external_id": "Another contact already has this ID: Ada.",
    }
    assert len(session.exec(select(Contact)).all()) == 1


def test_update_changes_fields_and_keeps_first_and_last_seen(session, tenant):
    contact = add(session, tenant, name="Ada", email="ada@example.com")
    first, last = contact.created_at, contact.last_seen_at
    changed = contacts.update_contact(
        session,
        tenant.agent,
        contact.id,
        ContactInput(name="Ada King", email="ada@example.com", phone="+44 20 7946 0000"),
    )
    assert (changed.name, changed.phone) == ("Ada King", "+44 20 7946 0000")
    assert (changed.created_at, changed.last_seen_at) == (first, last)


def test_update_refuses_another_contacts_email_and_bad_values(session, tenant):
    add(session, tenant, name="Ada", email="ada@example.com")
    bob = add(session, tenant, name="Bob", email="bob@example.com")
    with pytest.raises(ContactInvalid) as error:
        contacts.update_contact(
            session, tenant.owner, bob.id, ContactInput(name="Bob", email="ada@example.com")
        )
    assert "email" in error.value.errors
    with pytest.raises(ContactInvalid):
        contacts.update_contact(session, tenant.owner, bob.id, ContactInput(email="bad"))
    session.refresh(bob)
    assert bob.email == "bob@example.com"


# ----------------------------------------------------------------------------------- roles


def test_viewers_read_but_cannot_add_change_or_delete(session, tenant):
    contact = add(session, tenant, name="Ada")
    viewer = tenant.viewer
    assert contacts.get_contact(session, viewer, contact.id).name == "Ada"
    assert list_contacts(session, viewer, bot_id=None).total == 1
    with pytest.raises(PermissionDenied, match="viewer"):
        contacts.create_contact(session, viewer, ContactInput(name="X"), bot_id=tenant.bot.id)
    with pytest.raises(PermissionDenied):
        contacts.update_contact(session, viewer, contact.id, ContactInput(name="X"))
    with pytest.raises(PermissionDenied, match="delete contacts"):
        contacts.delete_contact(session, viewer, contact.id)
    session.refresh(contact)
    assert contact.name == "Ada"


def test_agents_add_and_edit_but_only_managers_delete(session, tenant):
    made = contacts.create_contact(
        session, tenant.agent, ContactInput(name="Ada"), bot_id=tenant.bot.id
    )
    contacts.update_contact(session, tenant.agent, made.id, ContactInput(name="Ada K"))
    with pytest.raises(PermissionDenied, match=r"\(agent\) is not allowed to delete contacts"):
        contacts.delete_contact(session, tenant.agent, made.id)
    contacts.delete_contact(session, tenant.admin, made.id)
    other = add(session, tenant, name="Bob")
    contacts.delete_contact(session, tenant.owner, other.id)
    assert session.exec(select(Contact)).all() == []


def test_deleting_a_contact_keeps_its_conversations_unlinked(session, tenant):
    contact = add(session, tenant, name="Ada")
    conversation = chat(session, tenant.bot, "visitor-0001", "Hello?")
    link(session, conversation, contact)
    contacts.delete_contact(session, tenant.owner, contact.id)
    session.expire_all()
    kept = session.get(Conversation, conversation.id)
    assert kept is not None and kept.contact_id is None
    assert len(session.exec(select(Message).where(Message.conversation_id == kept.id)).all()) == 1


# ---------------------------------------------------------------------- search and paging


def test_the_default_filter_is_the_bot_and_none_means_every_bot(session, tenant):
    second = bots.create_bot(session, tenant.owner, BotCreate(name="Second"))
    add(session, tenant, name="From first")
    add(session, tenant, bot=second, name="From second")
    first_page = list_contacts(session, tenant.owner, bot_id=tenant.bot.id)
    assert [r.name for r in first_page.rows] == ["From first"]
    assert first_page.rows[0].bot_name == tenant.bot.name
    every = list_contacts(session, tenant.owner, bot_id=None)
    assert {(r.name, r.bot_name) for r in every.rows} == {
        ("From first", tenant.bot.name),
        ("From second", "Second"),
    }


def test_contacts_outlive_their_source_bot(session, tenant):
    second = bots.create_bot(session, tenant.owner, BotCreate(name="Second"))
    add(session, tenant, bot=second, name="Met by the second bot")
    bots.delete_bot(session, tenant.owner, second.id)
    session.flush()
    session.expire_all()
    [row] = list_contacts(session, tenant.owner, bot_id=None).rows
    assert (row.name, row.bot_id, row.bot_name) == ("Met by the second bot", None, "")
    assert list_contacts(session, tenant.owner, bot_id=tenant.bot.id).total == 0


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("lovelace", {"Ada Lovelace"}),
        ("BABBAGE.ORG", {"Charles"}),
        ("555 123", {"Ada Lovelace"}),
        ("5551234567", {"Ada Lovelace"}),
        ("(555)", {"Ada Lovelace"}),
        ("CRM-42", {"Grace"}),
        ("example", {"Ada Lovelace", "Grace"}),
        ("%", set()),
        ("_", {"Grace"}),
        ("nobody", set()),
        ("", {"Ada Lovelace", "Charles", "Grace"}),
    ],
)
def test_search_covers_name_email_phone_and_id(session, tenant, term, expected):
    add(session, tenant, name="Ada Lovelace", email="ada@example.com", phone="+1 (555) 123-4567")
    add(session, tenant, name="Charles", email="charles@babbage.org")
    add(session, tenant, name="Grace", email="grace_h@example.com", external_id="crm-42")
    found = list_contacts(session, tenant.owner, bot_id=tenant.bot.id, search=term)
    assert {row.name for row in found.rows} == expected
    assert found.total == len(expected)


def test_pages_hold_per_page_rows_newest_seen_first(session, tenant):
    made = [add(session, tenant, name=f"Person {n:02}") for n in range(60)]
    base = made[0].last_seen_at
    for n, contact in enumerate(made):  # Person 59 was seen last
        contact.last_seen_at = base + timedelta(minutes=n)
        session.add(contact)
    session.flush()
    first = list_contacts(session, tenant.owner, bot_id=tenant.bot.id, page=1, per_page=25)
    third = list_contacts(session, tenant.owner, bot_id=tenant.bot.id, page=3, per_page=25)
    assert (first.total, first.pages, len(first.rows), len(third.rows)) == (60, 3, 25, 10)
    assert first.rows[0].name == "Person 59" and third.rows[-1].name == "Person 00"
    seen = [
        r.name
        for p in (1, 2, 3)
        for r in list_contacts(
            session, tenant.owner, bot_id=tenant.bot.id, page=p, per_page=25
        ).rows
    ]
    assert len(set(seen)) == 60
    past_the_end = list_contacts(session, tenant.owner, bot_id=tenant.bot.id, page=99)
    assert past_the_end.page == 3 and past_the_end.rows == third.rows
    empty = list_contacts(session, tenant.owner, bot_id=tenant.bot.id, search="zzz", page=2)
    assert (empty.page, empty.pages, empty.rows) == (1, 1, [])


# --------------------------------------------------------------------- linked conversations


def test_a_contacts_conversations_with_their_first_question(session, tenant):
    ada = add(session, tenant, name="Ada")
    bob = add(session, tenant, name="Bob")
    older = chat(session, tenant.bot, "visitor-0001", "Do you ship to Norway?", "And Sweden?")
    newer = chat(session, tenant.bot, "visitor-0002", "  Where is\n my order " + "x" * 200)
    theirs = chat(session, tenant.bot, "visitor-0003", "Bob's question")
    empty = chat(session, tenant.bot, "visitor-0004", channel="playground")
    for conversation in (older, newer, empty):
        link(session, conversation, ada)
    link(session, theirs, bob)
    older.last_message_at = newer.last_message_at - timedelta(hours=1)
    empty.last_message_at = newer.last_message_at - timedelta(hours=2)
    session.add_all([older, empty])
    session.flush()

    found = linked_conversations(session, tenant.viewer, ada.id)
    assert [c.id for c in found] == [newer.id, older.id, empty.id]
    assert found[0].preview.startswith("Where is my order xxx") and found[0].preview[-1] == "\u2026"
    assert len(found[0].preview) == contact_search.PREVIEW_CHARS
    assert (found[1].preview, found[1].message_count, found[1].channel) == (
        "Do you ship to Norway?",
        2,
        "widget",
    )
    assert (found[2].preview, found[2].channel, found[2].bot_name) == (
        "",
        "playground",
        tenant.bot.name,
    )
    row = contact_search.contact_row(session, tenant.viewer, ada.id)
    assert row.conversations == 3
    assert {r.name: r.conversations for r in list_contacts(session, tenant.owner).rows} == {
        "Ada": 3,
        "Bob": 1,
    }


# ---------------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("Ada = genius", "Ada = genius"),
        ("", ""),
    ],
)
def test_safe_cell(value, expected):
    assert contact_export.safe_cell(value) == expected


def test_csv_has_every_matching_contact_and_no_formulas(session, tenant):
    add(session, tenant, name='=HYPERLINK("http://evil.example","x")', email="eve@example.com")
    add(session, tenant, name="Ada, Countess", email="ada@example.com", phone="+44 20 7946 0000")
    add(session, tenant, name="@risk", external_id="-5")
    for n in range(30):
        add(session, tenant, name=f"Person {n}")
    second = bots.create_bot(session, tenant.owner, BotCreate(name="=Second"))
    add(session, tenant, bot=second, name="Elsewhere")

    table = parse_csv(contact_export.export_csv(session, tenant.viewer, bot_id=tenant.bot.id))
    assert table[0] == contact_export.HEADER
    body = table[1:]
    assert len(body) == 33  # all pages, this bot only
    by_name = {row[0]: row for row in body}
    assert '\'=HYPERLINK("http://evil.example","x")' in by_name
    ada = by_name["Ada, Countess"]
    assert ada[1:5] == ["ada@example.com", "'+44 20 7946 0000", "", tenant.bot.name]
    assert len(ada[5]) == len("2026-01-01 10:00") and ada[7] == "0"
    assert by_name["'@risk"][3] == "'-5"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)

    everything = parse_csv(contact_export.export_csv(session, tenant.owner, bot_id=None))
    assert ["Elsewhere", "'=Second"] in [[r[0], r[4]] for r in everything]
    searched = parse_csv(
        contact_export.export_csv(session, tenant.owner, bot_id=None, search="countess")
    )
    assert [r[0] for r in searched[1:]] == ["Ada, Countess"]


# ------------------------------------------------------------------------------- isolation


@pytest.fixture
def two_tenants(session):
    a = make_tenant(session, "a")
    b = make_tenant(session, "b")
    theirs = add(session, b, name="B's customer", email="shared@example.com")
    conversation = chat(session, b.bot, "visitor-b001", "B's secret question")
    link(session, conversation, theirs)
    return a, b, theirs


CROSS_TENANT_CALLS = [
    ("get", lambda s, a, c: contacts.get_contact(s, a, c.id)),
    ("row", lambda s, a, c: contact_search.contact_row(s, a, c.id)),
    ("conversations", lambda s, a, c: linked_conversations(s, a, c.id)),
    ("update", lambda s, a, c: contacts.update_contact(s, a, c.id, ContactInput(name="pwned"))),
    ("delete", lambda s, a, c: contacts.delete_contact(s, a, c.id)),
    (
        "create on B's bot",
        lambda s, a, c: contacts.create_contact(s, a, ContactInput(name="x"), bot_id=c.bot_id),
    ),
]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(
    ("what", "call"), CROSS_TENANT_CALLS, ids=[c[0] for c in CROSS_TENANT_CALLS]
)
def test_a_member_of_a_cannot_touch_bs_contacts(session, two_tenants, role, what, call):
    a, b, theirs = two_tenants
    with pytest.raises((NotFound, PermissionDenied)):
        call(session, a.actor(role), theirs)
    session.expire_all()
    kept = session.get(Contact, theirs.id)
    assert (kept.name, kept.workspace_id) == ("B's customer", b.workspace.id), what
    assert len(linked_conversations(session, b.owner, theirs.id)) == 1


@pytest.mark.parametrize("role", list(Role))
def test_listing_and_export_show_only_the_own_workspace(session, two_tenants, role):
    a, b, _ = two_tenants
    add(session, a, name="A's customer")
    actor = a.actor(role)
    assert [r.name for r in list_contacts(session, actor, bot_id=None).rows] == ["A's customer"]
    assert list_contacts(session, actor, bot_id=b.bot.id).total == 0
    exported = contact_export.export_csv(session, actor, bot_id=None)
    assert "A's customer" in exported and "B's" not in exported and "shared@" not in exported


def test_the_same_email_may_exist_in_two_workspaces(session, two_tenants):
    a, _b, theirs = two_tenants
    mine = add(session, a, name="Mine", email="shared@example.com")
    assert mine.id != theirs.id
    conversation = chat(session, a.bot, "visitor-a001", "Hi")
    linked = contacts.link_visitor(session, a.bot, conversation, {"email": "shared@example.com"})
    assert linked.id == mine.id and linked.workspace_id == a.workspace.id
