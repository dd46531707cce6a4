"""The one migration path builds exactly the models' schema, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from chatapp.services import migrations
from chatapp.services.db import build_engine


def test_upgrade_matches_models_and_downgrade_removes_everything(database_url):
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        assert migrations.is_up_to_date(database_url)
        migrations.downgrade(database_url, "base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrations.upgrade(database_url)
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(database_url):
    migrations.upgrade(database_url)
    assert migrations.current_revision(database_url) == migrations.head_revision()
