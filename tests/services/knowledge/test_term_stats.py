"""Answerability's per-bot term counts: exact and current for a bot of ordinary size; sampled for
a big one, whose recount after a change runs in a thread while questions use the counts it had."""

from __future__ import annotations

import pytest

from chatapp.core.db import session_scope
from chatapp.services.knowledge import retrieval, sources, term_stats
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant


@pytest.fixture
def bot(database_url):
    with session_scope() as session:
        tenant = make_tenant(session, "a")
        for n in range(8):
            sources.add_text(
                session,
                tenant.owner,
                tenant.bot.id,
                title=f"Kettle {n}",
                text=f"The kettle model {n} boils water quickly.",
            )
    worker.run_until_idle()
    return tenant


def passages(tenant):
    with session_scope() as session:
        found = retrieval.retrieve(
            session, workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, query="kettle"
        )
    return found.passages


def add(tenant, text: str) -> None:
    with session_scope() as session:
        sources.add_text(session, tenant.owner, tenant.bot.id, title="More", text=text)
    worker.run_until_idle()


def term(word: str) -> str:
    (found,) = term_stats.content_terms(word)  # the form counts are kept under
    return found


def test_a_small_bot_is_counted_whole_and_again_when_it_changes(bot):
    counts = term_stats.BotTerms()
    stats = counts.for_passages(passages(bot))
    assert stats.docs == 8 and stats.df[term("kettle")] == 8
    assert term("descale") not in stats.df
    add(bot, "Descale the kettle with citric acid.")
    again = counts.for_passages(passages(bot))
    assert again.docs == 9 and again.df[term("descale")] == 1
    assert again.idf(term("descale")) > again.idf(term("kettle"))


def test_a_big_bot_is_sampled_and_recounted_off_the_question(bot, monkeypatch):
    monkeypatch.setattr(term_stats, "EXACT_CHUNKS", 4)
    counts = term_stats.BotTerms()
    stats = counts.for_passages(passages(bot))
    assert stats.docs == 8 and stats.df[term("kettle")] == 8  # 4 sampled, scaled to the bot
    add(bot, "Descale the kettle with citric acid.")
    stale = counts.for_passages(passages(bot))
    assert stale is stats  # answered at once with the counts the bot had
    counts.wait_for_recounts()
    fresh = counts.for_passages(passages(bot))
    assert fresh is not stats and fresh.docs == 9
