"""The embedded default's index: vectors stored with their chunks, searched per process.

A second `EmbeddedIndex` on the same database stands for another process: it must see every
change the ingesting process commits before its next search, read again only what changed, and
never return a chunk of another tenant or of a source whose ingestion did not finish.
"""

from __future__ import annotations

import numpy as np
from sqlmodel import func, select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.knowledge import lexical, sources
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.codec import decode_many, encode
from chatapp.services.knowledge.index.embedded import EmbeddedIndex
from chatapp.services.models import Bot, KnowledgeChunk, Source
from chatapp.workers import ingest as worker
from tests.utils.knowledge import make_shop


def other_process(database_url) -> EmbeddedIndex:
    return EmbeddedIndex(get_engine(database_url), dim=get_embedder().dim)


def texts(index: EmbeddedIndex, shop, question: str, limit: int = 10) -> list[str]:
    bot = shop.tenant.bot
    hits = index.search(
        workspace_id=bot.workspace_id,
        bot_id=bot.id,
        vector=get_embedder().embed_query(question),
        limit=limit,
    )
    with session_scope() as session:
        rows = {
            c.id: c.text
            for c in session.exec(
                select(KnowledgeChunk).where(KnowledgeChunk.bot_id == bot.id)
            ).all()
        }
    return [rows[hit.chunk_id] for hit in hits]


def add_text(shop, title: str, text: str) -> int:
    with session_scope() as session:
        source = sources.add_text(
            session, shop.tenant.owner, shop.tenant.bot.id, title=title, text=text
        )
    worker.run_until_idle()
    return source.id


def test_every_chunk_row_holds_its_vector(shop_bot):
    embedder = get_embedder()
    with session_scope() as session:
        chunks = session.exec(
            select(KnowledgeChunk).where(KnowledgeChunk.bot_id == shop_bot.tenant.bot.id)
        ).all()
    assert chunks and all(len(c.vector) == embedder.dim * 2 for c in chunks)  # float16
    stored = decode_many([c.vector for c in chunks])
    fresh = embedder.embed_documents([f"{c.title}\n{c.text}" for c in chunks[:1]])
    assert float(stored[0] @ fresh[0]) > 0.99  # half precision keeps the direction


def test_another_process_sees_a_new_source_at_its_next_search(shop_bot, database_url):
    index = other_process(database_url)
    assert not any("gift card" in t for t in texts(index, shop_bot, "Do you sell gift cards?"))
    loaded = index.bot_index(
        shop_bot.tenant.bot.workspace_id, shop_bot.tenant.bot.id, get_embedder().dim
    )

    add_text(shop_bot, "Gift cards", "We sell gift cards from 10 to 200 pounds in the shop.")
    assert "gift cards" in texts(index, shop_bot, "Do you sell gift cards?", limit=1)[0]
    caught_up = index.bot_index(
        shop_bot.tenant.bot.workspace_id, shop_bot.tenant.bot.id, get_embedder().dim
    )
    # Only the new source was read: the segment loaded first is the same object.
    assert caught_up.segments[0] is loaded.segments[0]
    assert caught_up.version > loaded.version


def test_a_retrained_or_deleted_source_leaves_nothing_stale(shop_bot, database_url):
    index = other_process(database_url)
    with session_scope() as session:
        source_id = sources.add_qa(
            session,
            shop_bot.tenant.owner,
            shop_bot.tenant.bot.id,
            question="Where can I park?",
            answer="Customers park free behind the shop on Mill Lane.",
        ).id
    worker.run_until_idle()
    assert "Mill Lane" in texts(index, shop_bot, "Where can I park?", limit=1)[0]

    with session_scope() as session:
        sources.update_qa(
            session,
            shop_bot.tenant.owner,
            source_id,
            question="Where can I park?",
            answer="Parking is in the public car park on Station Road; we refund the ticket.",
        )
    worker.run_until_idle()
    found = texts(index, shop_bot, "Where can I park?")
    assert "Station Road" in found[0] and not any("Mill Lane" in t for t in found)

    with session_scope() as session:
        sources.delete_source(session, shop_bot.tenant.owner, source_id)
    assert not any("Station Road" in t for t in texts(index, shop_bot, "Where can I park?"))


