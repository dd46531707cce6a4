"""The one migration path: Alembic with our metadata, run by `python -m chatapp migrate`.

The run command applies it before starting the app; Reflex's own `reflex db` commands are not used.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from alembic import command
from chatapp.core.db import build_engine, normalize_url

ROOT = Path(__file__).resolve().parents[2]

# Full-text search lives in the database but not in the models (alembic/versions/0007): SQLite's
# FTS5 table and its shadow tables, PostgreSQL's generated tsvector column and its GIN index.
FTS_TABLE_PREFIX = "chunk_fts"
FTS_COLUMN = "search_words"
FTS_INDEX = "ix_knowledgechunk_search_words"


def include_object(obj, name, type_, _reflected, _compare_to) -> bool:
    """Leave the full-text objects out of comparisons with the models (autogenerate, tests)."""
    if type_ == "table" and name and name.startswith(FTS_TABLE_PREFIX):
        return False
    if type_ == "column" and name == FTS_COLUMN:
        return False
    return not (type_ == "index" and name == FTS_INDEX)


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = normalize_url(database_url)
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database_url: str) -> str | None:
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_up_to_date(database_url: str) -> bool:
    return current_revision(database_url) == head_revision()
