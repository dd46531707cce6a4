"""A bot handled as a whole (bot_text.py): found by public id only in the actor's workspace,
made from a name and a text, retrained by making a new text its only pasted text."""

import pytest
from sqlmodel import select

from chatapp.core.db import session_scope
from chatapp.core.errors import FieldInvalid, NotFound
from chatapp.services.bots import bot_text
from chatapp.services.knowledge import sources
from chatapp.services.models import Bot, Source
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant


@pytest.fixture
def tenants(database_url):
    with session_scope() as session:
        return make_tenant(session, "a"), make_tenant(session, "b")


def _texts(bot_id: int) -> list[Source]:
    with session_scope() as session:
        rows = session.exec(select(Source).where(Source.bot_id == bot_id).order_by(Source.id))
        return list(rows)


def test_a_bot_is_found_by_public_id_in_the_actors_workspace_only(tenants):
    a, b = tenants
    with session_scope() as session:
        assert bot_text.bot_by_public_id(session, a.viewer, a.bot.public_id).id == a.bot.id
        for wrong in (b.bot.public_id, "", "bot_" + "x" * 40, str(a.bot.id)):
            with pytest.raises(NotFound):
                bot_text.bot_by_public_id(session, a.owner, wrong)


def test_a_bot_made_from_a_text_learns_it(tenants):
    a, _ = tenants
    with session_scope() as session:
        bot = bot_text.create_with_text(
            session, a.admin, name="Support", text="Opening hours\n\nWe open at 9am."
        )
        empty = bot_text.create_with_text(session, a.admin, name="Empty", text=None)
        bot_id, empty_id = bot.id, empty.id
    assert [(s.kind, s.title, s.status) for s in _texts(bot_id)] == [
        ("text", bot_text.TEXT_TITLE, "queued")
    ]
    assert _texts(empty_id) == []
    with session_scope() as session, pytest.raises(FieldInvalid):  # the bot's own name rules
        bot_text.create_with_text(session, a.admin, name="", text=None)


def test_a_new_text_replaces_the_pasted_texts_and_keeps_the_rest(tenants):
    a, _ = tenants
    with session_scope() as session:
        first = sources.add_text(session, a.owner, a.bot.id, title="Old", text="Old hours.")
        sources.add_text(session, a.owner, a.bot.id, title="Older", text="Older prices.")
        qa = sources.add_qa(session, a.owner, a.bot.id, question="Parking?", answer="Yes.")
        first_id, qa_id = first.id, qa.id
    worker.run_until_idle()
    with session_scope() as session:
        bot_text.replace_text(
            session, a.admin, a.bot.public_id, name="Renamed", text="New hours: 10am."
        )
    left = _texts(a.bot.id)
    assert [s.id for s in left] == [first_id, qa_id]  # the first text edited in place
    assert left[0].meta["text"] == "New hours: 10am." and left[0].status == "queued"
    with session_scope() as session:
        assert session.get(Bot, a.bot.id).name == "Renamed"
        bot_text.replace_text(session, a.admin, a.bot.public_id, name="Renamed", text=None)
    assert [s.id for s in _texts(a.bot.id)] == [first_id, qa_id]  # no text: sources kept


def test_another_workspace_cannot_retrain_a_bot(tenants):
    a, b = tenants
    with session_scope() as session, pytest.raises(NotFound):
        bot_text.replace_text(session, a.owner, b.bot.public_id, name="pwned", text="pwned")
    with session_scope() as session:
        assert session.get(Bot, b.bot.id).name == "Bot b"
    assert _texts(b.bot.id) == []
