"""Sources end to end through the real pipeline: SQLite/PostgreSQL, Qdrant local mode, the local
embedder and BM25. The worker is run synchronously (`run_until_idle`) so nothing waits on time.
"""

from datetime import timedelta

import pytest
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chatapp.services.bots import bots
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.index.vector_index import get_index
from chatapp.services.knowledge.ingest import queue
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.models import KnowledgeChunk, Source, utcnow
from chatapp.workers import ingest as worker
from tests.services.knowledge.ingest import files
from tests.utils.factories import make_tenant

HOURS = (
    "Opening hours\n\nOur shop in Lyon is open Monday to Friday from 9am to 6pm. "
    "On Saturdays we open from 10am to 4pm. We are closed on Sundays and public holidays."
)
RETURNS = (
    "Returns policy\n\nYou can return any item within 30 days of delivery for a full refund. "
    "Items must be unused and in their original packaging."
)


@pytest.fixture
def tenant(database_url):
    with session_scope() as session:
        return make_tenant(session, "a")


def _add_text(tenant, title, text):
    with session_scope() as session:
        return sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text).id


def _source(source_id):
    with session_scope() as session:
        return session.get(Source, source_id)


def _points(tenant, source_id=None):
    return get_index().count(
        workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, source_id=source_id
    )


def _search(tenant, query, limit=3):
    with session_scope() as session:
        return retrieve(
            session,
            workspace_id=tenant.workspace.id,
            bot_id=tenant.bot.id,
            query=query,
            limit=limit,
        )


def test_text_source_is_queued_then_processed_and_searchable(tenant):
    source_id = _add_text(tenant, "Hours", HOURS)
    assert _source(source_id).status == "queued"
    assert worker.run_until_idle() == 1
    source = _source(source_id)
    assert (source.status, source.progress, source.error) == ("ready", 1.0, "")
    assert source.chunk_count >= 1 and source.char_count > 0 and source.trained_at
    assert _points(tenant, source_id) == source.chunk_count
    _add_text(tenant, "Returns", RETURNS)
    worker.run_until_idle()
    found = _search(tenant, "when are you open on saturday?")
    assert found.confident
    assert "Saturdays" in found.passages[0].text
    assert found.passages[0].title == "Hours"


def test_qa_pair_is_found_by_a_paraphrase(tenant):
    _add_text(tenant, "Hours", HOURS)
    with session_scope() as session:
        sources.add_qa(
            session,
            tenant.owner,
            tenant.bot.id,
            question="Do you ship to Canada?",
            answer="Yes, we ship to Canada in 5 to 8 days.",
        )
    worker.run_until_idle()
    found = _search(tenant, "can I get my order delivered in canada")
    assert found.passages[0].source_kind == "qa"
    assert "5 to 8 days" in found.passages[0].text


def test_retraining_unchanged_content_is_idempotent(tenant):
    source_id = _add_text(tenant, "Hours", HOURS)
    worker.run_until_idle()
    with session_scope() as session:
        before = sorted(session.exec(select(KnowledgeChunk.id)).all())
        sources.retrain(session, tenant.owner, source_id)
    worker.run_until_idle()
    with session_scope() as session:
        after = sorted(session.exec(select(KnowledgeChunk.id)).all())
    assert before == after
    assert _points(tenant, source_id) == len(after)


def test_retraining_while_queued_is_refused(tenant):
    source_id = _add_text(tenant, "Hours", HOURS)
    with pytest.raises(Conflict), session_scope() as session:
        sources.retrain(session, tenant.owner, source_id)


def test_deleting_a_source_removes_its_chunks_and_vectors(tenant):
    keep = _add_text(tenant, "Returns", RETURNS)
    gone = _add_text(tenant, "Hours", HOURS)
    worker.run_until_idle()
    assert _points(tenant, gone) > 0
    with session_scope() as session:
        sources.delete_source(session, tenant.owner, gone)
    assert _points(tenant, gone) == 0
    assert _points(tenant, keep) > 0
    with session_scope() as session:
        assert (
            session.exec(select(KnowledgeChunk).where(KnowledgeChunk.source_id == gone)).all() == []
        )
    assert all(p.source_id == keep for p in _search(tenant, "opening hours saturday").passages)


def test_deleting_the_bot_removes_every_vector(tenant):
    _add_text(tenant, "Hours", HOURS)
    worker.run_until_idle()
    assert _points(tenant) > 0
    with session_scope() as session:
        bots.delete_bot(session, tenant.owner, tenant.bot.id)
    assert _points(tenant) == 0


