"""Migration 0009 (invitations) on SQLite and PostgreSQL: down removes only its table, up brings
it back empty beside the data already there, with the unique token index and the cascades."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from chatapp.core import migrations
from chatapp.core.db import build_engine

NOW = "CURRENT_TIMESTAMP"


def invitation_row(token_hash: str) -> str:
    return (
        "INSERT INTO invitation (workspace_id, role, email, token_hash, created_by, created_at, "
        f"expires_at) VALUES (1, 'agent', '', '{token_hash}', 1, {NOW}, {NOW})"
    )


def test_0009_adds_and_removes_only_the_invitation_table(database_url):
    migrations.downgrade(database_url, "0008")
    engine = build_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert "invitation" not in tables and {"membership", "auditentry"} <= tables
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO workspace (id, name, slug, plan, created_at) "
                    f"VALUES (1, 'W', 'w', 'free', {NOW})"
                )
            )
            connection.execute(
                text(
                    'INSERT INTO "user" (id, email, name, password_hash, is_active, created_at) '
                    f"VALUES (1, 'o@example.com', '', 'x', true, {NOW})"
                )
            )
        migrations.upgrade(database_url)
        engine.dispose()  # SQLite: a pooled connection may still hold the schema it read before
        indexes = {i["name"]: i["unique"] for i in inspect(engine).get_indexes("invitation")}
        assert indexes == {"ix_invitation_token_hash": True, "ix_invitation_workspace_id": False}
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM workspace")).scalar() == 1
            connection.execute(text(invitation_row("a" * 64)))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(invitation_row("a" * 64)))  # one row per token
        with engine.begin() as connection:
            connection.execute(text('DELETE FROM "user" WHERE id = 1'))
            assert connection.execute(text("SELECT created_by FROM invitation")).scalar() is None
            connection.execute(text("DELETE FROM workspace WHERE id = 1"))
            assert connection.execute(text("SELECT count(*) FROM invitation")).scalar() == 0
    finally:
        engine.dispose()
