"""`INSERT ... ON CONFLICT` for the two databases we run on (SQLite and PostgreSQL).

Both dialects speak the same upsert; SQLAlchemy only needs the dialect's own `insert` construct.
Upserts make counters and find-or-create race-safe without savepoints or retries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def dialect_insert(session: Session, model: Any):
    """The dialect's `insert(model)`, which has `.on_conflict_do_update/do_nothing`."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"Unsupported database {name!r}: use SQLite or PostgreSQL.")
