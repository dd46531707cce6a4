"""Shared fixtures: real databases (SQLite file and PostgreSQL), migrated with Alembic."""

from __future__ import annotations

import pytest

from chatapp.core import migrations
from chatapp.core.config import reset_settings
from chatapp.core.db import dispose_engines, get_engine, session_scope
from chatapp.services.knowledge.index.vector_index import close_indexes
from tests.utils.databases import postgres_database


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data directory and a fresh settings object."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHATAPP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # so no developer's .env leaks into a test
    # Same algorithm (argon2id), lower cost: hashing is not what these tests measure.
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("ARGON2_ROUNDS", "1")
    # Tests run the ingest worker synchronously (worker.run_until_idle), never in a thread.
    monkeypatch.setenv("INGEST_WORKER", "false")
    reset_settings()
    yield data_dir
    close_indexes()
    dispose_engines()
    reset_settings()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, monkeypatch):
    """A migrated, empty database of each kind, made the configured DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        _activate(url, monkeypatch)
        yield url
        return
    with postgres_database() as url:
        _activate(url, monkeypatch)
        yield url


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'test.db'}"
    _activate(url, monkeypatch)
    return url


def _activate(url: str, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    dispose_engines()
    migrations.upgrade(url)


@pytest.fixture
def engine(database_url):
    return get_engine(database_url)


@pytest.fixture
def session(engine):
    with session_scope(engine) as session:
        yield session
