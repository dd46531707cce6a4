"""The Qdrant server's index (`QDRANT_URL`), its layout and calls run on a real Qdrant store in
local mode (no Qdrant server runs on this machine; the client's calls are the same)."""

import numpy as np
import pytest
from qdrant_client import QdrantClient

from chatapp.services.knowledge.index.vector_index import IndexPoint, VectorIndex

DIM = 8


def _vec(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _points(source_id: int, n: int, seed: int = 0) -> list[IndexPoint]:
    return [
        IndexPoint(f"s{source_id}-{i}", _vec(seed + i), {"source_id": source_id, "text": f"t{i}"})
        for i in range(n)
    ]


@pytest.fixture
def index(tmp_path):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    yield VectorIndex(client, dim=DIM)
    client.close()


def test_upsert_count_and_search_find_the_nearest(index):
    points = _points(1, 20)
    index.upsert(workspace_id=1, bot_id=10, points=points)
    assert index.count(workspace_id=1, bot_id=10) == 20
    hits = index.search(workspace_id=1, bot_id=10, vector=points[7].vector, limit=3)
    assert hits[0].chunk_id == "s1-7" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].payload["source_id"] == 1


def test_reupserting_the_same_chunks_is_idempotent(index):
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 5))
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 5))
    assert index.count(workspace_id=1, bot_id=10) == 5


def test_bots_and_workspaces_never_see_each_others_points(index):
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 5, seed=0))
    index.upsert(workspace_id=2, bot_id=20, points=_points(2, 5, seed=100))
    probe = _points(2, 1, seed=100)[0].vector
    found = index.search(workspace_id=1, bot_id=10, vector=probe, limit=10)
    assert {h.chunk_id for h in found} == {f"s1-{i}" for i in range(5)}
    # The right bot id with the wrong workspace finds nothing.
    assert index.search(workspace_id=1, bot_id=20, vector=probe, limit=10) == []
    assert index.count(workspace_id=1, bot_id=20) == 0


def test_delete_source_keeps_listed_chunks_and_other_sources(index):
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 6) + _points(2, 4, seed=50))
    index.delete_source(workspace_id=1, bot_id=10, source_id=1, keep={"s1-0", "s1-1"})
    assert index.count(workspace_id=1, bot_id=10, source_id=1) == 2
    assert index.count(workspace_id=1, bot_id=10, source_id=2) == 4
    index.delete_source(workspace_id=1, bot_id=10, source_id=1)
    assert index.count(workspace_id=1, bot_id=10, source_id=1) == 0


def test_delete_bot_removes_every_point_it_owned(index):
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 6))
    index.upsert(workspace_id=1, bot_id=11, points=_points(2, 3, seed=9))
    index.delete_bot(workspace_id=1, bot_id=10)
    assert index.count(workspace_id=1, bot_id=10) == 0
    assert index.count(workspace_id=1, bot_id=11) == 3


def test_searching_an_empty_bot_returns_nothing(index):
    assert index.search(workspace_id=1, bot_id=99, vector=_vec(1), limit=5) == []
    index.delete_bot(workspace_id=1, bot_id=99)  # no error
