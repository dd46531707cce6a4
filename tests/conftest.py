"""Shared fixtures: real databases (SQLite file and PostgreSQL), copies of ones migrated with
Alembic once per test process."""

from __future__ import annotations

import importlib.util

import pytest

from chatapp.core.config import reset_settings
from chatapp.core.db import dispose_engines, get_engine, session_scope
from chatapp.services.knowledge.index.vector_index import close_indexes
from tests.utils import parallel
from tests.utils.databases import MigratedTemplates, make_current
from tests.utils.knowledge import make_shop


def pytest_collection_modifyitems(config, items):
    """Each group checked, the longest units first (see tests/utils/parallel.py)."""
    parallel.check_groups(items)
    parallel.longest_first(items)


if importlib.util.find_spec("xdist") is not None:

    def pytest_xdist_make_scheduler(config, log):
        return parallel.scheduler(config, log)


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


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory):
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path, monkeypatch, migrated_templates):
    """A migrated, empty database of each kind, made the configured DATABASE_URL."""
    if request.param == "sqlite":
        url = migrated_templates.sqlite(tmp_path / "test.db")
        make_current(url, monkeypatch)
        yield url
        return
    with migrated_templates.postgres() as url:
        make_current(url, monkeypatch)
        yield url


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch, migrated_templates):
    url = migrated_templates.sqlite(tmp_path / "test.db")
    make_current(url, monkeypatch)
    return url


@pytest.fixture
def engine(database_url):
    return get_engine(database_url)


@pytest.fixture
def session(engine):
    with session_scope(engine) as session:
        yield session


@pytest.fixture
def shop_bot(database_url, migrated_templates):
    """The small shop's bot (tests/utils/knowledge.py), on each kind of database: made and
    trained once per test process, loaded into each test's own database."""
    return migrated_templates.load_seeded("shop", make_shop, database_url)
