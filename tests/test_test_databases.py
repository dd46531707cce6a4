"""The suite's PostgreSQL databases (tests/utils/databases.py): a used database is emptied and
handed to a later test, and must then be indistinguishable from a fresh copy of the template."""

from __future__ import annotations

import psycopg
from sqlmodel import select

from chatapp.core.db import get_engine, session_scope
from chatapp.services.models import User
from tests.utils.databases import make_current
from tests.utils.factories import make_tenant


def _fill(url: str, monkeypatch) -> None:
    make_current(url, monkeypatch)
    with session_scope(get_engine(url)) as session:
        make_tenant(session, "used")


def _user_ids(url: str, monkeypatch) -> list[int]:
    make_current(url, monkeypatch)
    with session_scope(get_engine(url)) as session:
        return [user.id for user in session.exec(select(User).order_by(User.id))]


def _oid(url: str) -> int:
    """The database's identity, which a rename keeps."""
    with psycopg.connect(url) as connection:
        query = "SELECT oid FROM pg_database WHERE datname = current_database()"
        return connection.execute(query).fetchone()[0]  # type: ignore[index]


def test_a_used_database_comes_back_empty_renamed_with_its_ids_restarted(
    migrated_templates, monkeypatch
):
    with migrated_templates.postgres() as first:
        _fill(first, monkeypatch)
        assert len(_user_ids(first, monkeypatch)) == 4
        first_oid = _oid(first)
    with migrated_templates.postgres() as second:
        assert _oid(second) != first_oid
    with migrated_templates.postgres() as again:  # the pool holds two: the first comes back
        assert _oid(again) == first_oid
        assert again != first  # under a new name: the product caches some things per URL
        assert _user_ids(again, monkeypatch) == []
        _fill(again, monkeypatch)
        assert _user_ids(again, monkeypatch) == [1, 2, 3, 4]


def test_a_database_whose_schema_a_test_changed_is_replaced(migrated_templates, monkeypatch):
    with migrated_templates.postgres() as changed, psycopg.connect(changed) as connection:
        connection.execute('ALTER TABLE "user" ADD COLUMN leftover integer')
        changed_oid = _oid(changed)
    with migrated_templates.postgres():
        pass
    with migrated_templates.postgres() as next_one:
        assert _oid(next_one) != changed_oid
        with psycopg.connect(next_one) as connection:
            columns = connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'user'"
            ).fetchall()
        assert ("leftover",) not in columns


def _two_tenants() -> list[int]:
    with session_scope() as session:
        make_tenant(session, "a")
        make_tenant(session, "b")
    return _user_ids_now()


def _user_ids_now() -> list[int]:
    with session_scope() as session:
        return [user.id for user in session.exec(select(User).order_by(User.id))]


def test_seeded_postgres_data_is_loaded_whole_for_each_test_and_ids_go_on(
    migrated_templates, monkeypatch, tmp_path
):
    """What `build()` made, on a database of the pool: the same rows for each test, and the next
    row gets the next id (the sequences were loaded too)."""
    seeded = lambda: migrated_templates.seeded(  # noqa: E731
        "postgres", "db-test-two-tenants", _two_tenants, tmp_path / "unused.db", monkeypatch
    )
    with seeded() as built:
        assert len(built) == 8 and _user_ids_now() == built
        with session_scope() as session:
            make_tenant(session, "c")  # four more users
        assert _user_ids_now() == [*built, *range(built[-1] + 1, built[-1] + 5)]
    with seeded() as again:
        assert again == built and _user_ids_now() == built  # the third tenant is gone
