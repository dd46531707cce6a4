"""A bot's contacts by the day they were created (created.py): whole UTC days, newest first,
pages that run out, only the bot's and the workspace's own."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chatapp.core.db import session_scope
from chatapp.core.errors import NotFound, ValidationFailed
from chatapp.services.bots import bots
from chatapp.services.contacts import contacts
from chatapp.services.contacts.created import contacts_created
from chatapp.services.models import BotCreate, Contact
from tests.utils.factories import make_tenant


def _contact(session, tenant, name: str, bot_id: int, created: datetime) -> int:
    row = contacts.create_contact(
        session, tenant.owner, contacts.ContactInput(name=name), bot_id=bot_id
    )
    stored = session.get(Contact, row.id)
    stored.created_at = created  # the day it was made, moved into the past
    session.add(stored)
    session.flush()
    return row.id


@pytest.fixture
def world(database_url):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        other_bot = bots.create_bot(session, a.owner, BotCreate(name="Other")).id
        ids = {
            name: _contact(session, a, name, a.bot.id, when)
            for name, when in (
                ("first", datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
                ("second", datetime(2026, 3, 3, 23, 59, tzinfo=UTC)),
                ("third", datetime(2026, 3, 5, 12, 0, tzinfo=UTC)),
            )
        }
        _contact(session, a, "other bot's", other_bot, datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
        _contact(session, b, "b's", b.bot.id, datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    return a, b, ids


def _names(actor, bot_id, **kwargs) -> list[str]:
    with session_scope() as session:
        return [row.name for row in contacts_created(session, actor, bot_id=bot_id, **kwargs).rows]


def test_days_are_whole_and_included(world):
    a, _, _ = world
    assert _names(a.viewer, a.bot.id) == ["third", "second", "first"]
    assert _names(a.viewer, a.bot.id, since=date(2026, 3, 1), until=date(2026, 3, 3)) == [
        "second",
        "first",
    ]
    assert _names(a.viewer, a.bot.id, since=date(2026, 3, 2), until=date(2026, 3, 2)) == []
    assert _names(a.viewer, a.bot.id, since=date(2026, 3, 4)) == ["third"]
    with session_scope() as session, pytest.raises(ValidationFailed):
        contacts_created(
            session, a.owner, bot_id=a.bot.id, since=date(2026, 3, 5), until=date(2026, 3, 1)
        )


def test_pages_run_out_and_count_the_whole_selection(world):
    a, _, _ = world
    with session_scope() as session:
        pages = [
            contacts_created(session, a.owner, bot_id=a.bot.id, page=n, per_page=2)
            for n in (1, 2, 3)
        ]
    assert [[row.name for row in p.rows] for p in pages] == [["third", "second"], ["first"], []]
    assert {p.total for p in pages} == {3}
    assert pages[0].rows[0].first_seen.date() == date(2026, 3, 5)


def test_another_workspaces_bot_is_not_found(world):
    a, b, _ = world
    with session_scope() as session, pytest.raises(NotFound):
        contacts_created(session, a.owner, bot_id=b.bot.id)