@pytest.mark.parametrize(
    ("title", "text", "message"),
    [("x", "   ", "Paste some text"), ("x", "a" * 50_001, "the limit is 50,000")],
)
def test_text_is_validated(tenant, title, text, message):
    with pytest.raises(ValidationFailed, match=message), session_scope() as session:
        sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text)


def test_storage_limit_per_bot(tenant, monkeypatch):
    from chatapp.core.config import reset_settings

    monkeypatch.setenv("BOT_STORAGE_LIMIT_MB", "0.0002")  # ~210 bytes
    reset_settings()
    _add_text(tenant, "Hours", HOURS[:150])
    with pytest.raises(ValidationFailed, match="storage limit"), session_scope() as session:
        sources.add_text(session, tenant.owner, tenant.bot.id, title="more", text=RETURNS)
    with session_scope() as session:
        use = sources.storage_use(session, tenant.owner, tenant.bot.id)
    assert use.bytes_used == 150 and use.percent > 50


def test_files_are_checked_by_content_and_size_at_once(tenant, monkeypatch):
    from chatapp.core.config import reset_settings

    with session_scope() as session:
        source = sources.add_file(
            session, tenant.owner, tenant.bot.id, filename="notes", data=HOURS.encode()
        )
        assert source.meta["file_kind"] == "txt"  # the content decides, not the extension
    contradicts = pytest.raises(ValidationFailed, match="named like a PDF but is really plain")
    with contradicts, session_scope() as session:  # a name promising something else: refused
        sources.add_file(
            session, tenant.owner, tenant.bot.id, filename="notes.pdf", data=HOURS.encode()
        )
    with pytest.raises(ValidationFailed, match="empty"), session_scope() as session:
        sources.add_file(session, tenant.owner, tenant.bot.id, filename="e.txt", data=b"")
    with pytest.raises(ValidationFailed), session_scope() as session:
        sources.add_file(
            session, tenant.owner, tenant.bot.id, filename="x.bin", data=bytes(range(256)) * 40
        )
    monkeypatch.setenv("MAX_UPLOAD_MB", "0.001")
    reset_settings()
    with pytest.raises(ValidationFailed, match="limit per file"), session_scope() as session:
        sources.add_file(session, tenant.owner, tenant.bot.id, filename="big.txt", data=b"a" * 2000)
    worker.run_until_idle()
    assert _source(source.id).status == "ready"


def test_a_file_stored_before_a_newer_upload_rule_still_retrains(tenant):
    """The name-agrees-with-content rule judges new uploads; a text file stored as "hours.pdf"
    before it existed keeps training (ingestion re-checks only the size limit)."""
    with session_scope() as session:
        source = sources.add_file(
            session, tenant.owner, tenant.bot.id, filename="hours", data=HOURS.encode()
        )
        source.meta = {**source.meta, "filename": "hours.pdf"}  # as an older upload stored it
        session.add(source)
    worker.run_until_idle()
    with session_scope() as session:
        sources.retrain(session, tenant.owner, source.id)
    worker.run_until_idle()
    assert _source(source.id).status == "ready", _source(source.id).error


def test_a_source_that_fails_leaves_no_chunks_and_a_readable_error(tenant):
    with session_scope() as session:
        source = sources.add_file(
            session,
            tenant.owner,
            tenant.bot.id,
            filename="scan.pdf",
            data=files.blank_pdf(),  # opens, so accepted; it has no text, found while reading
        )
    worker.run_until_idle()
    failed = _source(source.id)
    assert failed.status == "error"
    assert failed.error and "Traceback" not in failed.error
    assert _points(tenant, source.id) == 0
    with session_scope() as session:
        assert session.exec(select(KnowledgeChunk)).all() == []


def test_restart_requeues_work_left_processing(tenant):
    source_id = _add_text(tenant, "Hours", HOURS)
    engine = get_engine()
    assert queue.claim_next(engine) == source_id  # a worker took it ... and died
    assert queue.claim_next(engine) is None
    with session_scope() as session:
        source = session.get(Source, source_id)
        source.heartbeat_at = utcnow() - timedelta(minutes=10)
        session.add(source)
    assert queue.requeue_stale(engine) == 1
    assert worker.run_until_idle() == 1
    assert _source(source_id).status == "ready"


