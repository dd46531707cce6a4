"""Seeded PostgreSQL test data as rows: dumped once from the database a fixture's `build()`
filled, and loaded with COPY into an emptied database of the pool for each test that asks.

A copy per test (`CREATE DATABASE ... TEMPLATE`) had to be dropped after it, and each drop makes
PostgreSQL run a checkpoint (see `_Pool` in databases.py); loading the few hundred rows a fixture
makes takes milliseconds, and the database goes back to the pool like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

_TABLES = """
SELECT tablename FROM pg_tables
 WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY tablename
"""
_SEQUENCES = """
SELECT sequencename, last_value FROM pg_sequences
 WHERE schemaname = 'public' AND last_value IS NOT NULL
"""


@dataclass(frozen=True)
class Rows:
    tables: tuple[tuple[str, bytes], ...]  # (table, its rows in COPY's text format)
    sequences: tuple[tuple[str, int], ...]  # (sequence, its last value)


def dump(url: str) -> Rows:
    """Every row of every table (alembic_version aside) and where each sequence stands."""
    tables = []
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        for (name,) in cursor.execute(_TABLES).fetchall():
            statement = sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(name))
            with cursor.copy(statement) as copy:
                data = b"".join(bytes(block) for block in copy)
            if data:
                tables.append((name, data))
        sequences = [(name, int(value)) for name, value in cursor.execute(_SEQUENCES)]
    return Rows(tuple(tables), tuple(sequences))


def load(url: str, rows: Rows) -> None:
    """The rows into an empty database of the same schema, in one transaction. Foreign keys are
    not checked while loading (replica role): the rows were consistent where they came from."""
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for name, data in rows.tables:
            statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(name))
            with cursor.copy(statement) as copy:
                copy.write(data)
        for name, value in rows.sequences:
            cursor.execute(
                sql.SQL("SELECT setval({}, %s)").format(sql.Literal(f'"{name}"')), (value,)
            )
