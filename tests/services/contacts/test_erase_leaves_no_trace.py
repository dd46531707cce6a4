"""After an erasure, nothing points at or holds the erased person: a later contact never gets
their id (so the audit log's `contact.erase` entry keeps naming the erased one), and on SQLite
neither the database file nor its WAL still holds their text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.accounts import audit
from chatapp.services.chat import conversations
from chatapp.services.contacts import personal_data
from chatapp.services.contacts.contacts import ContactInput, create_contact
from chatapp.services.models import AuditEntry
from tests.utils.factories import make_tenant

SECRET_NAME = "Zanzibar Quokka"
SECRET_MAIL = "quokka7731@example.com"
SECRET_TEXT = "my passport number is QX-7731-ZANZIBAR"


def _newest_contact_and_erase(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        older = create_contact(
            session, tenant.owner, ContactInput(name="Ann"), bot_id=tenant.bot.id
        )
        person = create_contact(
            session,
            tenant.owner,
            ContactInput(name=SECRET_NAME, email=SECRET_MAIL),
            bot_id=tenant.bot.id,
        )
        person.notes = f"Said: {SECRET_TEXT}"
        chat = conversations.find_or_create(session, tenant.bot, "quokka-visitor-1", "widget")
        conversations.add_user_message(session, chat, SECRET_TEXT, "q-1")
        chat.contact_id = person.id
        session.add_all([person, chat])
        erased_id, older_id, owner = person.id, older.id, tenant.owner
    return erased_id, older_id, owner


def test_an_erased_contacts_id_is_never_given_to_the_next_lead(database_url):
    erased_id, older_id, owner = _newest_contact_and_erase(database_url)
    with session_scope() as session:
        personal_data.erase_contact(session, owner, erased_id)
    with session_scope() as session:
        newcomer = create_contact(
            session, owner, ContactInput(name="Next lead", email="next@example.com"), bot_id=None
        )
        assert newcomer.id not in (erased_id, older_id)
        assert newcomer.id > erased_id
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "contact.erase")).one()
        assert entry.target_id == str(erased_id)
        page = audit.list_entries(session, owner)
        assert any(e.target_id == str(erased_id) for e in page.entries)


def test_the_erased_text_is_in_neither_the_sqlite_file_nor_its_wal(sqlite_url):
    erased_id, _older, owner = _newest_contact_and_erase(sqlite_url)
    database = Path(make_url(sqlite_url).database)
    with get_engine().connect() as connection:  # the person's rows reach the main file too
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert SECRET_TEXT.encode() in database.read_bytes()  # the test looks in the right place

    with session_scope() as session:
        personal_data.erase_contact(session, owner, erased_id)

    wal = database.with_name(database.name + "-wal")
    for path in (database, wal):
        content = path.read_bytes() if path.exists() else b""
        for secret in (SECRET_NAME, SECRET_MAIL, SECRET_TEXT, "QX-7731"):
            assert secret.encode() not in content, f"{secret!r} still in {path.name}"