def test_interrupted_too_often_becomes_an_error(tenant):
    source_id = _add_text(tenant, "Hours", HOURS)
    with session_scope() as session:
        source = session.get(Source, source_id)
        source.status, source.attempts, source.heartbeat_at = "processing", 3, None
        session.add(source)
    queue.requeue_stale(get_engine())
    assert _source(source_id).status == "error"


def test_other_workspaces_cannot_see_or_touch_sources(database_url):
    with session_scope() as session:
        a = make_tenant(session, "a")
        b = make_tenant(session, "b")
        b_source = sources.add_text(session, b.owner, b.bot.id, title="Hours", text=HOURS).id
    worker.run_until_idle()
    with session_scope() as session:
        for call in (
            lambda: sources.list_sources(session, a.owner, b.bot.id),
            lambda: sources.get_source(session, a.owner, b_source),
            lambda: sources.retrain(session, a.owner, b_source),
            lambda: sources.delete_source(session, a.owner, b_source),
            lambda: sources.add_text(session, a.owner, b.bot.id, title="x", text="y"),
        ):
            with pytest.raises(NotFound):
                call()
        # Searching B's bot id in A's workspace finds nothing.
        assert (
            retrieve(
                session, workspace_id=a.workspace.id, bot_id=b.bot.id, query="opening hours"
            ).passages
            == []
        )
    assert _source(b_source).status == "ready"


def test_viewers_cannot_add_sources(tenant):
    with pytest.raises(PermissionDenied), session_scope() as session:
        sources.add_text(session, tenant.viewer, tenant.bot.id, title="x", text="y")


def test_nothing_relevant_is_not_confident(tenant):
    _add_text(tenant, "Hours", HOURS)
    worker.run_until_idle()
    result = _search(tenant, "quantum chromodynamics lattice gauge theory")
    assert not result.confident


def _add_file(tenant, name, data):
    with session_scope() as session:
        return sources.add_file(session, tenant.owner, tenant.bot.id, filename=name, data=data).id


def test_pdf_passages_cite_file_name_and_page(tenant):
    from tests.services.knowledge.ingest.files import pdf

    data = pdf(
        [
            "Chapter one talks about the warranty: two years on every frame.",
            "Chapter two explains delivery: parcels arrive within three working days.",
        ],
        title="Acme handbook",
    )
    source_id = _add_file(tenant, "handbook.pdf", data)
    worker.run_until_idle()
    assert _source(source_id).status == "ready", _source(source_id).error
    top = _search(tenant, "how long does delivery take").passages[0]
    assert (top.file_name, top.page, top.title) == ("handbook.pdf", 2, "Acme handbook")
    assert "three working days" in top.text


def test_docx_and_markdown_keep_their_headings(tenant):
    from tests.services.knowledge.ingest.files import docx_file

    docx_id = _add_file(
        tenant,
        "policies.docx",
        docx_file([("h1", "Refunds"), ("p", "Refunds are paid back to the card within a week.")]),
    )
    md_id = _add_file(
        tenant, "faq.md", b"# FAQ\n\n## Pets\n\nDogs on a leash are welcome in the shop.\n"
    )
    worker.run_until_idle()
    assert _source(docx_id).status == _source(md_id).status == "ready"
    refund = _search(tenant, "when do I get my money back").passages[0]
    assert refund.heading == "Refunds" and refund.file_name == "policies.docx"
    pets = _search(tenant, "can I bring my dog").passages[0]
    assert pets.heading == "Pets" and "leash" in pets.text


def test_an_embedding_failure_after_the_early_commit_leaves_nothing(tenant, monkeypatch):
    """With a remote embedder that fails, the new source's early chunk rows are taken back."""
    from chatapp.core.config import get_settings, reset_settings
    from chatapp.services.knowledge.embeddings import reset_embedders
    from chatapp.services.knowledge.index.vector_index import close_indexes
    from tests.utils.fake_openai import fake_openai_server

    with fake_openai_server() as server:
        server.mode = "error"
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        # A separate vector store: the remote embedder's vectors have another size.
        monkeypatch.setenv("DATA_DIR", str(get_settings().data_dir / "remote"))
        reset_settings()
        reset_embedders()
        close_indexes()
        try:
            source_id = _add_text(tenant, "Hours", HOURS)
            worker.run_until_idle()
            failed = _source(source_id)
            assert failed.status == "error"
            assert "key" not in failed.error.lower() and "Traceback" not in failed.error
            with session_scope() as session:
                assert session.exec(select(KnowledgeChunk)).all() == []
            assert server.requests  # it really tried the remote endpoint
        finally:
            reset_embedders()
