"""A bot's training in one word for lists of bots: training, ready or failed."""

import pytest

from chatapp.core.db import session_scope
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.training_state import training_states
from chatapp.services.models import BotCreate
from chatapp.workers import ingest as worker
from tests.services.knowledge.ingest import files
from tests.utils.factories import make_tenant


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def test_each_bot_gets_one_word_for_its_sources(tenant):
    owner = tenant.owner
    with session_scope() as session:
        made = {
            name: bots.create_bot(session, owner, BotCreate(name=name)).id
            for name in ("trained", "failed", "mixed")
        }
        sources.add_text(session, owner, made["trained"], title="Hours", text="We open at 9.")
        sources.add_file(session, owner, made["failed"], filename="a.pdf", data=files.blank_pdf())
        sources.add_text(session, owner, made["mixed"], title="Hours", text="We open at 9.")
        sources.add_file(session, owner, made["mixed"], filename="b.pdf", data=files.blank_pdf())
    ids = [tenant.bot.id, *made.values()]
    with session_scope() as session:
        queued = training_states(session, tenant.viewer, ids)
    assert queued == {tenant.bot.id: "ready", **dict.fromkeys(made.values(), "training")}
    worker.run_until_idle()
    with session_scope() as session:
        done = training_states(session, tenant.viewer, ids)
        assert training_states(session, tenant.viewer, []) == {}
    assert done == {
        tenant.bot.id: "ready",  # no sources: nothing to wait for
        made["trained"]: "ready",
        made["failed"]: "failed",
        made["mixed"]: "ready",  # one failed, but the bot answers from the other
    }


def test_another_workspaces_sources_do_not_count(database_url):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        sources.add_text(session, b.owner, b.bot.id, title="Hours", text="We open at 9.")
    with session_scope() as session:
        assert training_states(session, a.owner, [b.bot.id]) == {b.bot.id: "ready"}
        assert training_states(session, b.owner, [b.bot.id]) == {b.bot.id: "training"}