def test_a_failed_ingestion_leaves_nothing_searchable(shop_bot, database_url, monkeypatch):
    index = other_process(database_url)
    texts(index, shop_bot, "hours")  # loaded before
    embedder = get_embedder()
    calls = {"n": 0}
    real = embedder.embed_documents

    def fails_on_the_second_batch(batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the embedder died")
        return real(batch)

    monkeypatch.setattr(embedder, "embed_documents", fails_on_the_second_batch)
    paragraph = "Bicycle model {n} has a {n} speed gearbox and a steel frame."
    long_text = "\n\n".join(paragraph.format(n=n) for n in range(400))
    with session_scope() as session:
        source = sources.add_text(
            session, shop_bot.tenant.owner, shop_bot.tenant.bot.id, title="Bikes", text=long_text
        )
    worker.run_until_idle()
    with session_scope() as session:
        assert session.get(Source, source.id).status == "error"
        rows = session.exec(select(func.count()).where(KnowledgeChunk.source_id == source.id)).one()
    assert rows == 0
    assert not any("gearbox" in t for t in texts(index, shop_bot, "Which bike has a gearbox?"))


def test_tenants_never_see_each_others_chunks(shop_bot, database_url):
    other = make_shop("b")
    add_text(other, "Secret", "Our supplier discount code is ZEBRA-42.")
    index = other_process(database_url)
    assert not any("ZEBRA" in t for t in texts(index, shop_bot, "supplier discount code", limit=50))
    bot = other.tenant.bot
    foreign = index.search(
        workspace_id=shop_bot.tenant.workspace.id,  # the right bot id with the wrong workspace
        bot_id=bot.id,
        vector=get_embedder().embed_query("discount code"),
        limit=10,
    )
    assert foreign == []
    with session_scope() as session:
        words = lexical.search(
            session,
            workspace_id=shop_bot.tenant.workspace.id,
            bot_id=shop_bot.tenant.bot.id,
            query="ZEBRA supplier discount",
            limit=10,
        )
    assert words == []


def test_keyword_search_follows_each_source(shop_bot):
    bot = shop_bot.tenant.bot

    def keyword(query: str) -> list[str]:
        with session_scope() as session:
            hits = lexical.search(
                session, workspace_id=bot.workspace_id, bot_id=bot.id, query=query, limit=5
            )
            return [session.get(KnowledgeChunk, chunk_id).text for chunk_id, _score in hits]

    assert keyword("the of and") == []  # only stopwords: nothing to look for
    source_id = add_text(shop_bot, "Repairs", "We repair punctures while you wait, from 8 pounds.")
    found = keyword("punctures repaired?")  # stemmed: "repaired" finds "repair"
    assert found and "punctures" in found[0]
    with session_scope() as session:
        sources.delete_source(session, shop_bot.tenant.owner, source_id)
    assert keyword("punctures") == []


def test_vectors_of_another_model_are_left_out_until_a_reindex(shop_bot, database_url):
    """A row whose vector has another size (an embedder changed without `reindex`) is not
    compared with questions of this size."""
    bot = shop_bot.tenant.bot
    with session_scope() as session:
        chunk = session.exec(select(KnowledgeChunk).where(KnowledgeChunk.bot_id == bot.id)).first()
        chunk.vector = encode(np.ones(8, dtype=np.float32))
        session.add(chunk)
        session.get(Bot, bot.id).knowledge_version += 1
    index = other_process(database_url)
    loaded = index.bot_index(bot.workspace_id, bot.id, get_embedder().dim)
    with session_scope() as session:
        total = session.exec(select(func.count()).where(KnowledgeChunk.bot_id == bot.id)).one()
    assert len(loaded) == total - 1
