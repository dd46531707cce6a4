"""Keyword search by the database's full-text index: the words a question is searched by, the
budget that keeps a big bot's query cheap, and ranking inside one bot."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chatapp.core.db import session_scope
from chatapp.services.knowledge import lexical, sources
from chatapp.services.models import KnowledgeChunk
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant


def test_question_words_leave_out_stopwords_and_single_letters():
    assert lexical.query_terms("How do I return a kettle's lid, and what about the kettle?") == [
        "return",
        "kettle",
        "lid",
    ]


def test_the_rarest_words_are_kept_within_the_budget():
    counts = {"value": 5000.0, "timeout": 300.0, "socket": 2500.0, "default": 4000.0}
    assert lexical.within_budget(counts, budget=3000) == ["timeout", "socket"]
    assert lexical.within_budget({"value": 9000.0, "return": 8000.0}, budget=100) == ["return"]
    assert lexical.within_budget({}, budget=100) == []


@pytest.fixture
def two_bots(database_url):
    with session_scope() as session:
        a, b = make_tenant(session, "a"), make_tenant(session, "b")
        for n in range(12):
            sources.add_text(
                session,
                a.owner,
                a.bot.id,
                title=f"Kettle {n}",
                text=f"The kettle model {n} boils water in {n + 2} minutes.",
            )
        for tenant, body in ((a, "Descale any kettle with citric acid."), (b, "Descale, citric.")):
            sources.add_text(session, tenant.owner, tenant.bot.id, title="Descaling", text=body)
    worker.run_until_idle()
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.exec(text("ANALYZE knowledgechunk"))  # what autovacuum does: word statistics
    return a, b


def found(tenant, query: str) -> list[str]:
    with session_scope() as session:
        hits = lexical.search(
            session,
            workspace_id=tenant.workspace.id,
            bot_id=tenant.bot.id,
            query=query,
            limit=5,
        )
        return [session.get(KnowledgeChunk, chunk_id).text for chunk_id, _score in hits]


def test_a_common_word_past_the_budget_leaves_the_rare_one_to_decide(two_bots, monkeypatch):
    a, b = two_bots
    monkeypatch.setattr(lexical, "POSTINGS_BUDGET", 3)  # "kettle": 13 chunks, "citric": 2
    hits = found(a, "kettle citric acid")
    assert hits == ["Descale any kettle with citric acid."]  # only this bot's, by the rare words
    assert found(b, "kettle citric") == ["Descale, citric."]


def test_every_word_counts_when_the_bot_is_small(two_bots):
    a, _ = two_bots
    hits = found(a, "kettle boils minutes")
    assert len(hits) == 5 and all("boils water" in text for text in hits)
