"""`python -m chatapp vectors-copy`: a deployment's embedded vectors (one collection per bot)
move to the server layout (one payload-partitioned collection) unchanged, searchable there
tenant by tenant, and a second copy changes nothing. The target here is a second Qdrant store
in local mode with the server's layout (no Qdrant server runs on this machine); the copy code is
the same."""

from __future__ import annotations

import numpy as np
import pytest
from qdrant_client import QdrantClient

from chatapp import cli
from chatapp.services.config import get_settings, reset_settings
from chatapp.services.index import IndexPoint, VectorIndex, close_indexes
from chatapp.services.vector_copy import copy_vectors

DIM = 8


def _vec(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _points(source_id: int, n: int, seed: int) -> list[IndexPoint]:
    return [
        IndexPoint(f"s{source_id}-{i}", _vec(seed + i), {"source_id": source_id, "text": f"t{i}"})
        for i in range(n)
    ]


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """The deployment's embedded store with two workspaces' bots."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    reset_settings()
    path = get_settings().qdrant_path
    path.mkdir(parents=True, exist_ok=True)
    client = QdrantClient(path=str(path))
    store = VectorIndex(client, dim=DIM, per_bot_collections=True)
    store.upsert(workspace_id=1, bot_id=10, points=_points(1, 300, seed=0))
    store.upsert(workspace_id=2, bot_id=20, points=_points(2, 7, seed=1000))
    client.close()  # the app is stopped while the vectors move
    yield path
    close_indexes()


def _server_layout(path) -> VectorIndex:
    return VectorIndex(QdrantClient(path=str(path)), dim=None, per_bot_collections=False)


def test_the_cli_copies_every_bot_into_the_shared_collection(embedded, tmp_path, capsys):
    target = tmp_path / "server"
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0
    assert "Copied 307 vectors of 2 bots" in capsys.readouterr().out
    server = _server_layout(target)
    try:
        assert server.count(workspace_id=1, bot_id=10) == 300
        assert server.count(workspace_id=2, bot_id=20) == 7
        # The server's search path (payload filter) finds the same nearest chunk.
        probe = _points(1, 300, seed=0)[123].vector
        hits = server.search(workspace_id=1, bot_id=10, vector=probe, limit=3)
        assert hits[0].chunk_id == "s1-123" and hits[0].payload["source_id"] == 1
        # Tenants stay apart in the one collection.
        other = _points(2, 7, seed=1000)[0].vector
        assert server.search(workspace_id=1, bot_id=20, vector=other, limit=5) == []
        theirs = server.search(workspace_id=2, bot_id=20, vector=other, limit=9)
        assert sorted(h.chunk_id for h in theirs) == sorted(f"s2-{i}" for i in range(7))
    finally:
        server.client.close()


def test_copying_again_is_harmless_and_a_wrong_size_is_refused(embedded, tmp_path):
    target = tmp_path / "server"
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0
    assert cli.main(["vectors-copy", "--to", str(target)]) == 0  # an interrupted copy is rerun
    server = _server_layout(target)
    try:
        assert server.count(workspace_id=1, bot_id=10) == 300
    finally:
        server.client.close()

    source = VectorIndex(QdrantClient(path=str(embedded)), dim=None, per_bot_collections=True)
    other = VectorIndex(
        QdrantClient(path=str(tmp_path / "other")), dim=DIM * 2, per_bot_collections=False
    )
    try:
        with pytest.raises(Exception, match="16-dimensional vectors, this store 8"):
            copy_vectors(source, other)
    finally:
        source.client.close()
        other.client.close()


def test_the_source_must_be_the_embedded_store(embedded, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QDRANT_URL", "http://127.0.0.1:1")
    reset_settings()
    assert cli.main(["vectors-copy", "--to", str(tmp_path / "server")]) == 2
    assert "the source must be the embedded store" in capsys.readouterr().err
