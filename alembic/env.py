"""Alembic environment: our SQLModel metadata and the URL from chatapp's settings.

A caller may pass a URL with `config.attributes["database_url"]` (tests, the CLI); otherwise the
configured DATABASE_URL is used. SQLite gets batch mode so ALTER TABLE works there too.
"""

from sqlmodel import SQLModel

import chatapp.services.models  # noqa: F401  (registers every table on SQLModel.metadata)
from alembic import context
from chatapp.core.config import get_settings
from chatapp.core.db import build_engine, normalize_url
from chatapp.core.migrations import include_object

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return normalize_url(config.attributes.get("database_url") or get_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
