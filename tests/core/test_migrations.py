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


NOW = "CURRENT_TIMESTAMP"


def contact_row(contact_id: str) -> str:
    return (
        "INSERT INTO contact (id, workspace_id, bot_id, name, email, phone, external_id, "
        f"created_at, last_seen_at) VALUES ({contact_id}, 1, 1, 'C', '', '', '', {NOW}, {NOW})"
    )


def rows_before_0008() -> list[str]:
    """A workspace, a bot, contacts 2 and 5, a conversation of contact 5, and the audit log's
    entry for contact 7 (erased)."""
    return [
        "INSERT INTO workspace (id, name, slug, plan, created_at, default_message_limit) "
        f"VALUES (1, 'W', 'w', 'free', {NOW}, NULL)",
        "INSERT INTO bot (id, workspace_id, public_id, name, welcome_message, instructions, "
        "fallback_message, avatar_url, accent_color, position, show_button_text, button_text, "
        "status, message_limit, message_count, quota_period_start, created_at, updated_at, "
        "starter_questions, allowed_domains, model, temperature, description, audiences, "
        "is_router) VALUES (1, 1, 'bot_x', 'B', '', '', '', '', '#000000', 'bottom-right', 0, "
        f"'', 'active', 10, 0, {NOW}, {NOW}, {NOW}, '[]', '[]', '', 0.3, '', '[]', 0)",
        contact_row("2"),
        contact_row("5"),
        "INSERT INTO conversation (id, workspace_id, bot_id, session_id, channel, status, "
        "contact_id, message_count, started_at, last_message_at) VALUES (3, 1, 1, "
        f"'visitor-0001', 'widget', 'bot', 5, 0, {NOW}, {NOW})",
        "INSERT INTO auditentry (workspace_id, actor, action, target_type, target_id, changes, "
        f"ip, created_at) VALUES (1, 'o', 'contact.erase', 'contact', '7', '{{}}', '', {NOW})",
    ]


def test_0008_keeps_rows_ids_and_links_and_never_reuses_an_id(sqlite_url):
    """SQLite tables rebuilt with AUTOINCREMENT: rows, ids and the conversations' links to their
    contact survive (no ON DELETE action fired), and new ids start above every id in use or
    named by the audit log (contact 7 was erased before the upgrade)."""
    from sqlalchemy import text

    migrations.downgrade(sqlite_url, "0007")
    engine = build_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            for statement in rows_before_0008():
                connection.execute(text(statement))
        migrations.upgrade(sqlite_url)
        with engine.begin() as connection:
            run = connection.execute
            assert run(text("SELECT contact_id FROM conversation WHERE id = 3")).scalar() == 5
            assert run(text("SELECT id FROM contact ORDER BY id")).scalars().all() == [2, 5]
            assert run(text("PRAGMA foreign_key_check")).all() == []
            run(text(contact_row("NULL")))
            assert run(text("SELECT max(id) FROM contact")).scalar() == 8  # above erased 7
            sql = run(text("SELECT sql FROM sqlite_master WHERE name = 'source'")).scalar()
            assert "AUTOINCREMENT" in sql and "ON DELETE CASCADE" in sql
            indexes = run(
                text("SELECT name FROM sqlite_master WHERE tbl_name = 'conversation'")
            ).scalars()
            assert {"ix_conversation_contact_id", "ix_conversation_session_id"} <= set(indexes)
            # a workspace deleted still cascades to its contacts (the rebuilt foreign keys)
            run(text("DELETE FROM workspace WHERE id = 1"))
            assert run(text("SELECT count(*) FROM contact")).scalar() == 0
        migrations.downgrade(sqlite_url, "0007")
        with engine.connect() as connection:
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'contact'"))
            assert "AUTOINCREMENT" not in sql.scalar()
        migrations.upgrade(sqlite_url)
    finally:
        engine.dispose()
