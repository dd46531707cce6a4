"""Shared fixtures: real databases (SQLite file and PostgreSQL), copies of ones migrated with
Alembic once per test process."""

from __future__ import annotations

import pytest

from chatapp.services.config import reset_settings
from chatapp.services.db import dispose_engines, get_engine, session_scope
from chatapp.services.index import close_indexes
from tests.utils.databases import MigratedTemplates, make_current


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Groups for pytest-xdist (`--dist loadgroup`, scripts/test.sh): a module's tests run on one
    worker (modules start servers once for all their tests); the browser tests of the shared
    production app run on one worker, first (it is the longest group), and so do the tests on the
    machine's shared Redis, whose pub/sub channels are global."""
    for item in items:
        if "app_server" in item.fixturenames:
            group = "dashboard_app"
        elif item.get_closest_marker("shared_redis"):
            group = "shared_redis"
        else:
            group = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: "app_server" not in item.fixturenames)  # stable: order kept


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
