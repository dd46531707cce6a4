"""`python -m chatapp migrate` on an install made by the release before vectors moved into the
database (tests/data/release_0006: made by commit 61d3f88 with tests.utils.knowledge.make_shop,
its vectors in Qdrant's local mode): the schema is upgraded, every vector lands in its chunk row,
the bot answers as before, the old folder is set aside, and a second run changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from chatapp import cli
from chatapp.core import migrations
from chatapp.core.config import get_settings, reset_settings
from chatapp.core.db import dispose_engines, session_scope
from chatapp.services.knowledge.retrieval import retrieve
from chatapp.services.models import Bot, KnowledgeChunk

RELEASE = Path(__file__).resolve().parents[3] / "data" / "release_0006"


@pytest.fixture
def old_install(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    shutil.copytree(RELEASE, data_dir)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_settings()
    dispose_engines()
    return data_dir


def stored(bot_id: int) -> tuple[int, int]:
    with session_scope() as session:
        total = session.exec(select(func.count()).where(KnowledgeChunk.bot_id == bot_id)).one()
        with_vector = session.exec(
            select(func.count()).where(
                KnowledgeChunk.bot_id == bot_id, col(KnowledgeChunk.vector).is_not(None)
            )
        ).one()
    return total, with_vector


def test_migrate_moves_the_old_release_vectors_into_the_database(old_install, capsys):
    assert migrations.current_revision(get_settings().database_url) == "0006"
    assert cli.main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert "Moved the vectors of 1 bots into the database (0 without a chunk skipped)" in out
    assert not (old_install / "qdrant").exists() and (old_install / "qdrant.migrated").is_dir()

    with session_scope() as session:
        bot = session.exec(select(Bot)).one()
        assert bot.knowledge_version >= 1
    total, with_vector = stored(bot.id)
    assert total >= 3 and with_vector == total

    with session_scope() as session:
        found = retrieve(
            session, workspace_id=bot.workspace_id, bot_id=bot.id, query="Can I return an item?"
        )
    assert found.confident and "30 days" in found.passages[0].text
    assert found.passages[0].dense_score > 0.3 and found.passages[0].lexical_score > 0

    assert cli.main(["migrate"]) == 0  # again: nothing left to move, nothing changed
    assert "Moved" not in capsys.readouterr().out
    assert stored(bot.id) == (total, with_vector)
