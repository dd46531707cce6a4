"""`python -m chatapp reindex`: after the embedding model changes, every bot's chunks are embedded
again from the SQL rows, at the new size, and retrieval works again; filters and the server's
shared layout (a second local store with that layout: no Qdrant server runs here)."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient
from sqlmodel import func, select

from chatapp import cli
from chatapp.core.config import reset_settings
from chatapp.core.db import session_scope
from chatapp.core.errors import ValidationFailed
from chatapp.services.knowledge import reindex
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.vector_index import (
    IndexPoint,
    VectorIndex,
    close_indexes,
    get_index,
)
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.models import KnowledgeChunk
from tests.utils.fake_openai import FAKE_DIM, fake_openai_server
from tests.utils.knowledge import make_shop


def chunk_count(bot_id: int) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count()).select_from(KnowledgeChunk).where(KnowledgeChunk.bot_id == bot_id)
        ).one()


def test_a_new_embedding_model_gets_every_chunk_embedded_again(shop_bot, monkeypatch, capsys):
    bot = shop_bot.tenant.bot
    assert get_index().stored_size(bot.id) == get_embedder().dim  # the local model's 384
    with fake_openai_server() as server:
        monkeypatch.setenv("EMBEDDING_PROVIDER", "openai")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("EMBEDDING_DIMENSIONS", str(FAKE_DIM))
        reset_settings()
        close_indexes()  # a restarted process: the index learns the new size from the embedder

        assert cli.main(["reindex"]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        chunks = chunk_count(bot.id)
        assert f"bot {bot.id}: {chunks} vectors" in out
        assert f"({FAKE_DIM} dimensions)" in out
        index = get_index(FAKE_DIM)
        assert index.stored_size(bot.id) == FAKE_DIM
        assert index.count(workspace_id=bot.workspace_id, bot_id=bot.id) == chunks
        with session_scope() as session:
            found = retrieve(
                session,
                workspace_id=bot.workspace_id,
                bot_id=bot.id,
                query="Can I return an item?",
            )
        assert any("30 days" in passage.text for passage in found.passages)
        embedded = [text for body in server.requests for text in body["input"]]
        assert any(
            text.startswith("Returns\n") for text in embedded
        )  # title + passage, as ingested


def test_one_bot_only_and_an_unknown_bot(shop_bot, capsys):
    other = make_shop("b")
    report = reindex.reindex(bot_id=shop_bot.tenant.bot.id)
    assert report.vectors == {shop_bot.tenant.bot.id: chunk_count(shop_bot.tenant.bot.id)}
    report = reindex.reindex(workspace_id=other.tenant.workspace.id)
    assert set(report.vectors) == {other.tenant.bot.id}
    assert cli.main(["reindex", "--bot", "987654"]) == 2
    assert "No bot 987654" in capsys.readouterr().err


def test_the_shared_collection_changes_size_only_all_at_once(shop_bot, tmp_path):
    bot = shop_bot.tenant.bot
    server = VectorIndex(QdrantClient(path=str(tmp_path / "server")), dim=8)
    try:
        old = np.ones(8, dtype=np.float32) / np.sqrt(8)
        server.upsert(
            workspace_id=bot.workspace_id, bot_id=bot.id, points=[IndexPoint("old-0", old)]
        )
        embedder = get_embedder()
        server.dim = embedder.dim
        with pytest.raises(ValidationFailed, match="every bot at once"):
            reindex.reindex(bot_id=bot.id, index=server, embedder=embedder)
        report = reindex.reindex(index=server, embedder=embedder)
        assert server.stored_size(bot.id) == embedder.dim == report.size
        assert server.count(workspace_id=bot.workspace_id, bot_id=bot.id) == chunk_count(bot.id)
        report = reindex.reindex(bot_id=bot.id, index=server, embedder=embedder)  # same size
        assert server.count(workspace_id=bot.workspace_id, bot_id=bot.id) == chunk_count(bot.id)
    finally:
        server.client.close()
