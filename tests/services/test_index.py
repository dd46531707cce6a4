"""The vector index on real Qdrant local mode, in both layouts: per-bot and shared collection."""

import numpy as np
import pytest
from qdrant_client import QdrantClient

from chatapp.services.index import IndexPoint, VectorIndex

DIM = 8


def _vec(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _points(source_id: int, n: int, seed: int = 0) -> list[IndexPoint]:
    return [
        IndexPoint(f"s{source_id}-{i}", _vec(seed + i), {"source_id": source_id, "text": f"t{i}"})
        for i in range(n)
    ]


@pytest.fixture(params=["per-bot", "shared"])
def index(request, tmp_path):
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    yield VectorIndex(client, dim=DIM, per_bot_collections=request.param == "per-bot")
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


def test_a_foreign_point_in_a_bot_collection_is_never_returned(tmp_path):
    """Even if a point of another tenant landed in a bot's collection, search drops it."""
    client = QdrantClient(path=str(tmp_path / "q"))
    index = VectorIndex(client, dim=DIM, per_bot_collections=True)
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 3))
    stray = IndexPoint("stray", _vec(500), {"source_id": 9})
    index.upsert(workspace_id=2, bot_id=10, points=[stray])  # same collection name, other tenant
    found = index.search(workspace_id=1, bot_id=10, vector=stray.vector, limit=10)
    assert "stray" not in {hit.chunk_id for hit in found}
    assert len(found) == 3
    client.close()


def _search_ids(index, vector, bot_id=10, workspace_id=1) -> list[str]:
    hits = index.search(workspace_id=workspace_id, bot_id=bot_id, vector=vector, limit=50)
    return [hit.chunk_id for hit in hits]


def test_search_follows_every_write_after_the_first_search(index):
    """Local mode searches an in-memory copy: it must stay in step with upserts and deletes."""
    index.upsert(workspace_id=1, bot_id=10, points=_points(1, 4) + _points(2, 3, seed=50))
    assert len(_search_ids(index, _vec(0))) == 7  # the first search loads the bot

    moved = IndexPoint("s1-0", _vec(900), {"source_id": 1})  # same chunk, new vector
    index.upsert(workspace_id=1, bot_id=10, points=[moved, *_points(3, 2, seed=70)])
    hits = index.search(workspace_id=1, bot_id=10, vector=_vec(900), limit=1)
    assert hits[0].chunk_id == "s1-0" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(_search_ids(index, _vec(0))) == 9

    index.delete_source(workspace_id=1, bot_id=10, source_id=1, keep={"s1-1"})
    assert sorted(_search_ids(index, _vec(0))) == ["s1-1", "s2-0", "s2-1", "s2-2", "s3-0", "s3-1"]
    index.delete_bot(workspace_id=1, bot_id=10)
    assert _search_ids(index, _vec(0)) == []
    index.upsert(workspace_id=1, bot_id=10, points=_points(4, 1, seed=5))
    assert _search_ids(index, _vec(0)) == ["s4-0"]


def test_a_reopened_store_searches_what_was_written_before(tmp_path):
    """After a restart the in-memory search is rebuilt from what Qdrant kept on disk."""
    client = QdrantClient(path=str(tmp_path / "q"))
    VectorIndex(client, dim=DIM, per_bot_collections=True).upsert(
        workspace_id=1, bot_id=10, points=_points(1, 5)
    )
    client.close()
    client = QdrantClient(path=str(tmp_path / "q"))
    index = VectorIndex(client, dim=DIM, per_bot_collections=True)
    hits = index.search(workspace_id=1, bot_id=10, vector=_vec(3), limit=2)
    assert hits[0].chunk_id == "s1-3" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(_search_ids(index, _vec(3))) == 5
    client.close()
