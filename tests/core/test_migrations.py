"""The one migration path builds exactly the models' schema, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from chatapp.core import migrations
from chatapp.core.db import build_engine


def test_upgrade_matches_models_and_downgrade_removes_everything(database_url):
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_object": migrations.include_object},
            )
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


def test_upgrading_a_database_that_already_holds_data(database_url):
    from sqlalchemy import text

    migrations.downgrade(database_url, "base")
    migrations.upgrade(database_url, "0001")
    engine = build_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO workspace (id, name, slug, plan, created_at) "
                    "VALUES (1, 'W', 'w', 'free', CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO bot (id, workspace_id, public_id, name, welcome_message, "
                    "instructions, fallback_message, avatar_url, accent_color, position, "
                    "show_button_text, button_text, status, message_limit, message_count, "
                    "quota_period_start, created_at, updated_at) VALUES (1, 1, 'bot_x', 'B', '', "
                    "'', '', '', '#000000', 'bottom-right', false, '', 'active', 10, 0, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO source (id, workspace_id, bot_id, kind, title, status, progress, "
                    "error, size_bytes, char_count, chunk_count, content_hash, meta, created_at, "
                    "updated_at) VALUES (1, 1, 1, 'text', 'T', 'ready', 1, '', 0, 0, 0, '', '{}', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        migrations.upgrade(database_url)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT url, attempts FROM source")).one()
        assert tuple(row) == ("", 0)
    finally:
        engine.dispose()
