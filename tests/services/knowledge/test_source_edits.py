"""Editing pasted texts and Q&A pairs in place, on SQLite and PostgreSQL: the same source is
re-trained by the real worker, its chunks swapped at once, and a failed re-training leaves the
old chunks answering."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from chatapp.core.config import get_settings, reset_settings
from chatapp.core.db import get_engine, session_scope
from chatapp.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chatapp.services.knowledge import source_edits, sources
from chatapp.services.knowledge.embeddings import reset_embedders
from chatapp.services.knowledge.index.vector_index import close_indexes
from chatapp.services.knowledge.ingest import queue
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.knowledge.source_text import source_text
from chatapp.services.knowledge.sources import SourceInputInvalid
from chatapp.services.models import AuditEntry, KnowledgeChunk, Source
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant
from tests.utils.fake_openai import fake_openai_server

OLD = "Opening hours\n\nOur shop in Lyon is open Monday to Friday from 9am to 6pm."
NEW = "Opening hours\n\nOur shop in Lyon is open Tuesday to Saturday from 11am to 7pm."


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def _text_source(tenant, text=OLD) -> int:
    with session_scope() as session:
        return sources.add_text(session, tenant.owner, tenant.bot.id, title="Hours", text=text).id


def _chunks(source_id) -> list[tuple[str, str]]:
    with session_scope() as session:
        rows = session.exec(
            select(KnowledgeChunk.id, KnowledgeChunk.text)
            .where(KnowledgeChunk.source_id == source_id)
            .order_by(col(KnowledgeChunk.position))
        ).all()
    return [tuple(row) for row in rows]


def _best(tenant, query) -> str:
    with session_scope() as session:
        found = retrieve(
            session, workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, query=query, limit=1
        )
    return found.passages[0].text if found.passages else ""


def _edit(actor, source_id, **fields) -> Source:
    with session_scope() as session:
        return source_edits.edit_source(session, actor, source_id, **fields)


def test_an_edited_text_replaces_its_chunks_and_the_bot_answers_from_it(tenant):
    source_id = _text_source(tenant)
    worker.run_until_idle()
    old_chunks = _chunks(source_id)
    assert "Monday to Friday" in _best(tenant, "when are you open?")

    edited = _edit(tenant.admin, source_id, title="Our hours", text=NEW)
    assert (edited.id, edited.status, edited.title) == (source_id, "queued", "Our hours")
    assert edited.char_count == len(NEW)
    assert _chunks(source_id) == old_chunks  # the old ones serve until the new ones are ready
    worker.run_until_idle()

    new_chunks = _chunks(source_id)
    assert new_chunks and not set(new_chunks) & set(old_chunks)
    assert "Tuesday to Saturday" in _best(tenant, "when are you open?")
    with session_scope() as session:
        read = source_text(session, tenant.viewer, source_id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "source.update")).one()
    assert read.text == NEW and "Tuesday to Saturday" in read.chunks[0].text
    assert entry.changes["title"] == ["Hours", "Our hours"] and entry.target_id == str(source_id)


def test_a_partial_edit_keeps_the_other_fields(tenant):
    source_id = _text_source(tenant)
    with session_scope() as session:
        pair = sources.add_qa(
            session, tenant.owner, tenant.bot.id, question="Parking?", answer="Behind the shop."
        ).id
    worker.run_until_idle()
    assert _edit(tenant.owner, source_id, title="Hours (Lyon)").meta["text"] == OLD
    edited = _edit(tenant.owner, pair, answer="On Mill Lane, free.")
    assert edited.meta == {"question": "Parking?", "answer": "On Mill Lane, free."}
    assert edited.title == "Parking?"


def test_a_failed_retraining_leaves_the_old_chunks_answering(tenant, monkeypatch):
    """With a remote embedder that starts failing, the edit's training fails and nothing moves."""
    with fake_openai_server() as server:
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("EMBEDDING_MODEL", "fake-embed")  # its size is learnt from a probe
        # A separate vector store: the remote embedder's vectors have another size.
        monkeypatch.setenv("DATA_DIR", str(get_settings().data_dir / "remote"))
        reset_settings()
        reset_embedders()
        close_indexes()
        try:
            source_id = _text_source(tenant)
            worker.run_until_idle()
            before = _chunks(source_id)
            assert before and "Monday to Friday" in _best(tenant, "Monday to Friday opening")

            server.mode = "error"
            _edit(tenant.owner, source_id, text=NEW)
            worker.run_until_idle()
            with session_scope() as session:
                failed = session.get_one(Source, source_id)
                read = source_text(session, tenant.owner, source_id)
            assert failed.status == "error" and failed.error
            assert _chunks(source_id) == before
            server.mode = "ok"  # the service is back: the old chunks were answering all along
            assert "Monday to Friday" in _best(tenant, "Monday to Friday opening")
            assert read.text == NEW and "Monday to Friday" in read.chunks[0].text
            assert "The last training failed: the bot still answers from these chunks." in (
                read.notes
            )
            with session_scope() as session:
                sources.retrain(session, tenant.owner, source_id)
            worker.run_until_idle()
            assert "Tuesday to Saturday" in _best(tenant, "Tuesday to Saturday opening")
        finally:
            reset_embedders()


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"text": "   "}, "text", "Paste some text first."),
        ({"text": "x" * 50_001}, "text", "the limit is 50,000"),
        ({"title": "t" * 301}, "title", "Keep the title under 300"),
    ],
)
def test_text_refusals_name_their_field_and_change_nothing(tenant, fields, field, words):
    source_id = _text_source(tenant)
    with pytest.raises(SourceInputInvalid) as refused:
        _edit(tenant.owner, source_id, **fields)
    assert refused.value.field == field and words in refused.value.message
    with session_scope() as session:
        assert session.get_one(Source, source_id).meta["text"] == OLD


def test_only_texts_and_pairs_are_edited_with_their_own_fields(tenant):
    source_id = _text_source(tenant)
    with session_scope() as session:
        pair = sources.add_qa(session, tenant.owner, tenant.bot.id, question="Q?", answer="A.").id
        url = sources.add_url(session, tenant.owner, tenant.bot.id, url="https://1.1.1.1/").id
    with pytest.raises(ValidationFailed, match="not a question"):
        _edit(tenant.owner, source_id, question="Q?")
    with pytest.raises(ValidationFailed, match="not a title or text"):
        _edit(tenant.owner, pair, text="Some text.")
    with pytest.raises(ValidationFailed, match="Only pasted texts and Q&A pairs"):
        _edit(tenant.owner, url, text="Some text.")


def test_who_may_edit_and_when(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
    source_id = _text_source(a)
    for actor in (a.agent, a.viewer):
        with pytest.raises(PermissionDenied):
            _edit(actor, source_id, text=NEW)
    with pytest.raises(NotFound):  # another workspace's source does not exist for its owner
        _edit(b.owner, source_id, text=NEW)
    assert queue.claim_next(get_engine()) == source_id  # a worker is training it right now
    with pytest.raises(Conflict):
        _edit(a.owner, source_id, text=NEW)
    with session_scope() as session:
        assert session.get_one(Source, source_id).meta["text"] == OLD
