"""embedded default: chunk vectors in the database, a full-text index per dialect, a knowledge version

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 11:00:00

The embedded default no longer keeps vectors in Qdrant's local mode (one process's folder): each
chunk row holds its vector (float16), every process searches a derived in-memory index per bot,
kept current by `bot.knowledge_version`, and lexical search is the database's own full-text index
(SQLite FTS5 kept by triggers, PostgreSQL a generated tsvector with a GIN index). Vectors of an
existing install are moved by `python -m chatapp migrate` (chatapp/services/knowledge/index/migrate_local_qdrant.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with chatapp/services/knowledge/lexical.py (which reads them) and migrations.FTS_NAMES.
# `scope` ('b' and the bot id) lets FTS5 keep one bot's matches inside its own index (no join per
# match) and rank them with ORDER BY rank LIMIT; the content table has no such column, so the FTS
# rows are written by the triggers (never by FTS5's 'rebuild').
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE chunk_fts USING fts5(scope, title, heading, text, "
    "content='knowledgechunk', content_rowid='rowid', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chunk_fts_insert AFTER INSERT ON knowledgechunk BEGIN "
    "INSERT INTO chunk_fts(rowid, scope, title, heading, text) "
    "VALUES (new.rowid, 'b' || new.bot_id, new.title, new.heading, new.text); END",
    "CREATE TRIGGER chunk_fts_delete AFTER DELETE ON knowledgechunk BEGIN "
    "INSERT INTO chunk_fts(chunk_fts, rowid, scope, title, heading, text) "
    "VALUES ('delete', old.rowid, 'b' || old.bot_id, old.title, old.heading, old.text); END",
    "CREATE TRIGGER chunk_fts_update AFTER UPDATE OF bot_id, title, heading, text "
    "ON knowledgechunk BEGIN "
    "INSERT INTO chunk_fts(chunk_fts, rowid, scope, title, heading, text) "
    "VALUES ('delete', old.rowid, 'b' || old.bot_id, old.title, old.heading, old.text); "
    "INSERT INTO chunk_fts(rowid, scope, title, heading, text) "
    "VALUES (new.rowid, 'b' || new.bot_id, new.title, new.heading, new.text); END",
    "INSERT INTO chunk_fts(rowid, scope, title, heading, text) "
    "SELECT rowid, 'b' || bot_id, title, heading, text FROM knowledgechunk",
    # how many chunks hold each word: lexical.py searches the rarest words first
    "CREATE VIRTUAL TABLE chunk_fts_terms USING fts5vocab(chunk_fts, 'row')",
]
POSTGRES_FTS = [
    "ALTER TABLE knowledgechunk ADD COLUMN search_words tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(heading, '') || ' ' || text)) "
    "STORED",
    "CREATE INDEX ix_knowledgechunk_search_words ON knowledgechunk USING gin (search_words)",
]


def upgrade() -> None:
    with op.batch_alter_table("knowledgechunk") as batch:
        batch.add_column(sa.Column("vector", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("bot") as batch:
        batch.add_column(
            sa.Column("knowledge_version", sa.Integer(), nullable=False, server_default="0")
        )
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("chunk_fts_insert", "chunk_fts_delete", "chunk_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS chunk_fts_terms")
        op.execute("DROP TABLE IF EXISTS chunk_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_knowledgechunk_search_words")
        op.execute("ALTER TABLE knowledgechunk DROP COLUMN IF EXISTS search_words")
    with op.batch_alter_table("bot") as batch:
        batch.drop_column("knowledge_version")
    with op.batch_alter_table("knowledgechunk") as batch:
        batch.drop_column("vector")
