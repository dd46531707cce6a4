"""`python -m chatapp vectors-copy`: the vectors stored in the database move to a Qdrant
server's layout (one payload-partitioned collection) unchanged, searchable there tenant by tenant,
and a second copy changes nothing. The target here is a Qdrant store in local mode with the
server's layout (no Qdrant server runs on this machine); the copy code is the same."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient
from sqlmodel import select

from chatapp import cli
from chatapp.core.db import get_engine, session_scope
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.index.copy_to_server import copy_vectors
from chatapp.services.knowledge.index.vector_index import VectorIndex
from chatapp.services.models import KnowledgeChunk
from tests.utils.knowledge import make_shop


@pytest.fixture
def shops(sqlite_url):
    return make_shop("a"), make_shop("b")


def chunk_ids(bot_id: int) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(KnowledgeChunk.id).where(KnowledgeChunk.bot_id == bot_id)))


def _server_layout(path) -> VectorIndex:
    return VectorIndex(QdrantClient(path=str(path)), dim=None)


def test_the_cli_copies_every_bot_into_the_shared_collection(shops, tmp_path, capsys):
    a, b = (shop.tenant.bot for shop in shops)
    total = len(chunk_ids(a.id)) + len(chunk_ids(b.id))
    target = tmp_path / "server"
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0
    assert f"Copied {total} vectors of 2 bots" in capsys.readouterr().out
    server = _server_layout(target)
    try:
        assert server.count(workspace_id=a.workspace_id, bot_id=a.id) == len(chunk_ids(a.id))
        # The server's search path (payload filter) finds the returns chunk first.
        probe = get_embedder().embed_query("Can I return an item?")
        hits = server.search(workspace_id=a.workspace_id, bot_id=a.id, vector=probe, limit=3)
        with session_scope() as session:
            best = session.get(KnowledgeChunk, hits[0].chunk_id)
        assert "30 days" in best.text and hits[0].payload["source_id"] == best.source_id
        # Tenants stay apart in the one collection.
        assert server.search(workspace_id=a.workspace_id, bot_id=b.id, vector=probe, limit=5) == []
        theirs = server.search(workspace_id=b.workspace_id, bot_id=b.id, vector=probe, limit=50)
        assert sorted(h.chunk_id for h in theirs) == sorted(chunk_ids(b.id))
    finally:
        server.close()


def test_copying_again_is_harmless_and_a_wrong_size_is_refused(shops, tmp_path, sqlite_url):
    a = shops[0].tenant.bot
    target = tmp_path / "server"
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0  # an interrupted copy is rerun
    server = _server_layout(target)
    try:
        assert server.count(workspace_id=a.workspace_id, bot_id=a.id) == len(chunk_ids(a.id))
    finally:
        server.close()

    other = VectorIndex(QdrantClient(path=str(tmp_path / "other")), dim=get_embedder().dim * 2)
    try:
        with pytest.raises(Exception, match="768-dimensional vectors, this database 384"):
            copy_vectors(get_engine(sqlite_url), other)
    finally:
        other.close()
